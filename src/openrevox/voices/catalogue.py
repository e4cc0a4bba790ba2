"""The preset voices: each provider's live list when it has an API key, else (or when the
provider fails) the list bundled with openrevox, so GET /voices always answers."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, cast

from openrevox.voices.cartesia import CartesiaClient
from openrevox.voices.elevenlabs import ElevenLabsClient
from openrevox.voices.models import (
    VOICE_LANGUAGES,
    ModelCompat,
    Voice,
    VoiceProvider,
    VoiceProviderError,
)

log = logging.getLogger(__name__)

CATALOGUE_FILE: Final = "catalogue.json"
LISTED_PROVIDERS: Final[tuple[VoiceProvider, ...]] = ("cartesia", "elevenlabs")
# A provider that is down is asked again after this long at most, not on every request.
FAILURE_RETRY_SECONDS: Final = 60.0
_MODEL_COMPATS: Final = frozenset({"universal", "sonic-3", "sonic-3.5", None})


@functools.cache
def bundled_voices() -> tuple[Voice, ...]:
    """The preset voices shipped in ``voices/data/catalogue.json`` (read once)."""
    source = resources.files("openrevox.voices").joinpath("data", CATALOGUE_FILE)
    document = json.loads(source.read_text(encoding="utf-8"))
    return tuple(
        _bundled_voice(provider, entry)
        for provider in LISTED_PROVIDERS
        for entry in document.get(provider, [])
    )


def _bundled_voice(provider: VoiceProvider, entry: dict[str, Any]) -> Voice:
    """Checks each entry so a bad edit of the JSON fails loudly instead of leaking out."""
    language, compat = entry["language"], entry.get("model_compat")
    if language not in VOICE_LANGUAGES:
        raise ValueError(f"bundled {provider} voice {entry['id']}: bad language {language!r}")
    if compat not in _MODEL_COMPATS:
        raise ValueError(f"bundled {provider} voice {entry['id']}: bad model_compat {compat!r}")
    return Voice(
        id=entry["id"],
        provider=provider,
        name=entry["name"],
        description=entry.get("description") or "",
        language=language,
        accent=entry.get("accent"),
        gender=entry.get("gender"),
        model_compat=cast("ModelCompat | None", compat),
        is_cloned=False,
    )


@dataclass(frozen=True, slots=True)
class _CachedList:
    voices: tuple[Voice, ...]
    expires_at: float


class VoiceCatalogue:
    def __init__(
        self,
        *,
        cartesia: CartesiaClient | None,
        elevenlabs: ElevenLabsClient | None,
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients: dict[VoiceProvider, CartesiaClient | ElevenLabsClient | None] = {
            "cartesia": cartesia,
            "elevenlabs": elevenlabs,
        }
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._cache: dict[VoiceProvider, _CachedList] = {}
        # One fetch per provider at a time: concurrent requests share its result.
        self._locks: dict[VoiceProvider, asyncio.Lock] = {p: asyncio.Lock() for p in self._clients}

    async def presets(self) -> list[Voice]:
        """Cartesia's presets then ElevenLabs', clones excluded (they live in our database)."""
        per_provider = await asyncio.gather(*(self._presets_of(p) for p in LISTED_PROVIDERS))
        return [voice for voices in per_provider for voice in voices]

    async def find(self, provider: str, voice_id: str) -> Voice | None:
        """A preset by provider and id; bundled presets count even when the live list
        omits them (ElevenLabs only lists the voices in the account's library)."""
        if provider not in self._clients:
            return None
        for voice in (*await self._presets_of(provider), *bundled_voices()):
            if voice.provider == provider and voice.id == voice_id:
                return voice
        return None

    async def _presets_of(self, provider: VoiceProvider) -> tuple[Voice, ...]:
        client = self._clients[provider]
        if client is None:
            return _bundled_of(provider)
        cached = self._cache.get(provider)
        if cached is not None and self._clock() < cached.expires_at:
            return cached.voices
        async with self._locks[provider]:
            cached = self._cache.get(provider)  # another request may have refreshed it
            if cached is not None and self._clock() < cached.expires_at:
                return cached.voices
            voices, lifetime = await self._fetch(provider, client)
            self._cache[provider] = _CachedList(voices, self._clock() + lifetime)
            return voices

    async def _fetch(
        self, provider: VoiceProvider, client: CartesiaClient | ElevenLabsClient
    ) -> tuple[tuple[Voice, ...], float]:
        try:
            listed = await client.list_voices()
        except VoiceProviderError as error:
            log.warning(
                "%s voice list unavailable, serving the bundled presets: %s", provider, error
            )
            return _bundled_of(provider), min(self._ttl_seconds, FAILURE_RETRY_SECONDS)
        return tuple(v for v in listed if not v.is_cloned), self._ttl_seconds


def _bundled_of(provider: VoiceProvider) -> tuple[Voice, ...]:
    return tuple(voice for voice in bundled_voices() if voice.provider == provider)
