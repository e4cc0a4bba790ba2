"""Trace the path of one call, from ``POST /call`` to its webhook's delivery.

    PYTHONPATH=src .venv/bin/python scripts/trace_call_path.py [--all]

One real call through the real server: the app (``create_app``, embedded worker and
webhook deliverer, SQLite in a temporary directory, the simulated network at text
fidelity) served by uvicorn on loopback, an assistant with a webhook URL pointing at a
receiver on loopback, ``POST /api/call`` to a sandbox number that answers, then wait for
the ``call.completed`` webhook. While the call runs, ``sys.setprofile`` on the server's
thread records every entry into a function of ours, with the innermost function of ours
on the stack below it (none when the event loop resumed a task).

What is printed (docs/architecture.md, "The path of one call"):

- the modules of ours the call passes through, each in the order it is first entered,
  with the function (``.name``: a method) and the module it was entered from
  (``<loop>``: a task the event loop resumed, e.g. the worker's next poll);
- the package hops: each package-to-package step of that list, once, in the order first
  taken (``--all`` also lists every module-to-module call seen);
- a package entered twice on one stack: while the package is already on the stack below
  another package, one of its functions is entered again. Through a function or class
  the caller imports, that is a call that points up (``api -> services -> api``); through
  a method of an object the caller was handed (the engine's event sink, the line, the
  recording-link signer) it is a callback, and the imports still point one way.

``domain`` (pure functions over plain data) and the leaf modules ``errors`` and
``settings`` are consulted from everywhere: they are listed apart, not counted as hops.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import socket
import sys
import tempfile
import threading
import time
import types
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grimp
import httpx
import uvicorn

import openrevox
from openrevox.api.app import create_app
from openrevox.services.organizations import create_organization_with_keys
from openrevox.settings import Settings
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head

LEAVES = ("domain", "errors", "settings")
ALL_WEEK = {
    "allowed_days": [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ],
    "call_twice_in_a_row": False,
    "calling_windows": [{"calling_window_start_time": "00:00", "calling_window_end_time": "23:59"}],
    "max_retry_attempts": 1,
    "retry_delay_seconds": 0,
    "timezone": "UTC",
}  # fmt: skip


SOURCE = str(Path(__file__).resolve().parents[1] / "src" / "openrevox")


class Recorder:
    """Every entry into a function of ours on the profiled thread, while ``on``: code
    generated at run time (dataclasses' ``__init__``, pydantic's) is not a file of ours
    and is left out."""

    def __init__(self) -> None:
        self.on = False
        # (module, function, the stack of our modules below it, innermost last)
        self.entries: list[tuple[str, str, tuple[str, ...]]] = []
        self._ours = (SOURCE, str(Path(openrevox.__file__).resolve().parent))

    def profile(self, frame: types.FrameType, event: str, _arg: Any) -> None:
        if not self.on or event != "call" or not frame.f_code.co_filename.startswith(self._ours):
            return
        stack: list[str] = []
        below = frame.f_back
        while below is not None:
            if below.f_code.co_filename.startswith(self._ours):
                stack.append(below.f_globals["__name__"])
            below = below.f_back
        code = frame.f_code
        method = code.co_argcount > 0 and code.co_varnames[0] in ("self", "cls")
        function = code.co_name if not method or code.co_name == "__init__" else f".{code.co_name}"
        self.entries.append((frame.f_globals["__name__"], function, tuple(reversed(stack))))


def package_of(module: str) -> str:
    return module.split(".")[1]


class Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    on_receive: Callable[[], None] = staticmethod(lambda: None)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Hook.on_receive()
        Hook.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def serve_hook() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


async def new_organization(database_url: str) -> str:
    """An organization with its keys, written before the server starts: its test key."""
    db = Database(create_engine(database_url, pool_size=1))
    try:
        async with db.transaction() as conn:
            created = await create_organization_with_keys(
                conn, name="Trace", email="trace@example.test", country="US", now=datetime.now(UTC)
            )
    finally:
        await db.engine.dispose()
    assert created.test_key is not None
    return created.test_key


def run_one_call(recorder: Recorder, workdir: Path) -> dict[str, Any]:
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'trace.db'}",
        data_dir=workdir,
        rate_limit_per_second=0,
        sim_speed=50.0,
        webhook_allow_hosts=("127.0.0.1",),
    )
    upgrade_to_head(settings.database_url)
    test_key = asyncio.run(new_organization(settings.database_url))
    app = create_app(settings, migrate=False, embedded_worker=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))

    def serve() -> None:
        sys.setprofile(recorder.profile)
        server.run(sockets=[sock])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.02)
    hook_url = serve_hook()
    try:
        headers = {"Authorization": f"Bearer {test_key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            assistant = client.post(
                "/assistants",
                json={
                    "name": "Traced",
                    "prompt": "You call to confirm an appointment.",
                    "first_sentence": "Hello from Acme.",
                    "first_sentence_mode": "static",
                    "webhook_url": hook_url,
                    "call_retry_config": ALL_WEEK,
                },
            )
            assistant.raise_for_status()
            assistant_id = assistant.json()["assistant"]["id"]
            done = threading.Event()

            def received() -> None:
                recorder.on = False  # the delivery reached the receiver: the path ends
                done.set()

            Hook.on_receive = staticmethod(received)
            recorder.on = True
            created = client.post(
                "/call", json={"phone_number": "+12125550100", "assistant_id": assistant_id}
            )
            created.raise_for_status()
            if not done.wait(60):
                raise SystemExit("no webhook within 60 s")
        return Hook.received[-1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--all", action="store_true", help="also list module-to-module calls")
    args = parser.parse_args()
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as workdir:
        body = run_one_call(recorder, Path(workdir))
    print(f"webhook received: {body.get('type')} status={body.get('status')}")
    report(recorder.entries, show_all=args.all)


def report(entries: list[tuple[str, str, tuple[str, ...]]], *, show_all: bool) -> None:
    graph = grimp.build_graph("openrevox")
    first: dict[str, tuple[str, str | None]] = {}  # module -> (function, caller)
    consulted: set[str] = set()
    edges: Counter[tuple[str, str]] = Counter()
    up: Counter[str] = Counter()
    back: Counter[str] = Counter()
    for module, function, stack in entries:
        caller = stack[-1] if stack else None
        if caller and caller != module:
            edges[(caller, module)] += 1
        if package_of(module) in LEAVES:
            consulted.add(module)
            continue
        first.setdefault(module, (function, caller))
        # The packages on the stack, innermost last; is this package already below?
        chain = [package_of(m) for m in (*stack, module)]
        runs = [p for i, p in enumerate(chain) if i == 0 or chain[i - 1] != p]
        if runs[-1] in runs[:-1] and runs[-1] not in LEAVES and caller is not None:
            # A function or class the caller's module imports by name: a call that points
            # up. A method of an object the caller was handed (".name"): a callback.
            imported = not function.startswith(".") and graph.direct_import_exists(
                importer=caller, imported=module
            )
            (up if imported else back)[" -> ".join(runs)] += 1
    package_hops: dict[tuple[str, str], None] = {}
    for module, (_function, caller) in first.items():
        source = package_of(caller) if caller else "<loop>"
        if source != package_of(module):
            package_hops.setdefault((source, package_of(module)), None)
    print(f"\nModules of ours the call passes through ({len(first)}), first entry, from where:")
    for index, (module, (function, caller)) in enumerate(first.items()):
        kind = " (method)" if function.startswith(".") else ""
        print(f"{index:3d}. {module}.{function.lstrip('.')}{kind}  <- {caller or '<loop>'}")
    print(f"\nPackage hops ({len(package_hops)}), in the order first taken:")
    for index, (source, target) in enumerate(package_hops, start=1):
        print(f"{index:3d}. {source} -> {target}")
    print("\nA package entered twice on one stack through an import (a call that points up):")
    for chain, count in up.most_common() or [("none", 0)]:
        print(f"    {chain}" + (f"  ({count} calls)" if count else ""))
    print("Re-entered through an object it handed down (a callback; imports still point one way):")
    for chain, count in back.most_common() or [("none", 0)]:
        print(f"    {chain}" + (f"  ({count} calls)" if count else ""))
    print(f"\nConsulted, not hops ({', '.join(LEAVES)}): {', '.join(sorted(consulted))}")
    print(f"\nHOPS packages={len(package_hops)} modules={len(first)} up={sum(up.values())}")
    if show_all:
        print("\nModule-to-module calls:")
        for (caller, module), count in sorted(edges.items()):
            print(f"    {caller} -> {module}: {count}")


if __name__ == "__main__":
    main()
