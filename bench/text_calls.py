"""Benchmark: text-fidelity simulated calls per second, with full results.

    .venv/bin/python bench/text_calls.py [--calls 5000] [--agent sandbox|llm|both]
        [--backend sqlite|postgresql|both] [--workers 1|2]
        [--capacity sandbox=400,llm=80] [--sim-speed sandbox=20,llm=10]
        [--no-webhook] [--markdown] [--profile DIR]

Every call is a whole conversation with persona 00 of the simulated network
(docs/sandbox.md: a cooperative person who gives name and email): "Hello?", the
assistant's static first sentence, a question per field, the answers, the closing
sentence, the ``end_call`` tool; then the results: transcript, structured output,
outcome, order completed, webhook delivered.

For each backend, then each agent (side by side in one run):

1. seed once per backend (as ``engine_throughput`` does: a migrated database, one
   organization whose concurrency limit is raised to 1,000,000 by SQL, one shared
   assistant snapshot, ``--calls`` orders inserted in bulk, waiting ``scheduled`` a day
   ahead) with ``+1 415 555 0100`` (persona 00) and an assistant that has a static first
   sentence, a closing sentence, a ``structured_output_config`` of two fields (full name,
   email) and, unless ``--no-webhook``, a ``webhook_url`` on a local sink that answers
   204 (``OPENREVOX_WEBHOOK_ALLOW_HOSTS`` admits 127.0.0.1). Each scenario runs on a copy
   (a file copy, or ``CREATE DATABASE ... TEMPLATE``);
2. start ``--workers`` real ``openrevox worker`` processes with ``OPENREVOX_SIM_SPEED``,
   ``OPENREVOX_WORKER_CAPACITY`` and, for ``--agent llm`` only,
   ``OPENREVOX_LLM_BASE_URL``/``OPENREVOX_LLM_API_KEY`` on the fake OpenAI-compatible
   server of ``tests/agent/fake_openai.py`` (chat completions and tool calls streamed in
   OpenAI's wire format, a JSON completion for the post-call extraction), served by
   uvicorn in a subprocess of its own (this script with ``--serve``). With no LLM endpoint
   the worker picks the rule-based sandbox agent;
3. make every order due in one UPDATE, wait until none is pending, then until no
   webhook event is pending;
4. report calls / (the last order's completion - the moment they became due), the
   seconds until the last webhook was delivered, how busy the workers were while
   draining (in cores), and the CPU per call of each process: workers, the PostgreSQL
   backends of the bench database (sampled every 0.1 s), the fake LLM server, the
   webhook sink, and everything else busy on the machine meanwhile ("other": other
   people's work, and this script). Then check every call: order ``completed`` with
   outcome ``completed``, one attempt, answered (``human``), ended by the ``end_call``
   tool, a transcript of at least 6 entries ending with that tool, a structured output
   with both fields as persona 00 gave them, and exactly one ``call.completed`` webhook
   delivered. It prints PASS or FAIL.

The simulated speed is moderate, not 1e9, because ``OPENREVOX_SIM_SPEED`` divides every
simulated duration, the callee's patience included: persona 00 hangs up after 30
simulated seconds without hearing the agent, which at 1e9 is 30 ns, less than one turn of
the event loop, let alone an HTTP round trip to an LLM. A worker that carries C calls at R
calls/s answers each turn in about C / (5 R) real seconds, so the speed S and capacity C
must keep 30 / S several times above that while C / (20 / S) (the most calls/s the
simulated durations allow) stays above R. The defaults do on this machine; too high a
speed or capacity shows as FAIL (``participant_removed``), not as a faster figure.

The first sentence ends with a comma and the closing is one sentence, so that each turn
of the LLM agent is one utterance: persona 00 answers any utterance at once, even a
statement, so a two-sentence turn lets it answer the first sentence while the agent still
streams the second; the barge-in then cuts the agent off and the conversation runs a turn
late (the email is given after the goodbye and lost).

Workers, PostgreSQL, the fake servers and this script share the machine's cores. This
prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _harness import (
    Orders,
    PostgresSampler,
    ProcessCpu,
    Seeds,
    add_scenario_arguments,
    all_week_retry,
    load_note,
    machine,
    make_due,
    start_profiler,
    start_workers,
    stop_process,
    stop_profilers,
    table_lines,
    wait_drained,
    wait_until_none,
    worker_env,
)

from openrevox.store.db import Database, create_engine
from openrevox.store.tables import call_attempts, call_orders, webhook_events

ROOT = Path(__file__).resolve().parent.parent
AGENTS = ("sandbox", "llm")
PERSONA_00 = "+14155550100"  # docs/sandbox.md: a cooperative person, name and email
NAME, EMAIL = "Alex Martin", "alex.martin@example.com"  # what persona 00 answers
FAKE_API_KEY = "sk-fake-openai-0123456789"  # tests.agent.fake_openai.FakeOpenAI.api_key
# py-spy samples only threads holding the GIL (the event loop's work, not its waits).
GIL = ("--gil", "--threads")
FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]
ASSISTANT: dict[str, Any] = {
    "name": "Acme details check",
    "prompt": "You call {{first_name}} on behalf of Acme to confirm their contact details.",
    "first_sentence": "Hello {{first_name}}, this is Acme calling to confirm your details,",
    "first_sentence_mode": "static",
    "end_of_call_sentence": "Thank you for your time, goodbye!",
    "structured_output_config": FIELDS,
    "call_retry_config": all_week_retry(3),
}


# --------------------------------------------------------------------------------------
# The fake servers (this script run with --serve, in a subprocess of their own)
# --------------------------------------------------------------------------------------


def _fake_openai_app() -> Any:
    """``tests.agent.fake_openai.FakeOpenAI``'s app, without its request log: the log is
    kept for assertions in tests and would grow by four requests a call (and the fault
    check scans it on each request)."""
    sys.path.insert(0, str(ROOT))
    from starlette.requests import Request
    from tests.agent.fake_openai import FakeOpenAI
    from tests.voices.fake_server import RecordedRequest

    class UnloggedFakeOpenAI(FakeOpenAI):
        async def record(self, request: Request) -> RecordedRequest:
            return RecordedRequest(
                method=request.method,
                path=request.url.path,
                query={},
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.body(),
            )

        def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
            return []  # no fault is ever set here

    fake = UnloggedFakeOpenAI()
    assert fake.api_key == FAKE_API_KEY
    return fake.app()


async def _webhook_sink(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 204 to every webhook (the platform records the delivery)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def serve(kind: str, port_file: Path) -> None:
    import uvicorn

    app = _fake_openai_app() if kind == "fake-openai" else _webhook_sink
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
        timeout_keep_alive=120,  # never closes a connection the client is about to reuse
    )
    server = uvicorn.Server(config)
    port_file.write_text(str(sock.getsockname()[1]))
    server.run(sockets=[sock])


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def start_server(kind: str, workdir: Path) -> Server:
    port_file = workdir / f"{kind}.port"
    log_path = workdir / f"{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port-file", str(port_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} server exited:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the {kind} server did not start within 30 s")
        if port_file.exists() and port_file.read_text():
            port = int(port_file.read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return Server(kind, process, f"http://127.0.0.1:{port}", log_path)
        time.sleep(0.05)


# --------------------------------------------------------------------------------------
# Seeding (_harness seeds, with this benchmark's assistant and number)
# --------------------------------------------------------------------------------------


def seeded_calls(count: int, webhook_url: str | None) -> Orders:
    """``count`` orders to persona 00 (its answers are what ``_verify`` checks)."""
    assistant = {**ASSISTANT, "webhook_url": webhook_url} if webhook_url else ASSISTANT
    return Orders(
        count,
        assistant,
        "America/Los_Angeles",
        lambda _: (PERSONA_00, {"first_name": "Alex"}),
        noun="call orders",
    )


# --------------------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    agent: str
    workers: int
    calls: int
    seconds: float  # due -> last order completed
    webhook_seconds: float | None  # due -> last webhook delivered
    worker_cpu: list[float]
    worker_drain_cpu: list[float]  # until the orders were drained
    postgres_cpu: float
    llm_cpu: float
    sink_cpu: float
    machine_busy: float
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def worker_cores(self) -> float:
        """How busy the workers were while draining, in cores (1.00: one full core)."""
        return sum(self.worker_drain_cpu) / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cpu(self) -> float:
        own = sum(self.worker_cpu) + self.postgres_cpu + self.llm_cpu + self.sink_cpu
        return max(0.0, self.machine_busy - own)


async def _pending_webhooks(url: str) -> int:
    db = Database(create_engine(url, pool_size=1))
    query = sa.select(sa.func.count()).where(webhook_events.c.status == "pending")
    try:
        async with db.read() as conn:
            return int((await conn.execute(query)).scalar_one())
    finally:
        await db.dispose()


async def _wait_webhooks(url: str, limit: float) -> None:
    probe = sa.select(webhook_events.c.id).where(webhook_events.c.status == "pending").limit(1)
    await wait_until_none(url, probe, limit, "webhooks")


async def _rows(conn: Any, *columns: Any) -> list[Any]:
    """Every row of these columns (of one table)."""
    return list((await conn.execute(sa.select(*columns))).all())


async def _verify(
    url: str, due_at: datetime, webhook: bool
) -> tuple[int, float, float | None, list[str]]:
    """Every call checked; returns (orders, seconds to drain, seconds to the last
    webhook, problems)."""
    o, a, w = call_orders.c, call_attempts.c, webhook_events.c
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.read() as conn:  # one read: the three tables as of one moment
            orders = await _rows(conn, o.id, o.status, o.outcome, o.calls_count, o.updated_at)
            attempts = await _rows(
                conn,
                a.call_order_id,
                a.status,
                a.result,
                a.end_reason,
                a.transcript,
                a.structured_output,
            )
            events = await _rows(conn, w.call_order_id, w.event_type, w.status, w.delivered_at)
    finally:
        await db.dispose()
    problems: Counter[str] = Counter()
    by_order: dict[str, list[Any]] = {}
    for attempt in attempts:
        by_order.setdefault(attempt.call_order_id, []).append(attempt)
    delivered = Counter(
        e.call_order_id
        for e in events
        if e.event_type == "call.completed" and e.status == "delivered"
    )
    for order in orders:
        if order.status != "completed":
            problems[f"order {order.status}"] += 1
        if order.outcome != "completed":
            problems[f"outcome {order.outcome}"] += 1
        mine = by_order.get(order.id, [])
        if len(mine) != 1 or order.calls_count != 1:
            problems[f"{len(mine)} attempts"] += 1
        for attempt in mine[:1]:
            if attempt.status != "completed" or attempt.result != "human":
                problems[f"attempt {attempt.status}/{attempt.result}"] += 1
            if attempt.end_reason != "tool_end_call":
                problems[f"end_reason {attempt.end_reason}"] += 1
            transcript = attempt.transcript or []
            if len(transcript) < 6:
                problems["transcript < 6 entries"] += 1
            elif transcript[-1].get("tool_name") != "end_call":
                problems["transcript not ending with end_call"] += 1
            if (attempt.structured_output or {}) != {"full_name": NAME, "email": EMAIL}:
                problems["structured_output without both fields"] += 1
        if webhook and delivered[order.id] != 1:
            problems[f"{delivered[order.id]} call.completed webhooks delivered"] += 1
    if not webhook and events:
        problems[f"{len(events)} webhook events with no webhook_url"] += 1
    ends = [o.updated_at for o in orders if o.status == "completed"]
    seconds = (max(ends) - due_at).total_seconds() if ends else 0.0
    sent = [e.delivered_at for e in events if e.delivered_at is not None]
    webhook_seconds = (max(sent) - due_at).total_seconds() if webhook and sent else None
    return len(orders), seconds, webhook_seconds, [f"{n} x {p}" for p, n in problems.items()]


def run_scenario(
    seeds: Seeds,
    backend: str,
    agent: str,
    count: int,
    args: argparse.Namespace,
    workdir: Path,
    llm: Server | None,
    sink: Server | None,
) -> Outcome:
    label = f"{backend}-{agent}-{count}w"
    url = seeds.copy(backend, label.replace("-", "_"))
    print(f"{label}: starting {count} worker process(es) ...", flush=True)
    env: dict[str, str | None] = {
        "OPENREVOX_LLM_BASE_URL": f"{llm.url}/v1" if llm and agent == "llm" else None,
        "OPENREVOX_LLM_API_KEY": FAKE_API_KEY if agent == "llm" else None,
        "OPENREVOX_LLM_ENDPOINTS": None,
        "OPENREVOX_OPENROUTER_API_KEY": None,
        "OPENREVOX_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    }
    env.update(worker_env(url, args.sim_speed[agent], args.capacity[agent]))
    workers = start_workers(count, env, workdir, prefix=f"{label}-")
    servers = [server for server in (llm, sink) if server]
    try:
        time.sleep(0.5)  # let them settle into their idle poll
        pg = PostgresSampler(args.pg_admin_url, url) if backend == "postgresql" else None
        cpu = ProcessCpu([w.process.pid for w in workers])
        server_cpu_since = ProcessCpu([s.process.pid for s in servers])
        profiled = [(f"worker{n}", w.process) for n, w in enumerate(workers)]
        if llm and agent == "llm":
            profiled.append(("fake-openai", llm.process))

        def profile(phase: str) -> list[subprocess.Popen[bytes]]:
            if not args.profile:
                return []
            return [
                start_profiler(process.pid, args.profile / f"{label}-{name}-{phase}.txt", GIL)
                for name, process in profiled
            ]

        profilers = profile("drain")
        due_at = asyncio.run(make_due(url))
        asyncio.run(wait_drained(url, args.timeout))
        drained_cpu = cpu.spent()
        stop_profilers(profilers)
        tail = (0, 0.0, 0.0)  # webhooks left at the drain, seconds and worker CPU to send them
        if sink:
            left, started = asyncio.run(_pending_webhooks(url)), time.monotonic()
            profilers = profile("webhooks")
            asyncio.run(_wait_webhooks(url, args.timeout))
            stop_profilers(profilers)
            tail_cpu = sum(cpu.spent()) - sum(drained_cpu)
            tail = (left, time.monotonic() - started, tail_cpu)
        worker_cpu = cpu.spent()
        server_cpu = dict(zip([s.kind for s in servers], server_cpu_since.spent(), strict=True))
        busy = cpu.machine_busy()
        pg_cpu = pg.stop() if pg else 0.0
    finally:
        for worker in workers:
            worker.stop()
    for n, worker in enumerate(workers):
        text = worker.log()
        if "Traceback" in text or " ERROR " in text:
            print(f"  worker{n} logged errors: see {worker.log_path}", flush=True)
    calls, seconds, webhook_seconds, problems = asyncio.run(
        _verify(url, due_at, webhook=sink is not None)
    )
    outcome = Outcome(
        backend=backend,
        agent=agent,
        workers=count,
        calls=calls,
        seconds=seconds,
        webhook_seconds=webhook_seconds,
        worker_cpu=worker_cpu,
        worker_drain_cpu=drained_cpu,
        postgres_cpu=pg_cpu,
        llm_cpu=server_cpu.get("fake-openai", 0.0) if agent == "llm" else 0.0,
        sink_cpu=server_cpu.get("webhook-sink", 0.0),
        machine_busy=busy,
        problems=problems,
    )
    if tail[0]:
        print(
            f"  webhooks: {tail[0]:,} still pending when the orders were drained, sent in "
            f"{tail[1]:.1f} s ({tail[0] / tail[1]:,.0f}/s) at {1000 * tail[2] / tail[0]:.1f} ms "
            "of worker CPU each",
            flush=True,
        )
    verdict = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    print(f"  {calls:,} calls in {seconds:.2f} s: {outcome.rate:,.1f} calls/s ({verdict})")
    if not args.keep:
        seeds.drop(url)
    return outcome


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def report(outcomes: list[Outcome], markdown: bool) -> str:
    head = (
        "backend", "agent", "workers", "calls", "seconds", "calls/s", "webhooks done s",
        "worker cores", "worker ms/call", "PostgreSQL ms/call", "fake LLM ms/call",
        "webhook sink ms/call", "other ms/call", "checks",
    )  # fmt: skip

    def per_call(seconds: float, calls: int) -> str:
        return f"{1000 * seconds / calls:.2f}" if calls else "-"

    rows = [
        (
            o.backend,
            o.agent,
            str(o.workers),
            f"{o.calls:,}",
            f"{o.seconds:.2f}",
            f"{o.rate:,.1f}",
            f"{o.webhook_seconds:.2f}" if o.webhook_seconds is not None else "-",
            f"{o.worker_cores:.2f}",
            " + ".join(per_call(c, o.calls) for c in o.worker_cpu),
            per_call(o.postgres_cpu, o.calls) if o.backend == "postgresql" else "-",
            per_call(o.llm_cpu, o.calls) if o.agent == "llm" else "-",
            per_call(o.sink_cpu, o.calls) if o.webhook_seconds is not None else "-",
            per_call(o.other_cpu, o.calls),
            "PASS" if not o.problems else "FAIL",
        )
        for o in outcomes
    ]
    lines = table_lines(head, rows, markdown)
    for o in outcomes:
        if o.problems:
            lines.append(f"FAIL {o.backend}/{o.agent}: " + "; ".join(o.problems))
    lines += ["", "PASS" if all(not o.problems for o in outcomes) else "FAIL"]
    return "\n".join(lines)


def per_agent(cast: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    """``N`` for both agents, or ``sandbox=N,llm=M``."""

    def parse(text: str) -> dict[str, Any]:
        if "=" not in text:
            return dict.fromkeys(AGENTS, cast(text))
        values = {}
        for item in text.split(","):
            agent, _, value = item.partition("=")
            if agent.strip() not in AGENTS:
                raise argparse.ArgumentTypeError(f"unknown agent {agent!r}")
            values[agent.strip()] = cast(value)
        if set(values) != set(AGENTS):
            raise argparse.ArgumentTypeError("give a value for each agent: sandbox=..,llm=..")
        return values

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--agent", choices=("sandbox", "llm", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--capacity",
        type=per_agent(int),
        default="sandbox=400,llm=80",
        help="OPENREVOX_WORKER_CAPACITY: N, or per agent as sandbox=N,llm=M",
    )
    parser.add_argument(
        "--sim-speed",
        type=per_agent(float),
        default="sandbox=20,llm=10",
        help="OPENREVOX_SIM_SPEED: S, or per agent as sandbox=S,llm=T",
    )
    parser.add_argument("--no-webhook", action="store_true", help="no webhook_url on the assistant")
    add_scenario_arguments(parser, profile_help="py-spy the workers and the fake LLM here")
    parser.add_argument("--serve", choices=("fake-openai", "webhook-sink"), help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port_file)
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    agents = ["sandbox", "llm"] if args.agent == "both" else [args.agent]

    print(machine(), flush=True)
    print(load_note(), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="openrevox-text-calls-"))
    llm = start_server("fake-openai", workdir) if "llm" in agents else None
    sink = None if args.no_webhook else start_server("webhook-sink", workdir)
    webhook_url = f"{sink.url}/webhook" if sink else None
    seeds = Seeds(workdir, args.pg_admin_url, seeded_calls(args.calls, webhook_url))
    settings = ", ".join(
        f"{agent}: OPENREVOX_WORKER_CAPACITY={args.capacity[agent]} "
        f"OPENREVOX_SIM_SPEED={args.sim_speed[agent]:g}"
        for agent in agents
    )
    print(
        f"{args.calls:,} calls to persona 00 per scenario, {args.workers} worker process(es); "
        f"{settings}; webhook {'on a local sink' if sink else 'off'}",
        flush=True,
    )
    outcomes = []
    try:
        for backend in backends:
            for agent in agents:
                outcomes.append(
                    run_scenario(seeds, backend, agent, args.workers, args, workdir, llm, sink)
                )
    finally:
        for server in (llm, sink):
            if server:
                server.stop()
        seeds.close(keep=args.keep)  # the work directory too
    print()
    print(report(outcomes, args.markdown))


if __name__ == "__main__":
    main()
