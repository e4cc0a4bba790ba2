"""Cartesia's REST API (https://api.cartesia.ai): list, speak with, clone and delete voices."""

from __future__ import annotations

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

PROVIDER: Final = "cartesia"
PAGE_SIZE: Final = 100  # the API's maximum per page
MAX_PAGES: Final = 50  # a guard against a cursor that never ends
MP3_FORMAT: Final = {"container": "mp3", "sample_rate": 44100, "bit_rate": 128000}

# Words of Cartesia's accent display names ("General American English") that say nothing
# about the accent itself; what is left is the contract's style ("american", "quebec").
_ACCENT_NOISE: Final = frozenset(
    {"general", "standard", "english", "french", "spanish", "german", "italian",
     "portuguese", "russian", "chinese", "mandarin"}
)  # fmt: skip


class CartesiaClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.cartesia.ai",
        api_version: str = "2025-04-16",
        timeout: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        key = require_api_key(api_key, provider="Cartesia", setting="OPENREVOX_CARTESIA_API_KEY")
        self.api_version = api_version
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            # Current API versions authenticate with a bearer token (X-API-Key is legacy).
            headers={"Authorization": f"Bearer {key}", "Cartesia-Version": api_version},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> CartesiaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def list_voices(self) -> list[Voice]:
        """Every voice the key can use, following the ``starting_after`` cursor.

        Voices in languages outside the contract's eight are left out."""
        voices: list[Voice] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, str | int] = {"limit": PAGE_SIZE}
            if cursor:
                params["starting_after"] = cursor
            body = (await send(self._http, PROVIDER, "GET", "/voices", params=params)).json()
            # Version 2024-06-10 answered a bare array; later versions a page object.
            page: list[Any] = body if isinstance(body, list) else body.get("data") or []
            voices.extend(v for v in (voice_from_cartesia(raw) for raw in page) if v)
            if isinstance(body, list) or not body.get("has_more") or not page:
                break
            cursor = body.get("next_page") or page[-1].get("id")
        return voices

    async def synthesize(
        self,
        *,
        voice_id: str,
        text: str,
        model: str = "sonic-3",
        speed: float = 1.0,
        volume: float = 1.0,
        language: str = "en",
    ) -> tuple[bytes, str]:
        """The whole utterance as MP3 bytes and their content type."""
        if not text.strip():
            raise ValueError("text to synthesize is empty")
        payload = {
            "model_id": model,
            "transcript": text,
            "voice": {"mode": "id", "id": voice_id},
            "output_format": MP3_FORMAT,
            "language": language,
            "generation_config": {"speed": speed, "volume": volume},
        }
        response = await send(self._http, PROVIDER, "POST", "/tts/bytes", json=payload)
        return response.content, "audio/mpeg"

    async def clone(self, *, audio: bytes, content_type: str, name: str, language: str) -> str:
        """Instant clone from one clip; returns the new Cartesia voice id."""
        response = await send(
            self._http,
            PROVIDER,
            "POST",
            "/voices/clone",
            data={"name": name, "language": language},
            files={"clip": (sample_filename(content_type), audio, content_type)},
        )
        voice_id = response.json().get("id")
        if not isinstance(voice_id, str) or not voice_id:
            raise VoiceProviderError(PROVIDER, response.status_code, "clone answer has no id")
        return voice_id

    async def delete_voice(self, voice_id: str) -> None:
        await send(self._http, PROVIDER, "DELETE", f"/voices/{quote(voice_id, safe='')}")


def voice_from_cartesia(raw: Any) -> Voice | None:
    """One entry of GET /voices, or None when it cannot be listed under the contract."""
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    language = language_code(raw.get("language"))
    if language is None:
        return None
    return Voice(
        id=str(raw["id"]),
        provider="cartesia",
        name=str(raw.get("name") or raw["id"]),
        description=str(raw.get("description") or ""),
        language=language,
        accent=_accent(raw.get("accent")),
        gender=gender_label(raw.get("gender")),
        model_compat=None,  # the API does not say; absent means "universal"
        is_cloned=bool(raw.get("is_owner")),  # our organisation's own voices are clones
    )


def _accent(raw: object) -> str | None:
    if isinstance(raw, dict):  # some versions send {"name": ..., "code": ...}
        raw = raw.get("name") or raw.get("code")
    if not isinstance(raw, str):
        return None
    words = [w for w in raw.lower().replace("-", " ").split() if w not in _ACCENT_NOISE]
    return " ".join(words) or None
