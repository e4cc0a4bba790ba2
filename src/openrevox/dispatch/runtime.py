"""Assemble a worker from settings: the provider, the agent, the limits."""

from __future__ import annotations

from openrevox.agent.llm.endpoints import endpoint_for
from openrevox.agent.llm.openai_compatible import OpenAICompatibleModel
from openrevox.agent.llm_agent import LLMAgent
from openrevox.agent.sandbox import SandboxAgent
from openrevox.audio import providers
from openrevox.audio.speech import SpeechFactory
from openrevox.dispatch.worker import Worker, WorkerConfig, new_worker_id
from openrevox.domain.clock import Clock
from openrevox.domain.routing import SIMULATED
from openrevox.services.calendly_connections import StoredCalendlyConnections
from openrevox.services.speech import speech_keys
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.store.repositories.sim_ledger import SimLedger
from openrevox.telephony.base import (
    CallRequest,
    Conversation,
    ConversationFactory,
    TelephonyProvider,
)
from openrevox.telephony.sim.network import SimulatedNetwork
from openrevox.telephony.twilio.carrier import TwilioCarrier
from openrevox.telephony.twilio.config import TwilioConfig


def sandbox_conversation(_request: CallRequest) -> Conversation:
    return SandboxAgent()


def conversations(settings: Settings, db: Database) -> ConversationFactory:
    """The agent of each answered call: the LLM agent when an endpoint serves the
    assistant's ``llm_model``, else the sandbox agent (simulated calls only: a call to a
    real carrier with no LLM is refused at creation). Both book through the Calendly
    connection the assistant names, resolved when the call needs it."""
    calendly = StoredCalendlyConnections(db, settings)

    def for_request(request: CallRequest) -> Conversation:
        endpoint = endpoint_for(request.assistant.get("llm_model"), settings)
        if endpoint is None:
            return SandboxAgent(calendly)
        model = OpenAICompatibleModel(endpoint, timeout=settings.llm_timeout_seconds)
        return LLMAgent(model, calendly)

    return for_request


def worker_config(settings: Settings) -> WorkerConfig:
    """Capacity, limits, lease, recovery and poll intervals from settings. A lost worker's
    calls are recovered within about lease + recovery seconds."""
    return WorkerConfig(
        capacity=settings.worker_capacity,
        default_key_limit=settings.concurrency_key_default_limit,
        lease_seconds=settings.lease_seconds,
        recovery_seconds=settings.recovery_seconds,
        poll_seconds=settings.poll_seconds,
    )


def twilio_config(settings: Settings) -> TwilioConfig:
    """Twilio's settings, checked (``TwilioConfigError`` names what is wrong)."""
    return TwilioConfig(
        account_sid=settings.twilio_account_sid or "",
        auth_token=settings.twilio_auth_token or "",
        public_url=settings.public_url,
        api_key_sid=settings.twilio_api_key_sid,
        api_key_secret=settings.twilio_api_key_secret,
        api_base_url=settings.twilio_api_base_url,
        calls_per_second=settings.twilio_calls_per_second,
        request_timeout_seconds=settings.twilio_request_timeout_seconds,
        ring_timeout_seconds=settings.twilio_ring_timeout_seconds,
        callback_grace_seconds=settings.twilio_callback_grace_seconds,
    )


def build_carriers(settings: Settings) -> dict[str, TwilioCarrier]:
    """The real carriers of ``OPENREVOX_TELEPHONY``, by name."""
    carriers: dict[str, TwilioCarrier] = {}
    if "twilio" in settings.carriers:
        carriers["twilio"] = TwilioCarrier(twilio_config(settings), speech=speech_factory(settings))
    return carriers


def build_worker(
    settings: Settings,
    db: Database,
    clock: Clock,
    carriers: dict[str, TwilioCarrier] | None = None,
) -> Worker:
    worker_id = new_worker_id()
    sim = SimulatedNetwork(
        ledger=SimLedger(db),
        clock=clock,
        speed=settings.sim_speed,
        worker_id=worker_id,
        fidelity=settings.sim_fidelity,
        speech=speech_factory(settings),
    )
    if carriers is None:
        carriers = build_carriers(settings)
    # The simulated network is always there (test keys, reserved numbers); the worker
    # routes each attempt (domain/routing.py).
    providers: dict[str, TelephonyProvider] = {SIMULATED: sim, **carriers}
    return Worker(
        db=db,
        providers=providers,
        conversations=conversations(settings, db),
        clock=clock,
        config=worker_config(settings),
        worker_id=worker_id,
    )


def speech_factory(settings: Settings) -> SpeechFactory:
    """The speech providers of a call at audio fidelity (audio/providers)."""
    return providers.factory(speech_keys(settings))
