"""The dashboard served by a real server (uvicorn, embedded worker, simulated network),
users with passwords, and Debian's Chromium driven by Playwright (never a downloaded
browser)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from openrevox.services import sign_in
from openrevox.services.organizations import create_organization_with_keys
from tests.conftest import LiveServer, make_settings
from tests.conftest import drop_database as _drop_database
from tests.conftest import fresh_databases as _fresh_databases

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "correct horse battery staple"
# Calls at any hour, one attempt: a sandbox test does not wait for a calling window.
ANY_TIME = {
    "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "calling_windows": [
        {
            "calling_window_start_time": "00:00",
            "calling_window_end_time": "23:59",
            "retry_delay_seconds": 60,
        }
    ],
    "max_retry_attempts": 1,
    "call_twice_in_a_row": False,
    "timezone": "UTC",
}
FAST_RETRIES = "0.3,0.3,0.5,0.5,0.5,1,1,1,1,1,1,1,1,1,1,1"


def _off_loop(work: Callable[[], T]) -> T:
    """Run in a thread of its own: Playwright's sync API keeps an event loop running on
    the test's thread, where ``asyncio.run`` (database setup) may not run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def fresh_databases(tmp: Path) -> tuple[dict[str, str], str]:
    return _off_loop(lambda: _fresh_databases(tmp))


def drop_database(pg_name: str) -> None:
    _off_loop(lambda: _drop_database(pg_name))


@dataclass
class User:
    email: str
    password: str
    organization_id: str
    user_id: str
    test_key: str
    live_key: str


def new_user(server: LiveServer, *, password: str = PASSWORD) -> User:
    """A new organization whose first user has a dashboard password."""

    async def create() -> User:
        db = server.app.state.services.db
        email = f"{uuid.uuid4().hex[:10]}@example.test"
        now = datetime.now(UTC)
        async with db.transaction() as conn:
            created = await create_organization_with_keys(
                conn, name=f"org-{email[:6]}", email=email, country="US", now=now
            )
            await sign_in.set_password(conn, created.user.id, password, now)
        assert created.test_key is not None
        return User(
            email, password, created.organization.id, created.user.id,
            created.test_key, created.live_key,
        )  # fmt: skip

    return server.run(create())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in_client(server: LiveServer, user: User) -> httpx.Client:
    """An HTTP client holding a session cookie, signed in through the form."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    token = csrf_of(client.get("/app/sign-in").text)
    answer = client.post(
        "/app/sign-in",
        data={"csrf": token, "email": user.email, "password": user.password, "next": ""},
    )
    assert answer.status_code == 303, answer.text[:500]
    return client


def start_dashboard(url: str, data_dir: Path, **changes: Any) -> LiveServer:
    settings = make_settings(
        url,
        data_dir,
        webhook_allow_hosts=("127.0.0.1",),
        webhook_retry_schedule=FAST_RETRIES,
        **changes,
    )
    return LiveServer(settings, embedded_worker=True).start()


@pytest.fixture(scope="module", params=["sqlite"])
def dashboard(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of the module's own (sign-in failures are counted per database)."""
    tmp = tmp_path_factory.mktemp("dashboard")
    urls, pg_name = fresh_databases(tmp)
    server = start_dashboard(urls[request.param], tmp / "data", sim_speed=50.0)
    yield server
    server.stop()
    drop_database(pg_name)


def chromium_path() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "the dashboard tests need Debian's Chromium: apt-get install -y chromium "
            "(scripts/test.sh installs it)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API runs an event loop on the test thread while it
    is open, so it must be closed before tests that call ``asyncio.run`` come."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
