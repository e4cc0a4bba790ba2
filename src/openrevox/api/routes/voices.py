"""The five voice routes (camelCase keys are the contract's)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field, model_validator
from starlette.responses import Response

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.assistant_parts import VOICE_SPEED_RANGES
from openrevox.api.schemas.common import VoiceLanguage, VoiceProvider, WireModel
from openrevox.domain.clock import iso
from openrevox.errors import NotFound
from openrevox.services.voices import DEFAULT_PREVIEW_TEXT
from openrevox.voices.models import Voice

router = APIRouter(prefix="/voices", tags=["voices"])


def voice_list_item(voice: Voice) -> dict[str, Any]:
    return {
        "id": voice.id,
        "description": voice.description,
        "language": voice.language,
        "name": voice.name,
        "provider": voice.provider,
        "accent": voice.accent,
        "gender": voice.gender,
        "isCloned": voice.is_cloned,
        "modelCompat": voice.model_compat,
    }


@router.get("", summary="List preset voices and your organization's cloned voices")
async def list_voices(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        voices = await services.voices.list(conn, principal)
    return JSON({"voices": [voice_list_item(voice) for voice in voices]})


class CloneIn(WireModel):
    audio: Annotated[str, Field(min_length=1, max_length=10_500_000)]
    contentType: Literal[
        "audio/webm", "audio/wav", "audio/mpeg", "audio/ogg", "audio/mp4", "video/webm"
    ]  # fmt: skip
    language: VoiceLanguage
    name: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/clone", summary="Clone a voice from a base64 audio sample (max ~7.5 MB)")
async def clone_voice(body: CloneIn, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        clone = await services.voices.clone(
            conn,
            principal,
            audio_base64=body.audio,
            content_type=body.contentType,
            language=body.language,
            name=body.name,
            now=services.clock.now(),
        )
    return JSON(
        {
            "id": clone.id,
            "cartesiaVoiceId": clone.provider_voice_id,
            "createdAt": iso(clone.created_at),
            "language": clone.language,
            "name": clone.name,
        }
    )


class PreviewIn(WireModel):
    provider: VoiceProvider
    voiceId: Annotated[str, Field(min_length=1)]
    model: Literal["sonic-3", "sonic-3.5"] | None = None
    speed: float | None = None
    text: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    volume: Annotated[float, Field(ge=0.5, le=2.0)] | None = None

    @model_validator(mode="after")
    def _speed_in_range(self) -> PreviewIn:
        low, high = VOICE_SPEED_RANGES[self.provider]
        if self.speed is not None and not low <= self.speed <= high:
            raise ValueError(f"speed for {self.provider} must be between {low} and {high}")
        return self


@router.post(
    "/preview",
    summary="Generate a short audio preview",
    response_class=Response,
    responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}}}},
)
async def preview_voice(body: PreviewIn, principal: Auth, services: Services) -> Response:
    async with services.db.read() as conn:
        voice = await services.voices.find(conn, principal, body.provider, body.voiceId)
    if voice is None:
        raise NotFound(f"no {body.provider} voice with id '{body.voiceId}'", param="voiceId")
    audio, content_type = await services.voices.preview(
        voice=voice,
        text=body.text or DEFAULT_PREVIEW_TEXT,
        model=body.model,
        speed=body.speed or 1.0,
        volume=body.volume or 1.0,
    )
    return Response(audio, media_type=content_type)


@router.get("/{voice_id}", summary="Get a voice by id and provider")
async def get_voice(
    voice_id: str, principal: Auth, services: Services, provider: Annotated[VoiceProvider, Query()]
) -> JSON:
    async with services.db.read() as conn:
        voice = await services.voices.find(conn, principal, provider, voice_id)
    if voice is None:
        raise NotFound(f"no {provider} voice with id '{voice_id}'", param="id")
    return JSON({"voice": {"id": voice.id, "name": voice.name, "description": voice.description}})


@router.delete("/{voice_id}", summary="Delete a cloned voice (409 while an assistant uses it)")
async def delete_voice(voice_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await services.voices.delete(conn, principal, voice_id)
    return success()
