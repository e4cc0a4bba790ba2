"""Voices: the preset catalogue plus the organization's clones, previews, clone, delete."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.settings import Settings
from openrevox.store.repositories import assistants, cloned_voices
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.cloned_voices import ClonedVoice
from openrevox.voices.cartesia import CartesiaClient
from openrevox.voices.catalogue import VoiceCatalogue
from openrevox.voices.elevenlabs import ElevenLabsClient
from openrevox.voices.local_tts import shared_local_speech
from openrevox.voices.models import Voice, VoiceNotFound, VoiceProviderError

MAX_CLONE_BYTES = 7_500_000
DEFAULT_PREVIEW_TEXT = "Hello! This is a short preview of how I sound on the phone."


class VoiceService:
    def __init__(
        self,
        *,
        catalogue: VoiceCatalogue,
        cartesia: CartesiaClient | None,
        elevenlabs: ElevenLabsClient | None,
        samples_dir: Path,
    ) -> None:
        self.catalogue = catalogue
        self.cartesia = cartesia
        self.elevenlabs = elevenlabs
        self.samples_dir = samples_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> VoiceService:
        cartesia = (
            CartesiaClient(api_key=settings.cartesia_api_key, base_url=settings.cartesia_base_url)
            if settings.cartesia_api_key
            else None
        )
        elevenlabs = (
            ElevenLabsClient(
                api_key=settings.elevenlabs_api_key, base_url=settings.elevenlabs_base_url
            )
            if settings.elevenlabs_api_key
            else None
        )
        return cls(
            catalogue=VoiceCatalogue(cartesia=cartesia, elevenlabs=elevenlabs),
            cartesia=cartesia,
            elevenlabs=elevenlabs,
            samples_dir=settings.data_dir / "voice-samples",
        )

    async def aclose(self) -> None:
        for client in (self.cartesia, self.elevenlabs):
            if client is not None:
                await client.aclose()

    async def _clones(self, conn: AsyncConnection, principal: Principal) -> list[ClonedVoice]:
        return await cloned_voices.list_clones(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )

    @staticmethod
    def _as_voice(clone: ClonedVoice) -> Voice:
        return Voice(
            id=clone.provider_voice_id,
            provider="cartesia",
            name=clone.name,
            description="Cloned voice",
            language=clone.language,
            accent=None,
            gender=None,
            model_compat=None,
            is_cloned=True,
        )

    async def list(self, conn: AsyncConnection, principal: Principal) -> list[Voice]:
        clones = [self._as_voice(clone) for clone in await self._clones(conn, principal)]
        return [*await self.catalogue.presets(), *clones]

    async def find(
        self, conn: AsyncConnection, principal: Principal, provider: str, voice_id: str
    ) -> Voice | None:
        for clone in await self._clones(conn, principal):
            if provider == "cartesia" and voice_id in (clone.provider_voice_id, clone.id):
                return self._as_voice(clone)
        return await self.catalogue.find(provider, voice_id)

    async def preview(
        self,
        *,
        voice: Voice,
        text: str,
        model: str | None,
        speed: float,
        volume: float,
    ) -> tuple[bytes, str]:
        """Real audio: the provider's TTS when it is configured, else our local voice."""
        provider, voice_id = voice.provider, voice.id
        try:
            if provider == "cartesia" and self.cartesia is not None:
                return await self.cartesia.synthesize(
                    voice_id=voice_id,
                    text=text,
                    model=model or "sonic-3",
                    speed=speed,
                    volume=volume,
                    language=voice.language,
                )
            if provider == "elevenlabs" and self.elevenlabs is not None:
                return await self.elevenlabs.synthesize(voice_id=voice_id, text=text, speed=speed)
        except VoiceNotFound:
            raise NotFound(f"no {provider} voice with id '{voice_id}'", param="voiceId") from None
        except VoiceProviderError as error:
            raise Conflict(f"{provider} could not synthesize the preview: {error}") from None
        return await shared_local_speech().synthesize(text, speed=speed), "audio/wav"

    async def clone(
        self,
        conn: AsyncConnection,
        principal: Principal,
        *,
        audio_base64: str,
        content_type: str,
        language: str,
        name: str,
        now: datetime,
    ) -> ClonedVoice:
        if self.cartesia is None:
            # Piper (the local kit) cannot learn a voice from a sample: a "clone" made
            # without a provider would speak with a stock voice.
            raise Conflict(
                "voice cloning needs Cartesia: set OPENREVOX_CARTESIA_API_KEY on the server "
                "(the local voices cannot be cloned)",
                code="voice_cloning_not_configured",
            )
        try:
            audio = base64.b64decode(audio_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidField("audio must be base64-encoded", param="audio") from None
        if not audio:
            raise InvalidField("audio is empty", param="audio")
        if len(audio) > MAX_CLONE_BYTES:
            raise InvalidField("audio is larger than 7.5 MB once decoded", param="audio")
        voice_id = str(uuid.uuid4())
        try:
            provider_voice_id = await self.cartesia.clone(
                audio=audio, content_type=content_type, name=name, language=language
            )
        except VoiceProviderError as error:
            raise Conflict(f"cartesia refused the clone: {error}") from None
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        sample = self.samples_dir / voice_id
        sample.write_bytes(audio)
        clone = ClonedVoice(voice_id, provider_voice_id, name, language, now)
        await cloned_voices.insert_clone(
            conn,
            clone=clone,
            organization_id=principal.organization_id,
            mode=principal.mode,
            provider="cartesia",
            sample_key=sample.name,
        )
        return clone

    async def delete(self, conn: AsyncConnection, principal: Principal, voice_id: str) -> None:
        """Only clones can be deleted, and not while an assistant speaks with them."""
        clone = next(
            (
                c
                for c in await self._clones(conn, principal)
                if voice_id in (c.id, c.provider_voice_id)
            ),
            None,
        )
        if clone is None:
            if await self.catalogue.find("cartesia", voice_id) or await self.catalogue.find(
                "elevenlabs", voice_id
            ):
                raise Conflict("only cloned voices can be deleted; this is a preset voice")
            raise NotFound(f"no cloned voice with id '{voice_id}'", param="id")
        users = await assistants.using_voice(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            provider="cartesia",
            voice_id=clone.provider_voice_id,
        )
        if users:
            raise Conflict(
                f"voice is in use by {len(users)} assistant(s): {', '.join(users[:5])}",
                code="voice_in_use",
            )
        if self.cartesia is not None and clone.provider_voice_id != clone.id:
            try:
                await self.cartesia.delete_voice(clone.provider_voice_id)
            except VoiceNotFound:
                pass  # already gone at the provider: finish removing it here
            except VoiceProviderError as error:
                raise Conflict(f"cartesia refused to delete the voice: {error}") from None
        await cloned_voices.delete_clone(conn, clone.id)
        (self.samples_dir / clone.id).unlink(missing_ok=True)
