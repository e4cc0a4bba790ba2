"""The provider-neutral voice record and the errors every provider client raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

VoiceProvider = Literal["cartesia", "elevenlabs", "gradium"]
ModelCompat = Literal["universal", "sonic-3", "sonic-3.5"]

# The contract's closed set: a voice in any other language cannot be listed.
VOICE_LANGUAGES: Final = frozenset({"en", "fr", "es", "de", "it", "pt", "ru", "zh"})
VOICE_PROVIDERS: Final = frozenset({"cartesia", "elevenlabs", "gradium"})


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    provider: VoiceProvider
    name: str
    description: str
    language: str  # one of VOICE_LANGUAGES
    accent: str | None
    gender: str | None
    model_compat: ModelCompat | None  # None reads as "universal" (the contract's rule)
    is_cloned: bool


class VoiceProviderError(Exception):
    """A provider refused or failed a request; ``status`` is None when no answer came back."""

    def __init__(self, provider: str, status: int | None, message: str) -> None:
        self.provider = provider
        self.status = status
        self.message = message
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{provider} ({where}): {message}")


class VoiceNotFound(VoiceProviderError):
    """The provider has no voice with the requested id."""
