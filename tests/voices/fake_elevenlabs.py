"""A stand-in for ElevenLabs' REST API, speaking its wire format over real HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.voices.fake_server import FAKE_MP3, FakeProvider, parse_multipart


class FakeElevenLabs(FakeProvider):
    """GET /v1/voices, POST /v1/text-to-speech/{id}, POST /v1/voices/add, DELETE."""

    def __init__(self) -> None:
        super().__init__()
        self.voices: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.voices = [
            elevenlabs_voice("21m00Tcm4TlvDq8ikWAM", "Rachel", accent="american",
                             description="calm", age="young", gender="female",
                             use_case="narration"),
            elevenlabs_voice("SAz9YHcvj6GT2YYXdXww", "River", accent="American",
                             description="confident", age="middle-aged", gender="non-binary",
                             use_case="social media"),
            elevenlabs_voice("cloneAAAAAAAAAAAAAAA", "Our Clone", category="cloned"),
            elevenlabs_voice("japaneseAAAAAAAAAAAA", "Japanese Voice", language="ja"),
        ]  # fmt: skip

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/voices", self.list_voices, methods=["GET"]),
                Route("/v1/text-to-speech/{voice_id}", self.text_to_speech, methods=["POST"]),
                Route("/v1/voices/add", self.add_voice, methods=["POST"]),
                Route("/v1/voices/{voice_id}", self.delete, methods=["DELETE"]),
            ]
        )

    async def refuse(self, request: Request) -> Response | None:
        await self.record(request)
        if self.outage_status is not None:
            return JSONResponse({"detail": "Internal Server Error"}, self.outage_status)
        if request.headers.get("xi-api-key") != self.api_key:
            detail = {"status": "invalid_api_key", "message": "Invalid API key"}
            return JSONResponse({"detail": detail}, 401)
        return None

    def voice_not_found(self, voice_id: str) -> Response:
        message = f"A voice with the voice_id {voice_id} was not found."
        return JSONResponse({"detail": {"status": "voice_not_found", "message": message}}, 404)

    async def list_voices(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        return JSONResponse({"voices": self.voices})

    async def text_to_speech(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        voice_id = request.path_params["voice_id"]
        if voice_id not in {v["voice_id"] for v in self.voices}:
            return self.voice_not_found(voice_id)
        return Response(FAKE_MP3, media_type="audio/mpeg")

    async def add_voice(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        form, files = parse_multipart(request.headers["content-type"], await request.body())
        if not files:
            return JSONResponse({"detail": {"status": "invalid", "message": "no files"}}, 422)
        labels = json.loads(form.get("labels", "{}"))
        voice_id = uuid.uuid4().hex[:20]
        self.voices.append(elevenlabs_voice(voice_id, form["name"], category="cloned", **labels))
        return JSONResponse({"voice_id": voice_id, "requires_verification": False})

    async def delete(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        voice_id = request.path_params["voice_id"]
        owned = [v for v in self.voices if v["voice_id"] == voice_id]
        if not owned:
            return self.voice_not_found(voice_id)
        self.voices.remove(owned[0])
        return JSONResponse({"status": "ok"})


def elevenlabs_voice(
    voice_id: str, name: str, *, category: str = "premade", language: str = "en", **labels: str
) -> dict[str, Any]:
    """Shaped like an entry of GET /v1/voices (premade voices have an empty description)."""
    return {
        "voice_id": voice_id,
        "name": name,
        "category": category,
        "description": "",
        "labels": labels,
        "fine_tuning": {"language": language, "is_allowed_to_fine_tune": False},
        "preview_url": f"https://example.invalid/{voice_id}.mp3",
        "high_quality_base_model_ids": ["eleven_multilingual_v2"],
    }
