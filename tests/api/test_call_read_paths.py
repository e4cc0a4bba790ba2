"""GET /call/{id} reads straight on the driver (store/sqlite_reads.py, store/pg_reads.py),
into rows ready to write out (store/call_rows.py): they must write exactly what the
repository's get_view writes, on both backends, for orders with 0, 1 and 3 attempts,
with and without recordings, in and out of a campaign, and nothing for another
organization or mode. Writes show at once (nothing is cached)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import sqlalchemy as sa

from openrevox.api.deps import AppServices
from openrevox.domain.call_rows import CallRows
from openrevox.domain.clock import iso
from openrevox.results.recording_links import RecordingLinks, RecordingSigner
from openrevox.services.calls import order_values
from openrevox.store.call_rows import iso_of_stored
from openrevox.store.repositories import accounts, calls
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import AttemptRecord, CallOrderRecord, CallView
from openrevox.store.tables import call_attempts, campaigns
from openrevox.wire import _iso, call_rows_wire, call_wire
from tests.conftest import LiveServer, Org

BASE = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
SNAPSHOT: dict[str, Any] = {
    "id": "asst-1",
    "name": 'Café ☕ « quotes » "and" \\ backslashes',
    "prompt": "line one\nline two\ttab \u2028 and emoji 🎉",
    "first_sentence_delay_ms": 250,
    "llm_model": {"type": "dedicated-instance", "provider": "openai", "model": "gpt-4.1"},
    "temperature": 0.7,
    "big": 2**53 + 1,
    "nested": {"list": [1, 2.5, None, True, False, {"deep": []}], "empty": {}},
    "transfer_destinations": None,
}
RETRY: dict[str, Any] = {"max_retry_attempts": 3, "retry_delay_seconds": 60}


@dataclass
class Seeded:
    principal: Principal
    empty: str  # no attempt yet (scheduled)
    one: str  # one attempt, still ringing
    three: str  # three finished attempts, recordings
    in_campaign: str


def _attempt(call_id: str, org_id: str, number: int, **values: Any) -> dict[str, Any]:
    started = BASE + timedelta(hours=number, microseconds=number * 1001)
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "call_order_id": call_id,
        "organization_id": org_id,
        "attempt_number": number,
        "status": "completed",
        "phone_number": "+12125550100",
        "dial_error": None,
        "result": "human",
        "ended_by": "agent",
        "end_reason": "tool_end_call",
        "handled_by_ai": True,
        "handled_by_human": False,
        "transcript": None,
        "structured_output": None,
        "recording_key": None,
        "openrevox": None,
        "speech_events": None,
        "created_at": started,
        "started_at": started,
        # A millisecond figure that rounding would change: timestamps are truncated.
        "answered_at": started + timedelta(seconds=5, microseconds=864_198),
        "ended_at": started.replace(microsecond=0) + timedelta(seconds=65),
    }
    row.update(values)
    return row


async def _seed(services: AppServices, org: Org) -> Seeded:
    async with services.db.transaction() as conn:
        principal = await accounts.find_principal(conn, org.live_key)
        assert principal is not None
        org_id = principal.organization_id
        snapshot_id = await calls.insert_snapshot(
            conn, organization_id=org_id, content=SNAPSHOT, now=BASE
        )
        campaign_id = str(uuid.uuid4())
        await conn.execute(
            sa.insert(campaigns).values(
                id=campaign_id,
                organization_id=org_id,
                mode=principal.mode,
                assistant_id="asst-1",
                name="Spring « campaign »",
                status="running",
                is_cancelled=False,
                created_at=BASE,
                updated_at=BASE,
            )
        )
        ids = [str(uuid.uuid4()) for _ in range(4)]
        for index, call_id in enumerate(ids):
            values = order_values(
                call_id=call_id,
                principal=principal,
                assistant_id="asst-1",
                snapshot_id=snapshot_id,
                retry_config=RETRY,
                timezone="Europe/Paris",
                to_number="+12125550100",
                from_number="+12125550199",
                status="scheduled" if index == 0 else "calling",
                due=BASE + timedelta(days=1) if index == 0 else BASE,
                prompt_variables=None if index == 0 else {"first_name": "Zoë", "x": "1"},
                metadata=None if index == 0 else {"crm": "42", "quote": '"'},
                now=BASE,
                campaign_id=campaign_id if index == 3 else None,
            )
            await calls.insert_order(conn, values)
        one = _attempt(ids[1], org_id, 1, status="ringing", result=None, ended_by=None)
        one.update(end_reason=None, answered_at=None, ended_at=None)
        three = [
            _attempt(ids[2], org_id, 1, result="voicemail", recording_key="rec/1.ogg"),
            _attempt(
                ids[2],
                org_id,
                2,
                result="IVR",
                handled_by_ai=False,
                status="error",
                end_reason="connection_timeout",
                openrevox={"error_reason": "worker_lost", "note": "« ☕ »", "n": [1.5, None]},
                transcript=[{"role": "assistant", "content": "Bonjour «»"}, {"role": "user"}],
            ),
            _attempt(
                ids[2],
                org_id,
                3,
                transcript=[
                    {"role": "tool", "content": "ok", "tool_arguments": {"slot": 1.5}},
                ],
                structured_output={"confirmed": True, "notes": None, "n": [1, 2]},
                recording_key="rec/3.ogg",
                speech_events=[
                    {
                        "id": "e1",
                        "speaker": "agent",
                        "started_speaking_at_ms": 120.0,
                        "stopped_speaking_at_ms": 1880.5,
                        "transcript": "Bonjour « ☕ »",
                        "is_real_turn": True,
                        "stt_transcription_delay_ms": None,
                        "llm_system_prompt": None,
                        "llm_ttft_ms": 301.2,
                        "llm_winner_model": "gpt-4.1",
                        "tts_ttfb_ms": 92.0,
                        "was_cut": True,
                    },
                    {
                        "id": "e2",
                        "speaker": "user",
                        "started_speaking_at_ms": 2000,
                        "stopped_speaking_at_ms": None,
                        "transcript": None,
                        "is_real_turn": False,
                        "stt_transcription_delay_ms": 350.0,
                        "llm_system_prompt": None,
                        "llm_ttft_ms": None,
                        "llm_winner_model": None,
                        "tts_ttfb_ms": None,
                        "was_cut": None,
                    },
                ],
            ),
        ]
        in_campaign = _attempt(ids[3], org_id, 1, dial_error="busy", answered_at=None)
        await conn.execute(sa.insert(call_attempts), [one, *three, in_campaign])
    return Seeded(principal, *ids)


async def _orm_view(services: AppServices, principal: Principal, call_id: str) -> CallView | None:
    async with services.db.read() as conn:
        return await calls.get_view(
            conn, organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )


def _fast_view(
    server: LiveServer, *, organization_id: str, mode: str, call_id: str
) -> CallRows | None:
    services: AppServices = server.app.state.services
    if services.sqlite_reader is not None:
        return services.sqlite_reader.view(
            organization_id=organization_id, mode=mode, call_id=call_id
        )
    assert services.pg_reader is not None, "no fast read on this backend"
    return server.run(
        services.pg_reader.view(organization_id=organization_id, mode=mode, call_id=call_id)
    )


def _unsigned(body: bytes) -> bytes:
    """Without the recording links' expiry and signature (they move each minute)."""
    return re.sub(rb"expires=\d+&signature=[0-9a-f]+", b"", body)


def _fast_wire(services: AppServices, rows: CallRows) -> bytes:
    urls = services.recording_links().of_rows(rows.attempts)
    return orjson.dumps({"call": call_rows_wire(rows, urls)})


def _orm_wire(services: AppServices, view: CallView) -> bytes:
    return orjson.dumps({"call": call_wire(view, services.recording_links())})


def _assert_same_body(services: AppServices, got: bytes, expected: bytes) -> None:
    """The same JSON; on SQLite the same bytes too. PostgreSQL keeps JSON columns as
    jsonb, whose text (written out as is) spaces and orders keys its own way."""
    assert orjson.loads(_unsigned(got)) == orjson.loads(_unsigned(expected))
    if services.sqlite_reader is not None:
        assert _unsigned(got) == _unsigned(expected)


@pytest.fixture
def seeded(server: LiveServer, org: Org) -> Seeded:
    return server.run(_seed(server.app.state.services, org))


def test_fast_read_writes_what_the_repository_read_writes(
    server: LiveServer, seeded: Seeded
) -> None:
    services: AppServices = server.app.state.services
    principal = seeded.principal
    for call_id, count in (
        (seeded.empty, 0),
        (seeded.one, 1),
        (seeded.three, 3),
        (seeded.in_campaign, 1),
    ):
        expected = server.run(_orm_view(services, principal, call_id))
        fast = _fast_view(
            server, organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
        assert expected is not None and fast is not None
        assert len(fast.attempts) == count
        assert [a.id for a in fast.attempts] == [a.id for a in expected.attempts]  # newest first
        _assert_same_body(services, _fast_wire(services, fast), _orm_wire(services, expected))
        # The values written as they are have their wire types (a stored 0 or 1 must not
        # come out as a number where the contract says boolean).
        assert all(type(a.handled_by_ai) is bool for a in fast.attempts)
    three = _fast_view(
        server, organization_id=principal.organization_id, mode=principal.mode, call_id=seeded.three
    )
    assert three is not None
    # Attempt 2 has no stored recording but a transcript with speech: one is made from it.
    assert [a.has_audio for a in three.attempts] == [True, True, True]
    assert three.attempts[0].answered_at == _iso(
        BASE + timedelta(hours=3, seconds=5, microseconds=867_201)
    )
    campaign = _fast_view(
        server,
        organization_id=principal.organization_id,
        mode=principal.mode,
        call_id=seeded.in_campaign,
    )
    assert campaign is not None and campaign.order.campaign_name == "Spring « campaign »"


def test_links_of_rows_are_the_links_of_records(server: LiveServer, seeded: Seeded) -> None:
    """Recording links from the rows (timestamps as text) and from the records agree,
    inside retention and past it."""
    services: AppServices = server.app.state.services
    principal = seeded.principal
    signer = services.recording_signer
    view = server.run(_orm_view(services, principal, seeded.three))
    rows = _fast_view(
        server, organization_id=principal.organization_id, mode=principal.mode, call_id=seeded.three
    )
    assert view is not None and rows is not None
    # Attempt 1 was created at BASE + 1 h: a cutoff of 60 days ends 1 h after it.
    for now, days in ((BASE, None), (BASE + timedelta(days=60, hours=2), 60.0), (BASE, 1.0)):
        links = RecordingLinks(signer, now, days)
        by_record = [links(attempt) for attempt in view.attempts]
        assert links.of_rows(rows.attempts) == by_record
    links = RecordingLinks(signer, BASE + timedelta(days=60, hours=2), 60.0)
    assert [link is not None for link in links.of_rows(rows.attempts)] == [True, True, False]


def test_fast_read_is_scoped_to_the_organization_and_mode(
    server: LiveServer, seeded: Seeded
) -> None:
    org_id, mode = seeded.principal.organization_id, seeded.principal.mode
    other_mode = "test" if mode == "live" else "live"
    for organization_id, wanted_mode, call_id in (
        ("another-org", mode, seeded.three),
        (org_id, other_mode, seeded.three),
        (org_id, mode, str(uuid.uuid4())),
    ):
        assert (
            _fast_view(server, organization_id=organization_id, mode=wanted_mode, call_id=call_id)
            is None
        )


def test_get_call_body_is_the_wire_of_the_repository_read(
    server: LiveServer, seeded: Seeded, org: Org
) -> None:
    services: AppServices = server.app.state.services
    for call_id in (seeded.empty, seeded.one, seeded.three, seeded.in_campaign):
        response = httpx.get(
            f"{server.url}/api/call/{call_id}",
            headers={"Authorization": f"Bearer {org.live_key}"},
        )
        assert response.status_code == 200
        view = server.run(_orm_view(services, seeded.principal, call_id))
        assert view is not None
        _assert_same_body(services, response.content, _orm_wire(services, view))
    body = orjson.loads(
        httpx.get(
            f"{server.url}/api/call/{seeded.three}",
            headers={"Authorization": f"Bearer {org.live_key}"},
        ).content
    )["call"]
    links = [attempt["recording_url"] for attempt in body["call_attempts"]]
    assert all(link and "/recordings/" in link for link in links)


def test_get_call_of_another_organization_is_404(
    server: LiveServer, seeded: Seeded, org: Org
) -> None:
    stranger = server.new_org()
    for key in (stranger.live_key, org.test_key):  # another organization; another mode
        response = httpx.get(
            f"{server.url}/api/call/{seeded.three}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 404
        assert response.json()["error"]["param"] == "id"


def test_writes_show_at_once(server: LiveServer, seeded: Seeded, org: Org) -> None:
    """Nothing is cached: a call changes while it runs, and every read must see it."""
    services: AppServices = server.app.state.services
    headers = {"Authorization": f"Bearer {org.live_key}"}
    url = f"{server.url}/api/call/{seeded.one}"
    assert httpx.get(url, headers=headers).json()["call"]["status"] == "calling"

    async def finish() -> None:
        async with services.db.transaction() as conn:
            await calls.update_order(
                conn, seeded.one, {"status": "completed", "outcome": "appointment_confirmed"}
            )
            await conn.execute(
                sa.update(call_attempts)
                .where(call_attempts.c.call_order_id == seeded.one)
                .values(status="completed", result="human", ended_at=BASE + timedelta(hours=2))
            )
            org_id = seeded.principal.organization_id
            await conn.execute(sa.insert(call_attempts), [_attempt(seeded.one, org_id, 2)])

    server.run(finish())
    call = httpx.get(url, headers=headers).json()["call"]
    assert call["status"] == "completed"
    assert call["outcome"] == "appointment_confirmed"
    assert [a["status"] for a in call["call_attempts"]] == ["completed", "completed"]
    assert call["last_call_attempt"]["result"] == "human"


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_views_read_together_each_get_their_own_answer(
    server: LiveServer, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads the views wanted at the same time together, shared out over its
    statements: each request still gets exactly its own view, None for another
    organization's or mode's call, and a request that makes a statement fail fails
    alone."""
    services: AppServices = server.app.state.services
    reader = services.pg_reader
    assert reader is not None
    principal = seeded.principal
    org_id, mode = principal.organization_id, principal.mode
    statements: list[int] = []
    fetch = reader._fetch

    async def counting_fetch(keys: list[tuple[str, str, str]]) -> Any:
        statements.append(len(keys))
        return await fetch(keys)

    monkeypatch.setattr(reader, "_fetch", counting_fetch)
    own = [seeded.empty, seeded.one, seeded.three, seeded.in_campaign] * 3
    wanted = [(call_id, org_id, mode) for call_id in own] + [
        (seeded.three, "another-org", mode),
        (seeded.three, org_id, "test" if mode == "live" else "live"),
        (str(uuid.uuid4()), org_id, mode),
    ]

    async def read_all(bad_too: bool) -> list[Any]:
        views = [
            reader.view(organization_id=org, mode=wanted_mode, call_id=call_id)
            for call_id, org, wanted_mode in wanted
        ]
        if bad_too:  # PostgreSQL refuses NUL characters: the statement fails
            views.append(reader.view(organization_id=org_id, mode=mode, call_id="nul\x00id"))
        return await asyncio.gather(*views, return_exceptions=True)

    unique = len(set(wanted))
    for bad_too in (False, True):
        statements.clear()
        *views, last = server.run(read_all(bad_too))
        wanted_views = unique + bad_too
        # The distinct views, shared out over the reader's 2 statements (4 and 3, or 4
        # and 4 with the bad one).
        shares = statements[:2]
        assert sorted(shares) == [wanted_views // 2, (wanted_views + 1) // 2]
        if bad_too:
            assert isinstance(last, Exception)
            # The statement holding the bad view failed: each of its views was then read
            # alone, and the bad one failed by itself.
            assert statements[2:] == [1] * shares[0] or statements[2:] == [1] * shares[1]
        else:
            views.append(last)
            assert statements == shares  # 15 requests, 7 distinct views, 2 statements
        assert views[len(own) :] == [None, None, None]
        for call_id, view in zip(own, views[: len(own)], strict=True):
            expected = server.run(_orm_view(services, principal, call_id))
            assert expected is not None and isinstance(view, CallRows)
            _assert_same_body(services, _fast_wire(services, view), _orm_wire(services, expected))
        assert not reader._waiting


def test_fast_timestamps_are_the_contract_shape() -> None:
    """call_wire formats the stores' aware UTC datetimes itself (a lookup per field), and
    anything else through clock.iso: both give the same text."""
    plus_two = timezone(timedelta(hours=2))
    for value in (
        BASE,
        BASE.replace(microsecond=0),
        BASE.replace(microsecond=999),
        BASE.replace(microsecond=999_999),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        BASE.astimezone(plus_two),
        datetime(2026, 3, 2, 23, 30, tzinfo=plus_two),
    ):
        assert _iso(value) == iso(value), value
        # SQLite holds them as naive UTC text, which the fast read cuts into shape.
        stored = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        assert iso_of_stored(stored) == iso(value), stored
        assert iso_of_stored(stored[:19]) == iso(value.replace(microsecond=0)), stored
    assert _iso(None) is None


def test_recording_links_are_hmac_sha256_of_the_derived_key() -> None:
    """The signer keys its HMAC once and copies it per link, and skips quoting ids that
    need none: the links are still exactly HMAC-SHA256(key, "<id>\\n<expires>") of the
    key derived from the secret, at the quoted id."""
    signer = RecordingSigner(b"s3cret", public_url="https://calls.example.com/")
    key = hmac.new(b"s3cret", b"openrevox recording links v1", hashlib.sha256).digest()
    expires = 1_772_445_600
    for attempt_id in (str(uuid.uuid4()), "A-z_0.9~", "", "a b/c?d=é&", "ü", "a%2F"):
        expected = hmac.new(key, f"{attempt_id}\n{expires}".encode(), hashlib.sha256).hexdigest()
        assert signer.signature(attempt_id, expires) == expected
        assert signer.url(attempt_id, expires) == (
            f"https://calls.example.com/recordings/{quote(attempt_id, safe='')}.wav"
            f"?expires={expires}&signature={expected}"
        )
        signer.verify(attempt_id, expires, expected, BASE)
    # Copies of the keyed HMAC share nothing: signing in between changes no other link.
    first = signer.signature("a", expires)
    signer.signature("b", expires)
    assert signer.signature("a", expires) == first


def test_records_compare_and_hash_as_frozen_dataclasses() -> None:
    """The records are frozen to the type checker only (building a frozen dataclass costs
    an object.__setattr__ per field): equality and hashing stay those of a frozen one."""
    values: dict[str, Any] = {field.name: None for field in dataclasses.fields(AttemptRecord)} | {
        "id": "a1",
        "attempt_number": 1,
        "handled_by_ai": True,
        "created_at": BASE,
    }
    attempt = AttemptRecord(**values)
    twin = AttemptRecord(**values)
    assert attempt == twin and hash(attempt) == hash(twin)
    assert attempt != dataclasses.replace(attempt, attempt_number=2)
    assert len({attempt, twin}) == 1
    assert not hasattr(attempt, "__dict__")  # slots: no stray attribute
    assert AttemptRecord.__slots__ == tuple(f.name for f in dataclasses.fields(AttemptRecord))
    assert CallOrderRecord.__slots__ == tuple(f.name for f in dataclasses.fields(CallOrderRecord))
