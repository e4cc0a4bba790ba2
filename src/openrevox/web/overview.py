"""The overview: calls per day, answer rate, results breakdown and average talk time for
a chosen period; the page carries the figures and a small bundled script
(``static/charts.js``) draws the charts in the browser."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from openrevox.store.repositories import overview
from openrevox.store.repositories.overview import AttemptFacts
from openrevox.web.auth import require_visitor
from openrevox.web.context import web_services
from openrevox.web.templating import page

PERIODS = (7, 30, 90)


def summarize(facts: list[AttemptFacts], first_day: datetime, days: int) -> dict[str, Any]:
    """Per day (UTC) the attempts made and answered; the results (a dial error when the
    call was never answered); the answer rate; the mean answered-to-end time."""
    per_day = {(first_day + timedelta(days=i)).date().isoformat(): [0, 0] for i in range(days)}
    results: Counter[str] = Counter()
    talk: list[float] = []
    answered = 0
    for fact in facts:
        day = per_day.get(fact.created_at.astimezone(UTC).date().isoformat())
        if day is not None:
            day[0] += 1
        if fact.answered_at is not None:
            answered += 1
            if day is not None:
                day[1] += 1
            if fact.ended_at is not None:
                talk.append(max((fact.ended_at - fact.answered_at).total_seconds(), 0.0))
        results[
            fact.result or (f"dial error: {fact.dial_error}" if fact.dial_error else "none")
        ] += 1
    total = len(facts)
    return {
        "total": total,
        "answered": answered,
        "answer_rate": (100.0 * answered / total) if total else None,
        "average_seconds": (sum(talk) / len(talk)) if talk else None,
        "per_day": [{"day": d, "calls": v[0], "answered": v[1]} for d, v in per_day.items()],
        "results": [{"result": r, "count": n} for r, n in results.most_common()],
    }


async def overview_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    services = web_services(request)
    raw = request.query_params.get("days", "30")
    if not raw.isdigit() or int(raw) not in PERIODS:
        raise HTTPException(400, f"days is one of {', '.join(map(str, PERIODS))}")
    days = int(raw)
    now = services.clock.now().astimezone(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    first_day = today - timedelta(days=days - 1)
    async with services.db.read() as conn:
        facts = await overview.attempts_between(
            conn,
            organization_id=visitor.principal.organization_id,
            mode=visitor.principal.mode,
            start=first_day,
            end=today + timedelta(days=1),
        )
    figures = summarize(facts, first_day, days)
    return page(
        "overview.html",
        {
            **visitor.context(),
            "days": days,
            "periods": PERIODS,
            "figures": figures,
            "per_day_json": orjson.dumps(figures["per_day"]).decode(),
            "results_json": orjson.dumps(figures["results"]).decode(),
        },
    )
