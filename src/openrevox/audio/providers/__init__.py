"""Which speech providers serve a call, and building them.

``choose`` is a pure function of the assistant and the keys configured: the assistant's
``voice`` picks the TTS (``provider: cartesia`` with a Cartesia key: Cartesia with
``model``, ``speed``, ``volume`` and ``cartesia_dictionary_pronunciation_id``;
``provider: elevenlabs`` with an ElevenLabs key: ElevenLabs with ``speed`` and
``volume``); a voice whose provider has no key, or a Gradium voice, is served by
``OPENREVOX_TTS_FALLBACK`` (the local kit, or an OpenAI-compatible speech server). The
contract cannot name an STT other than Soniox (``stt_model`` is Soniox's enum), so
``OPENREVOX_STT_PROVIDER`` picks it (soniox, deepgram, openai, local; unset: Soniox
when it has a key). Whatever cannot be served falls back to the bundled local kit
(Piper, pocketsphinx), and the reason is recorded: the attempt's ``openrevox.speech``
says which provider served each side and why (docs/speech.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openrevox.audio.speech import (
    LOCAL,
    CallSpeech,
    SpeechFactory,
    SpeechToText,
    TextToSpeech,
)

NEWEST_STT_MODEL = "stt-rt-v5"
DEFAULT_TTS_MODEL = "sonic-3"
CARTESIA_BASE_URL = "https://api.cartesia.ai"
SONIOX_BASE_URL = "wss://stt-rt.soniox.com"
ELEVENLABS_BASE_URL = "https://api.elevenlabs.io"
DEEPGRAM_BASE_URL = "wss://api.deepgram.com"


@dataclass(frozen=True, slots=True)
class SpeechKeys:
    """The speech providers this server may use (``OPENREVOX_*`` settings)."""

    cartesia_api_key: str | None = None
    cartesia_base_url: str = CARTESIA_BASE_URL
    soniox_api_key: str | None = None
    soniox_base_url: str = SONIOX_BASE_URL
    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str = ELEVENLABS_BASE_URL
    elevenlabs_tts_model: str = "eleven_flash_v2_5"
    deepgram_api_key: str | None = None
    deepgram_base_url: str = DEEPGRAM_BASE_URL
    deepgram_model: str = "nova-3"
    openai_speech_base_url: str | None = None
    openai_speech_api_key: str | None = None
    openai_tts_model: str = "tts-1"
    openai_tts_voice: str = "alloy"
    openai_stt_model: str = "whisper-1"
    stt_provider: str | None = None  # soniox | deepgram | openai | local; None: Soniox if keyed
    tts_fallback: str = LOCAL  # local | openai


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """Which provider serves each side of a call, with its settings, and the record."""

    tts: str  # "cartesia" | "local"
    stt: str  # "soniox" | "local"
    record: dict[str, Any]


def choose(assistant: Mapping[str, Any], keys: SpeechKeys) -> SpeechPlan:
    tts = _tts(assistant.get("voice") or {}, keys)
    stt = _stt(assistant, keys)
    return SpeechPlan(str(tts["provider"]), str(stt["provider"]), {"tts": tts, "stt": stt})


def _tts(voice: Mapping[str, Any], keys: SpeechKeys) -> dict[str, Any]:
    provider = str(voice.get("provider") or "")
    if provider == "cartesia" and keys.cartesia_api_key and voice.get("id"):
        return {
            "provider": "cartesia",
            "model": voice.get("model") or DEFAULT_TTS_MODEL,
            "voice_id": voice["id"],
        }
    if provider == "elevenlabs" and keys.elevenlabs_api_key and voice.get("id"):
        return {
            "provider": "elevenlabs",
            "model": keys.elevenlabs_tts_model,
            "voice_id": voice["id"],
        }
    reason = {
        "cartesia": "no OPENREVOX_CARTESIA_API_KEY",
        "elevenlabs": "no OPENREVOX_ELEVENLABS_API_KEY",
        "gradium": "Gradium voices are not served",
    }.get(provider, "no voice provider")
    if keys.tts_fallback == "openai":
        if keys.openai_speech_base_url:
            return {
                "provider": "openai",
                "model": keys.openai_tts_model,
                "voice_id": keys.openai_tts_voice,
                "fallback_reason": reason,
            }
        reason += "; no OPENREVOX_OPENAI_SPEECH_BASE_URL for OPENREVOX_TTS_FALLBACK=openai"
    return {"provider": LOCAL, "fallback_reason": reason}


def _stt(assistant: Mapping[str, Any], keys: SpeechKeys) -> dict[str, Any]:
    wanted = keys.stt_provider or "soniox"
    if wanted == "soniox" and keys.soniox_api_key:
        return {"provider": "soniox", "model": assistant.get("stt_model") or NEWEST_STT_MODEL}
    if wanted == "deepgram" and keys.deepgram_api_key:
        return {"provider": "deepgram", "model": keys.deepgram_model}
    if wanted == "openai" and keys.openai_speech_base_url:
        return {"provider": "openai", "model": keys.openai_stt_model}
    if wanted == LOCAL:
        return {"provider": LOCAL}
    missing = {
        "soniox": "OPENREVOX_SONIOX_API_KEY",
        "deepgram": "OPENREVOX_DEEPGRAM_API_KEY",
        "openai": "OPENREVOX_OPENAI_SPEECH_BASE_URL",
    }[wanted]
    return {"provider": LOCAL, "fallback_reason": f"no {missing}"}


def build(assistant: Mapping[str, Any], keys: SpeechKeys) -> CallSpeech:
    """The call's providers as ``choose`` plans them (None for the local kit's side)."""
    from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
    from openrevox.audio.providers.soniox.stt import SonioxRecognition, soniox_context

    plan = choose(assistant, keys)
    tts: TextToSpeech | None = None
    stt: SpeechToText | None = None
    if plan.tts == "cartesia" and keys.cartesia_api_key:
        tts = CartesiaSpeech(
            api_key=keys.cartesia_api_key,
            base_url=keys.cartesia_base_url,
            **_voiced(assistant, plan),
            pronunciation_dict_id=assistant.get("cartesia_dictionary_pronunciation_id"),
        )
    if plan.tts == "elevenlabs" and keys.elevenlabs_api_key:
        from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech

        tts = ElevenLabsSpeech(
            api_key=keys.elevenlabs_api_key,
            base_url=keys.elevenlabs_base_url,
            **_voiced(assistant, plan),
        )
    if plan.stt == "soniox" and keys.soniox_api_key:
        stt = SonioxRecognition(
            api_key=keys.soniox_api_key,
            base_url=keys.soniox_base_url,
            model=str(plan.record["stt"]["model"]),
            context=soniox_context(assistant.get("stt_context")),
        )
    if plan.stt == "deepgram" and keys.deepgram_api_key:
        from openrevox.audio.providers.deepgram.stt import DeepgramRecognition

        stt = DeepgramRecognition(
            api_key=keys.deepgram_api_key,
            base_url=keys.deepgram_base_url,
            model=str(plan.record["stt"]["model"]),
            terms=context_terms(assistant.get("stt_context")),
        )
    if keys.openai_speech_base_url and "openai" in (plan.tts, plan.stt):
        from openrevox.audio.providers.openai_compatible.speech import (
            OpenAISpeech,
            OpenAITranscription,
        )

        if plan.tts == "openai":
            voice = assistant.get("voice") or {}
            tts = OpenAISpeech(
                base_url=keys.openai_speech_base_url,
                api_key=keys.openai_speech_api_key,
                model=keys.openai_tts_model,
                voice=keys.openai_tts_voice,
                speed=_speed(voice),
            )
        if plan.stt == "openai":
            stt = OpenAITranscription(
                base_url=keys.openai_speech_base_url,
                api_key=keys.openai_speech_api_key,
                model=keys.openai_stt_model,
                terms=context_terms(assistant.get("stt_context")),
            )
    return CallSpeech(stt=stt, tts=tts, record=plan.record)


def context_terms(stt_context: Mapping[str, Any] | None) -> list[str]:
    """The assistant's ``stt_context`` terms, for providers with no key/value context
    (Deepgram's keyterms, an OpenAI-compatible server's prompt)."""
    if not stt_context:
        return []
    return [str(term).strip() for term in stt_context.get("terms") or [] if str(term).strip()]


def _voiced(assistant: Mapping[str, Any], plan: SpeechPlan) -> dict[str, Any]:
    """The voice settings Cartesia and ElevenLabs both take."""
    voice = assistant.get("voice") or {}
    return {
        "voice_id": str(voice["id"]),
        "model": str(plan.record["tts"]["model"]),
        "speed": _speed(voice),
        "volume": _volume(voice.get("volume")),
    }


def _speed(voice: Mapping[str, Any]) -> float | None:
    """The voice's speed, or None when unset (the provider's own default)."""
    from openrevox.audio.tts import voice_speed

    return voice_speed(voice) if voice.get("speed") is not None else None


def _volume(value: Any) -> float | None:
    """Cartesia's volume range (0.5-2.0), or None when unset."""
    return None if value is None else min(max(float(value), 0.5), 2.0)


def factory(keys: SpeechKeys) -> SpeechFactory:
    """``build`` bound to ``keys``: a ``speech.SpeechFactory``."""

    def for_call(assistant: Mapping[str, Any]) -> CallSpeech:
        return build(assistant, keys)

    return for_call
