"""Which speech providers serve a call, and building them.

``choose`` is a pure function of the assistant and the keys configured: the assistant's
``voice`` picks the TTS (``provider: cartesia`` with a Cartesia key: Cartesia with
``model``, ``speed``, ``volume`` and ``cartesia_dictionary_pronunciation_id``), a Soniox
key the STT (``stt_model``, the newest when omitted, with ``stt_context``). Anything
else falls back to the bundled local kit (Piper, pocketsphinx), and the reason is
recorded: the attempt's ``openrevox.speech`` says which provider served each side and
why (docs/speech.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openrevox.audio.speech import LOCAL, CallSpeech, SpeechFactory

NEWEST_STT_MODEL = "stt-rt-v5"
DEFAULT_TTS_MODEL = "sonic-3"
CARTESIA_BASE_URL = "https://api.cartesia.ai"
SONIOX_BASE_URL = "wss://stt-rt.soniox.com"


@dataclass(frozen=True, slots=True)
class SpeechKeys:
    """The speech providers this server may use (``OPENREVOX_*`` settings)."""

    cartesia_api_key: str | None = None
    cartesia_base_url: str = CARTESIA_BASE_URL
    soniox_api_key: str | None = None
    soniox_base_url: str = SONIOX_BASE_URL


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """Which provider serves each side of a call, with its settings, and the record."""

    tts: str  # "cartesia" | "local"
    stt: str  # "soniox" | "local"
    record: dict[str, Any]


def choose(assistant: Mapping[str, Any], keys: SpeechKeys) -> SpeechPlan:
    voice = assistant.get("voice") or {}
    provider = str(voice.get("provider") or "")
    tts: dict[str, Any]
    if provider == "cartesia" and keys.cartesia_api_key and voice.get("id"):
        tts = {
            "provider": "cartesia",
            "model": voice.get("model") or DEFAULT_TTS_MODEL,
            "voice_id": voice["id"],
        }
    else:
        reason = {
            "cartesia": "no OPENREVOX_CARTESIA_API_KEY",
            "elevenlabs": "ElevenLabs voices are not served yet",
            "gradium": "Gradium voices are not served yet",
        }.get(provider, "no voice provider")
        tts = {"provider": LOCAL, "fallback_reason": reason}
    stt: dict[str, Any]
    if keys.soniox_api_key:
        stt = {"provider": "soniox", "model": assistant.get("stt_model") or NEWEST_STT_MODEL}
    else:
        stt = {"provider": LOCAL, "fallback_reason": "no OPENREVOX_SONIOX_API_KEY"}
    return SpeechPlan(str(tts["provider"]), str(stt["provider"]), {"tts": tts, "stt": stt})


def build(assistant: Mapping[str, Any], keys: SpeechKeys) -> CallSpeech:
    """The call's providers as ``choose`` plans them (None for the local kit's side)."""
    from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
    from openrevox.audio.providers.soniox.stt import SonioxRecognition, soniox_context
    from openrevox.audio.tts import voice_speed

    plan = choose(assistant, keys)
    tts = stt = None
    if plan.tts == "cartesia" and keys.cartesia_api_key:
        voice = assistant.get("voice") or {}
        tts = CartesiaSpeech(
            api_key=keys.cartesia_api_key,
            base_url=keys.cartesia_base_url,
            voice_id=str(voice["id"]),
            model=str(plan.record["tts"]["model"]),
            speed=voice_speed(voice) if voice.get("speed") is not None else None,
            volume=_volume(voice.get("volume")),
            pronunciation_dict_id=assistant.get("cartesia_dictionary_pronunciation_id"),
        )
    if plan.stt == "soniox" and keys.soniox_api_key:
        stt = SonioxRecognition(
            api_key=keys.soniox_api_key,
            base_url=keys.soniox_base_url,
            model=str(plan.record["stt"]["model"]),
            context=soniox_context(assistant.get("stt_context")),
        )
    return CallSpeech(stt=stt, tts=tts, record=plan.record)


def _volume(value: Any) -> float | None:
    """Cartesia's volume range (0.5-2.0), or None when unset."""
    return None if value is None else min(max(float(value), 0.5), 2.0)


def factory(keys: SpeechKeys) -> SpeechFactory:
    """``build`` bound to ``keys``: a ``speech.SpeechFactory``."""

    def for_call(assistant: Mapping[str, Any]) -> CallSpeech:
        return build(assistant, keys)

    return for_call
