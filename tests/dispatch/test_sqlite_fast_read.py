"""GET /call's SQLite fast path writes exactly what the SQLAlchemy path does, for a call
the engine has just carried (its rows as the engine wrote them)."""

from __future__ import annotations

import orjson
import pytest
import revox

from openrevox.store.repositories import calls
from openrevox.store.sqlite_reads import SqliteCallReader, sqlite_path
from openrevox.wire import call_rows_wire, call_wire
from tests.conftest import LiveServer, Org
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # PostgreSQL has no fast path
def test_fast_read_equals_the_engine_read(
    engine: LiveServer, engine_org: Org, caller: revox.Revox
) -> None:
    path = sqlite_path(engine.settings.database_url)
    assert path is not None
    config = {
        "prompt": "p",
        "structured_output_config": [{"name": "email", "required": True, "type": "string"}],
        "call_retry_config": retry_config(3),
    }
    call_id = caller.call.create(
        phone_number="+12125550151",
        assistant=config,
        metadata={"k": "v"},  # type: ignore[arg-type]
    ).call.id
    wait_until_done(caller, call_id)

    async def slow() -> calls.CallView | None:
        async with engine.app.state.services.db.read() as conn:
            return await calls.get_view(
                conn, organization_id=engine_org.id, mode="test", call_id=call_id
            )

    expected = engine.run(slow())
    fast = SqliteCallReader(path).view(organization_id=engine_org.id, mode="test", call_id=call_id)
    assert expected is not None and fast is not None
    assert len(fast.attempts) == 2
    links = engine.app.state.services.recording_links()
    assert orjson.dumps(call_rows_wire(fast, links.of_rows(fast.attempts))) == orjson.dumps(
        call_wire(expected, links)
    )
    assert (
        SqliteCallReader(path).view(organization_id="other", mode="test", call_id=call_id) is None
    )
