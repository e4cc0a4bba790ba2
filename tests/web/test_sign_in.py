"""Sign-in, sessions and CSRF over real HTTP: hardened cookies, sessions stored hashed,
sign-out, one-time links, wrong passwords slowed down across processes, and every form
refusing a post without its synchronizer token."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import revox
import sqlalchemy as sa

from openrevox.services import sign_in
from openrevox.store.tables import web_sessions
from tests.conftest import LiveServer
from tests.web.conftest import (
    PASSWORD,
    User,
    csrf_of,
    drop_database,
    fresh_databases,
    new_user,
    signed_in_client,
    start_dashboard,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_root_redirects_to_the_dashboard_and_pages_ask_to_sign_in(dashboard: LiveServer) -> None:
    root = httpx.get(f"{dashboard.url}/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/app/"
    # The API's own root (/api is / to the API) still answers as the API does.
    api_root = httpx.get(f"{dashboard.url}/api", follow_redirects=False)
    assert api_root.status_code == 404 and api_root.json()["error"]["type"]
    page = httpx.get(f"{dashboard.url}/app/calls", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/app/sign-in?next=/app/calls"
    # Fragments and streams are not redirected to a form: they answer 401.
    stream = httpx.get(f"{dashboard.url}/app/calls/x/live", headers={"accept": "*/*"})
    assert stream.status_code == 401


def test_the_session_cookie_is_http_only_same_site_and_secure_over_https(
    dashboard: LiveServer,
) -> None:
    user = new_user(dashboard)
    client = httpx.Client(base_url=dashboard.url, follow_redirects=False)
    token = csrf_of(client.get("/app/sign-in").text)
    form = {"csrf": token, "email": user.email, "password": user.password, "next": ""}
    answer = client.post("/app/sign-in", data=form)
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303 and answer.headers["location"] == "/app/calls"
    assert "openrevox_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/app" in cookie and "max-age=604800" in cookie
    assert "secure" not in cookie.split("openrevox_presession")[0]
    # Behind a TLS proxy (uvicorn trusts X-Forwarded-Proto from loopback): Secure.
    headers = {"x-forwarded-proto": "https"}
    shown = httpx.get(f"{dashboard.url}/app/sign-in", headers=headers)
    nonce = shown.headers["set-cookie"].split(";")[0]  # Secure: sent back by hand over http
    assert "Secure" in shown.headers["set-cookie"]
    answer = httpx.post(
        f"{dashboard.url}/app/sign-in",
        headers={**headers, "cookie": nonce},
        data={**form, "csrf": csrf_of(shown.text)},
    )
    session_cookie = next(
        value for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith("openrevox_session=")
    )  # fmt: skip
    assert "Secure" in session_cookie


def test_sessions_are_stored_hashed_and_sign_out_ends_them(dashboard: LiveServer) -> None:
    user = new_user(dashboard)
    client = signed_in_client(dashboard, user)
    token = client.cookies["openrevox_session"]

    async def stored() -> list[str]:
        async with dashboard.app.state.services.db.read() as conn:
            rows = await conn.execute(
                sa.select(web_sessions.c.token_hash).where(web_sessions.c.user_id == user.user_id)
            )
            return [row.token_hash for row in rows]

    hashes = dashboard.run(stored())
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    page = client.get("/app/calls")
    assert page.status_code == 200 and user.email in page.text
    answer = client.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/app/sign-in"
    assert dashboard.run(stored()) == []
    replayed = httpx.get(
        f"{dashboard.url}/app/calls",
        cookies={"openrevox_session": token},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert replayed.status_code == 303  # the old cookie signs nobody in


def test_an_expired_session_signs_nobody_in(dashboard: LiveServer) -> None:
    user = new_user(dashboard)
    client = signed_in_client(dashboard, user)
    assert client.get("/app/calls").status_code == 200

    async def expire() -> None:
        async with dashboard.app.state.services.db.transaction() as conn:
            await conn.execute(
                sa.update(web_sessions)
                .where(web_sessions.c.user_id == user.user_id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    dashboard.run(expire())
    answer = client.get("/app/calls", headers={"accept": "text/html"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/app/sign-in")


def test_a_one_time_link_signs_in_once(dashboard: LiveServer) -> None:
    user = new_user(dashboard)

    async def link() -> str:
        async with dashboard.app.state.services.db.transaction() as conn:
            return await sign_in.create_link(conn, user.user_id, datetime.now(UTC))

    token = dashboard.run(link())
    client = httpx.Client(base_url=dashboard.url, follow_redirects=False)
    # Opening the link (as a mail scanner would) uses nothing up: the button does.
    for _ in range(2):
        page = client.get(f"/app/sign-in/link/{token}")
        assert page.status_code == 200
    answer = client.post("/app/sign-in/link", data={"csrf": csrf_of(page.text), "token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/app/calls"
    assert user.email in client.get("/app/calls").text
    again = httpx.Client(base_url=dashboard.url, follow_redirects=False)
    page = again.get(f"/app/sign-in/link/{token}")
    answer = again.post("/app/sign-in/link", data={"csrf": csrf_of(page.text), "token": token})
    assert answer.status_code == 400 and "already used or has expired" in answer.text


def _forms(server: LiveServer, user: User) -> tuple[httpx.Client, list[str]]:
    """A signed-in client and the path of every form that changes something."""
    client = signed_in_client(server, user)
    caller = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = caller.assistants.create(name="Forms", prompt="p").assistant
    call = caller.call.create(
        phone_number="+12125550100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    return client, [
        "/app/sign-out",
        "/app/mode",
        f"/app/calls/{call.id}/webhooks/msg_0/replay",
    ]


def test_every_form_refuses_a_post_without_its_csrf_token(dashboard: LiveServer) -> None:
    user = new_user(dashboard)
    client, paths = _forms(dashboard, user)
    good = csrf_of(client.get("/app/calls").text)
    for path in paths:
        for data in ({"mode": "live"}, {"mode": "live", "csrf": "forged" + good[6:]}):
            answer = client.post(path, data=data)
            assert answer.status_code == 403, (path, data, answer.status_code)
            assert "CSRF token is missing or wrong" in answer.text
    # The forms shown before a session exists carry one too.
    anonymous = httpx.Client(base_url=dashboard.url, follow_redirects=False)
    anonymous.get("/app/sign-in")
    for path, data in (
        ("/app/sign-in", {"email": user.email, "password": user.password}),
        ("/app/sign-in/link", {"token": "x"}),
    ):
        assert anonymous.post(path, data=data).status_code == 403
    # Nothing happened: still signed in, still in test mode.
    page = client.get("/app/calls")
    assert page.status_code == 200 and 'id="mode-badge">Test mode' in page.text


def test_the_mode_switch_shows_only_that_modes_calls(dashboard: LiveServer) -> None:
    user = new_user(dashboard)
    client = signed_in_client(dashboard, user)
    caller = revox.Revox(api_key=user.test_key, base_url=f"{dashboard.url}/api", max_retries=0)
    assistant = caller.assistants.create(name="Modes", prompt="p").assistant
    call = caller.call.create(
        phone_number="+12125550100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    page = client.get("/app/calls")
    assert call.id in page.text
    answer = client.post("/app/mode", data={"csrf": csrf_of(page.text), "mode": "live"})
    assert answer.status_code == 303
    live = client.get("/app/calls")
    assert 'id="mode-badge">Live' in live.text and call.id not in live.text
    assert client.get(f"/app/calls/{call.id}").status_code == 404


@pytest.fixture
def shared_postgres(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on one PostgreSQL database: two processes of one deployment."""
    urls, pg_name = fresh_databases(tmp_path)
    first = start_dashboard(urls["postgresql"], tmp_path / "a")
    second = start_dashboard(urls["postgresql"], tmp_path / "b")
    yield first, second
    first.stop()
    second.stop()
    drop_database(pg_name)


def _attempt(server: LiveServer, email: str, password: str) -> httpx.Response:
    client = httpx.Client(base_url=server.url, follow_redirects=False)
    token = csrf_of(client.get("/app/sign-in").text)
    return client.post(
        "/app/sign-in", data={"csrf": token, "email": email, "password": password, "next": ""}
    )


def test_five_wrong_passwords_slow_down_the_next_attempt_in_every_process(
    shared_postgres: tuple[LiveServer, LiveServer],
) -> None:
    first, second = shared_postgres
    user = new_user(first)
    for number in range(sign_in.FREE_FAILURES):
        server = first if number % 2 else second
        answer = _attempt(server, user.email, "wrong password!")
        assert answer.status_code == 401 and "wrong email or password" in answer.text
    for server in (first, second):
        # Even the right password waits now, in either process.
        answer = _attempt(server, user.email, PASSWORD)
        assert answer.status_code == 429, answer.status_code
        assert 0 < int(answer.headers["retry-after"]) <= sign_in.LOCK_BASE_SECONDS
        assert "too many wrong passwords" in answer.text


def test_users_set_password_reads_stdin_and_refuses_a_short_one(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "OPENREVOX_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "OPENREVOX_DATA_DIR": str(tmp_path),
    }
    cli = [sys.executable, "-m", "openrevox.cli"]
    subprocess.run([*cli, "orgs", "create", "Acme", "--email", "a@acme.test"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    short = subprocess.run(
        [*cli, "users", "set-password", "--email", "a@acme.test", "--password-stdin"],
        input="short\n", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    done = subprocess.run(
        [*cli, "users", "set-password", "--email", "A@acme.test", "--password-stdin"],
        input=PASSWORD + "\n", env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "password set for a@acme.test" in done.stdout
    link = subprocess.run(
        [*cli, "users", "sign-in-link", "--email", "a@acme.test"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "/app/sign-in/link/" in link.stdout
