"""The ``openrevox`` console script, run for real in subprocesses: migrate, organizations
and keys (on SQLite and PostgreSQL), and ``serve`` with its first-start keys."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import revox

from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL

OPENREVOX = Path(sys.executable).parent / "openrevox"
LIVE_KEY = re.compile(r"sk_live_[A-Za-z0-9]+")
TEST_KEY = re.compile(r"sk_test_[A-Za-z0-9]+")


@dataclass(frozen=True)
class Cli:
    env: dict[str, str]

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(OPENREVOX), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == expect, (
            f"openrevox {' '.join(args)} exited {result.returncode}, not {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENREVOX_")}
    env.update(
        OPENREVOX_DATABASE_URL=database_url,
        OPENREVOX_DATA_DIR=str(data_dir),
        OPENREVOX_SIM_SPEED="50",
        **extra,
    )
    return env


async def _create_database() -> str:
    name = f"openrevox_cli_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database (no migration applied) of the backend."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'x.db'}"
        return
    name = asyncio.run(_create_database())
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_drop_database(name))


def _manage_keys(database_url: str, tmp_path: Path) -> None:
    cli = Cli(_env(database_url, tmp_path))
    assert "up to date" in cli.run("migrate").stdout

    org = cli.json("orgs", "create", "Acme")
    assert org["organization_id"] and org["user_id"]
    assert LIVE_KEY.fullmatch(org["live_key"]) and TEST_KEY.fullmatch(org["test_key"])

    created = cli.json("keys", "create", "--org", org["organization_id"], "--mode", "test")
    assert created["organization_id"] == org["organization_id"] and created["mode"] == "test"
    assert TEST_KEY.fullmatch(created["key"])

    listing = cli.run("keys", "list", "--json").stdout
    keys = {key["id"]: key for key in json.loads(listing)}
    assert created["id"] in keys and len(keys) == 3
    for secret in (org["live_key"], org["test_key"], created["key"]):
        assert secret not in listing, "a listing must never show a secret"
    assert created["key"].startswith(keys[created["id"]]["prefix"])
    assert len(keys[created["id"]]["prefix"]) < len(created["key"])
    assert {key["mode"] for key in keys.values()} == {"live", "test"}
    assert all(key["revoked_at"] is None for key in keys.values())

    assert "revoked" in cli.run("keys", "revoke", created["id"]).stdout
    after = {key["id"]: key for key in json.loads(cli.run("keys", "list", "--json").stdout)}
    assert after[created["id"]]["revoked_at"] is not None
    assert after[next(k for k in keys if k != created["id"])]["revoked_at"] is None

    again = cli.run("keys", "revoke", created["id"], expect=1)
    assert "no active key" in again.stderr


def test_organizations_and_keys_are_managed_from_the_command_line(tmp_path: Path) -> None:
    """The same flow on SQLite and PostgreSQL, side by side (each step is a process)."""
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=len(BACKENDS)) as pool:
        runs = {
            backend: pool.submit(
                _manage_keys,
                stack.enter_context(empty_database(backend, tmp_path / backend)),
                tmp_path / backend,
            )
            for backend in BACKENDS
        }
        for backend, run in runs.items():
            try:
                run.result(timeout=300)
            except AssertionError as error:
                raise AssertionError(f"[{backend}] {error}") from error


def test_creating_a_key_for_an_unknown_organization_fails(tmp_path: Path) -> None:
    cli = Cli(_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path))
    result = cli.run("keys", "create", "--org", "nope", "--json", expect=2)
    assert "no such organization" in result.stderr


class Served:
    """``openrevox serve`` (or ``command``) in a subprocess, its output collected in a file."""

    def __init__(
        self, env: dict[str, str], log: Path, command: tuple[str, ...] = ("serve",)
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._output = log.open("w")
        self.process = subprocess.Popen(
            [str(OPENREVOX), *command, "--port", str(self.port)],
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output}")
            try:
                httpx.get(f"{self.url}/api/auth-status", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"serve did not answer within {timeout} s:\n{self.output}")

    def stop(self) -> int:
        """SIGTERM, as a service manager sends it; uvicorn shuts down gracefully."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                pytest.fail(f"serve did not stop on SIGTERM:\n{self.output}")
        self._output.close()
        return self.process.returncode


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    env: dict[str, str], log: Path, command: tuple[str, ...] = ("serve",)
) -> Iterator[Served]:
    served = Served(env, log, command)
    try:
        served.wait_ready()
        yield served
    finally:
        code = served.stop()
    # uvicorn shuts down gracefully, then re-raises the signal: -SIGTERM is a clean exit.
    assert code in (0, -signal.SIGTERM), f"serve exited {code} after SIGTERM:\n{served.output}"
    assert "Application shutdown complete" in served.output, served.output


def _auth_status(url: str, key: str) -> int:
    response = httpx.get(
        f"{url}/api/auth-status", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    return response.status_code


def test_first_start_prints_keys_once_and_revoking_one_stops_it(tmp_path: Path) -> None:
    # Each process remembers a checked key for OPENREVOX_AUTH_CACHE_SECONDS: make it short.
    env = _env(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path, OPENREVOX_AUTH_CACHE_SECONDS="0.5")
    with serving(env, tmp_path / "first.log") as served:
        lives = LIVE_KEY.findall(served.output)
        tests = TEST_KEY.findall(served.output)
        assert len(lives) == 1 and len(tests) == 1, served.output
        live, test = lives[0], tests[0]
        assert _auth_status(served.url, live) == 200
        assert _auth_status(served.url, test) == 200
        assert _auth_status(served.url, "sk_live_" + "x" * 32) == 401

        cli = Cli(env)
        keys = json.loads(cli.run("keys", "list", "--json").stdout)
        test_id = next(key["id"] for key in keys if test.startswith(key["prefix"]))
        cli.run("keys", "revoke", test_id)
        time.sleep(0.6)
        assert _auth_status(served.url, test) == 401, "a revoked key must stop working"
        assert _auth_status(served.url, live) == 200

    with serving(env, tmp_path / "second.log") as served:
        assert not LIVE_KEY.search(served.output), "keys are printed on the first start only"
        assert not TEST_KEY.search(served.output)
        assert _auth_status(served.url, live) == 200


def test_a_bootstrap_key_from_the_environment_is_seeded_on_an_empty_database(
    tmp_path: Path,
) -> None:
    chosen = "sk_live_" + "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
    )
    env = _env(f"sqlite:///{tmp_path / 'seeded.db'}", tmp_path, OPENREVOX_BOOTSTRAP_API_KEY=chosen)
    with serving(env, tmp_path / "seeded.log") as served:
        assert _auth_status(served.url, chosen) == 200
        assert chosen in served.output
        assert len(LIVE_KEY.findall(served.output)) == 1, "the chosen key is the live key"


def test_api_with_several_processes_shares_one_port_and_one_first_start(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path / 'multi.db'}", tmp_path)
    with serving(env, tmp_path / "multi.log", ("api", "--workers", "2")) as served:
        # Both processes bootstrap at the same moment: one organization, keys printed once.
        deadline = time.monotonic() + 30
        while served.output.count("Application startup complete") < 2:
            assert time.monotonic() < deadline, served.output
            time.sleep(0.1)
        lives = LIVE_KEY.findall(served.output)
        assert len(lives) == 1 and len(TEST_KEY.findall(served.output)) == 1, served.output
        assert len(set(re.findall(r"Started server process \[(\d+)\]", served.output))) == 2
        # Every request is answered, whichever process takes it.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: _auth_status(served.url, lives[0]), range(40)))
        assert statuses == [200] * 40
        keys = json.loads(Cli(env).run("keys", "list", "--json").stdout)
        assert len(keys) == 2, keys


def _finished_call_with_recording(url: str, key: str) -> Any:
    """A simulated call (a reserved number) carried to its end, through the SDK."""
    client = revox.Revox(api_key=key, base_url=f"{url}/api", max_retries=0)
    call_id = client.call.create(
        phone_number="+12125550100",
        assistant={  # type: ignore[typeddict-item]
            "prompt": "You call on behalf of Acme.",
            "first_sentence": "Hello, this is Acme.",
            "first_sentence_mode": "static",
        },
        skip_calling_window=True,
    ).call.id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        call = client.call.retrieve(call_id).call
        if call.status == "completed":
            return call
        time.sleep(0.2)
    pytest.fail(f"call {call_id} still {call.status}")


def test_links_follow_the_port_the_server_listens_on(tmp_path: Path) -> None:
    """``serve --port N`` without OPENREVOX_PUBLIC_URL hands out links on port N, and
    they work; with it set, links use it."""
    key = "sk_live_" + "".join(secrets.choice(string.ascii_letters) for _ in range(32))
    env = _env(f"sqlite:///{tmp_path / 'links.db'}", tmp_path, OPENREVOX_BOOTSTRAP_API_KEY=key)
    with serving(env, tmp_path / "links.log") as served:
        assert served.port != 8000
        call = _finished_call_with_recording(served.url, key)
        link = call.call_attempts[0].recording_url
        assert link is not None and link.startswith(f"{served.url}/recordings/"), link
        fetched = httpx.get(link, timeout=30)
        assert fetched.status_code == 200 and fetched.content[:4] == b"RIFF"

    env["OPENREVOX_PUBLIC_URL"] = "https://calls.example.com/"
    with serving(env, tmp_path / "links-public.log") as served:
        client = revox.Revox(api_key=key, base_url=f"{served.url}/api", max_retries=0)
        again = client.call.retrieve(call.id).call.call_attempts[0].recording_url
        assert again is not None and again.startswith("https://calls.example.com/recordings/")


def test_listening_on_every_interface_links_to_loopback_with_a_warning(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path / 'wild.db'}", tmp_path)
    with serving(env, tmp_path / "wild.log", ("serve", "--host", "0.0.0.0")) as served:
        assert "set OPENREVOX_PUBLIC_URL" in served.output
        assert f"use http://127.0.0.1:{served.port}" in served.output
