"""Assemble a worker from settings: the provider, the agent, the limits."""

from __future__ import annotations

import os

from openrevox.agent.sandbox import SandboxAgent
from openrevox.dispatch.worker import Worker, WorkerConfig, new_worker_id
from openrevox.domain.clock import Clock
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.telephony.base import CallRequest, Conversation
from openrevox.telephony.sim.network import SimulatedNetwork

DEFAULTS = WorkerConfig()


def sandbox_conversation(_request: CallRequest) -> Conversation:
    return SandboxAgent()


def _seconds(name: str, default: float) -> float:
    """``OPENREVOX_<name>`` as positive seconds. (Read here until Settings carries them.)"""
    raw = os.environ.get(f"OPENREVOX_{name}", "").strip()
    if not raw:
        return default
    value = float(raw)
    if value <= 0:
        raise ValueError(f"OPENREVOX_{name} must be a positive number of seconds, not {raw!r}")
    return value


def worker_config(settings: Settings) -> WorkerConfig:
    """Capacity and limits from settings; lease, recovery and poll intervals from
    ``OPENREVOX_LEASE_SECONDS`` (30), ``OPENREVOX_RECOVERY_SECONDS`` (5) and
    ``OPENREVOX_POLL_SECONDS`` (0.2). A lost worker's calls are recovered within about
    lease + recovery seconds."""
    return WorkerConfig(
        capacity=settings.worker_capacity,
        default_key_limit=settings.concurrency_key_default_limit,
        lease_seconds=_seconds("LEASE_SECONDS", DEFAULTS.lease_seconds),
        recovery_seconds=_seconds("RECOVERY_SECONDS", DEFAULTS.recovery_seconds),
        poll_seconds=_seconds("POLL_SECONDS", DEFAULTS.poll_seconds),
    )


def build_worker(settings: Settings, db: Database, clock: Clock) -> Worker:
    if settings.telephony_provider != "sim":
        raise ValueError(
            f"telephony provider '{settings.telephony_provider}' is not available; use 'sim'"
        )
    worker_id = new_worker_id()
    return Worker(
        db=db,
        provider=SimulatedNetwork(
            db=db, clock=clock, speed=settings.sim_speed, worker_id=worker_id
        ),
        conversations=sandbox_conversation,
        clock=clock,
        config=worker_config(settings),
        worker_id=worker_id,
    )
