"""The dispatcher routes each attempt as call creation does (domain/routing.py): an order
accepted for a carrier that the worker does not have (the configuration changed since)
is never simulated. Its attempt ends ``error`` with ``openrevox.error_reason``
``no_route``, nothing is dialled, and the retry policy applies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import revox
import sqlalchemy as sa

from openrevox.store.tables import sim_ledger
from tests.api.test_routing import REAL, TWILIO_LINE, add_carrier_line
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done


@pytest.fixture(scope="module")
def carrier_api(
    engine: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """An API process on the engine's database configured with a carrier (and an LLM)."""
    settings = make_settings(
        engine.settings.database_url,
        tmp_path_factory.mktemp("carrier-api"),
        telephony_provider="sim,twilio",
        local_speech="allow",  # a live call to a real number may be created
        twilio_account_sid="AC" + "0" * 32,  # never called: these tests dial nothing
        twilio_auth_token="unused",
        llm_base_url="http://127.0.0.1:9/v1",
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def test_an_attempt_no_provider_of_the_worker_takes_is_not_dialled(
    engine: LiveServer, carrier_api: LiveServer
) -> None:
    org = engine.new_org()
    add_carrier_line(engine, org)
    accepted = revox.Revox(api_key=org.live_key, base_url=f"{carrier_api.url}/api", max_retries=0)
    call_id = accepted.call.create(
        phone_number=REAL,
        from_phone_number=TWILIO_LINE,
        assistant={"prompt": "p", "call_retry_config": retry_config(1)},  # type: ignore[typeddict-item]
        skip_calling_window=True,
    ).call.id

    # The engine's worker has the simulated network only (no carrier configured).
    strict = revox.Revox(
        api_key=org.live_key,
        base_url=f"{engine.url}/api",
        max_retries=0,
        _strict_response_validation=True,
    )
    done = wait_until_done(strict, call_id)
    (attempt,) = done.call_attempts
    assert attempt.status == "error" and attempt.end_reason == "client_initiated"
    assert attempt.ended_by == "system"
    facts = (attempt.model_extra or {})["openrevox"]
    assert facts["error_reason"] == "no_route"
    assert "no carrier is configured" in facts["error_detail"]
    assert attempt.answered_at is None and not attempt.transcript

    async def dialled() -> int:
        async with engine.app.state.services.db.read() as conn:
            found = await conn.execute(
                sa.select(sa.func.count()).where(sim_ledger.c.call_order_id == call_id)
            )
            return int(found.scalar_one())

    assert engine.run(dialled()) == 0  # the simulated network never saw it
