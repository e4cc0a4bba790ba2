"""The speech providers this server may use (``OPENREVOX_*`` speech settings), and the
rule that keeps the bundled local kit off real carrier calls unless it is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openrevox.audio.providers import SpeechKeys, choose
from openrevox.audio.speech import LOCAL
from openrevox.settings import Settings


def speech_keys(settings: Settings) -> SpeechKeys:
    return SpeechKeys(
        cartesia_api_key=settings.cartesia_api_key,
        cartesia_base_url=settings.cartesia_base_url,
        soniox_api_key=settings.soniox_api_key,
        soniox_base_url=settings.soniox_base_url,
        elevenlabs_api_key=settings.elevenlabs_api_key,
        elevenlabs_base_url=settings.elevenlabs_base_url,
        elevenlabs_tts_model=settings.elevenlabs_tts_model,
        deepgram_api_key=settings.deepgram_api_key,
        deepgram_base_url=settings.deepgram_base_url,
        deepgram_model=settings.deepgram_model,
        openai_speech_base_url=settings.openai_speech_base_url,
        openai_speech_api_key=settings.openai_speech_api_key,
        openai_tts_model=settings.openai_tts_model,
        openai_tts_voice=settings.openai_tts_voice,
        openai_stt_model=settings.openai_stt_model,
        stt_provider=settings.stt_provider,
        tts_fallback=settings.tts_fallback,
    )


def local_speech_refusal(settings: Settings, assistant: Mapping[str, Any]) -> str | None:
    """Why a call to a real carrier cannot have this assistant's speech, or None. The
    local kit (Piper, pocketsphinx) is a demo voice and ear: on a real line it serves
    only with ``OPENREVOX_LOCAL_SPEECH=allow``."""
    if settings.local_speech == "allow":
        return None
    plan = choose(assistant, speech_keys(settings))
    local = [
        f"{side.upper()}: {plan.record[side].get('fallback_reason') or 'the local kit'}"
        for side in ("tts", "stt")
        if plan.record[side]["provider"] == LOCAL
    ]
    if not local:
        return None
    return (
        "this call reaches a real carrier and its speech would be the bundled local kit ("
        + "; ".join(local)
        + "): set the speech provider's key named there, or allow the local kit with "
        "OPENREVOX_LOCAL_SPEECH=allow"
    )
