"""ElevenLabs' REST API (https://api.elevenlabs.io): list, speak with, clone and delete voices."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import httpx

from openrevox.voices.models import Voice, VoiceProviderError
from openrevox.voices.provider_http import (
    gender_label,
    language_code,
    require_api_key,
    sample_filename,
    send,
)

PROVIDER: Final = "elevenlabs"
MP3_OUTPUT_FORMAT: Final = "mp3_44100_128"
CLONED_CATEGORIES: Final = frozenset({"cloned", "professional"})


class ElevenLabsClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        key = require_api_key(
            api_key, provider="ElevenLabs", setting="OPENREVOX_ELEVENLABS_API_KEY"
        )
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"xi-api-key": key},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ElevenLabsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def list_voices(self) -> list[Voice]:
        """The account's voices (premade ones included) in the contract's languages."""
        body = (await send(self._http, PROVIDER, "GET", "/v1/voices")).json()
        raw_voices = body.get("voices") if isinstance(body, dict) else None
        return [v for v in (voice_from_elevenlabs(raw) for raw in raw_voices or []) if v]

    async def synthesize(
        self,
        *,
        voice_id: str,
        text: str,
        speed: float = 1.0,
        model_id: str = "eleven_multilingual_v2",
    ) -> tuple[bytes, str]:
        """The whole utterance as MP3 bytes and their content type."""
        if not text.strip():
            raise ValueError("text to synthesize is empty")
        response = await send(
            self._http,
            PROVIDER,
            "POST",
            f"/v1/text-to-speech/{quote(voice_id, safe='')}",
            params={"output_format": MP3_OUTPUT_FORMAT},
            headers={"Accept": "audio/mpeg"},
            json={"text": text, "model_id": model_id, "voice_settings": {"speed": speed}},
        )
        return response.content, "audio/mpeg"

    async def clone(self, *, audio: bytes, content_type: str, name: str, language: str) -> str:
        """Instant voice clone from one sample; returns the new ElevenLabs voice id."""
        response = await send(
            self._http,
            PROVIDER,
            "POST",
            "/v1/voices/add",
            # ``labels`` travels as a JSON-encoded form field.
            data={"name": name, "labels": json.dumps({"language": language})},
            files=[("files", (sample_filename(content_type), audio, content_type))],
        )
        voice_id = response.json().get("voice_id")
        if not isinstance(voice_id, str) or not voice_id:
            raise VoiceProviderError(PROVIDER, response.status_code, "clone answer has no id")
        return voice_id

    async def delete_voice(self, voice_id: str) -> None:
        await send(self._http, PROVIDER, "DELETE", f"/v1/voices/{quote(voice_id, safe='')}")


def voice_from_elevenlabs(raw: Any) -> Voice | None:
    """One entry of GET /v1/voices, or None when it cannot be listed under the contract."""
    if not isinstance(raw, dict) or not raw.get("voice_id"):
        return None
    labels: dict[str, Any] = raw.get("labels") or {}
    language = language_code(_language_of(raw, labels))
    if language is None:
        return None
    accent = labels.get("accent")
    return Voice(
        id=str(raw["voice_id"]),
        provider="elevenlabs",
        name=str(raw.get("name") or raw["voice_id"]),
        description=str(raw.get("description") or _describe(labels)),
        language=language,
        accent=accent.strip().lower() if isinstance(accent, str) and accent.strip() else None,
        gender=gender_label(labels.get("gender")),
        model_compat=None,  # a Cartesia notion
        is_cloned=raw.get("category") in CLONED_CATEGORIES,
    )


def _language_of(raw: dict[str, Any], labels: dict[str, Any]) -> object:
    if labels.get("language"):
        return labels["language"]
    fine_tuning = raw.get("fine_tuning")
    if isinstance(fine_tuning, dict) and fine_tuning.get("language"):
        return fine_tuning["language"]
    verified = raw.get("verified_languages")
    if isinstance(verified, list) and verified and isinstance(verified[0], dict):
        return verified[0].get("language")
    return "en"  # the premade voices are English ones that speak every language


def _describe(labels: dict[str, Any]) -> str:
    """Premade voices carry an empty description; their labels say what they sound like."""
    parts = [str(labels[key]) for key in ("description", "age", "use_case") if labels.get(key)]
    return ", ".join(parts).capitalize()
