"""A stand-in for Cartesia's REST API, speaking its wire format over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.voices.fake_server import FAKE_MP3, FakeProvider, parse_multipart


class FakeCartesia(FakeProvider):
    """GET /voices (cursor pages of two), POST /tts/bytes, POST /voices/clone, DELETE."""

    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.voices: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.voices = [
            cartesia_voice("a0e99841-438c-4a64-b679-ae501e7d6091", "Barbershop Man", "en",
                           gender="masculine", accent="General American English"),
            cartesia_voice("a249eaff-1e96-4d2c-b23b-12efa4f66f41", "French Conversational Lady",
                           "fr", gender="feminine"),
            cartesia_voice("2b568345-1d48-4047-b25f-7baccf842eb0", "Japanese Woman", "ja"),
            cartesia_voice("11111111-2222-4333-8444-555555555555", "Our Clone", "en",
                           is_owner=True),
            cartesia_voice("79a125e8-cd45-4c13-8a67-188112f4dd22", "British Lady", "en",
                           gender="feminine", accent="British English"),
        ]  # fmt: skip

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/voices", self.list_voices, methods=["GET"]),
                Route("/voices/", self.list_voices, methods=["GET"]),
                Route("/tts/bytes", self.tts_bytes, methods=["POST"]),
                Route("/voices/clone", self.clone, methods=["POST"]),
                Route("/voices/{voice_id}", self.delete, methods=["DELETE"]),
            ]
        )

    async def refuse(self, request: Request) -> Response | None:
        await self.record(request)
        if self.outage_status is not None:
            return JSONResponse({"error": "Internal server error"}, self.outage_status)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": "Invalid API key"}, 401)
        if not request.headers.get("cartesia-version"):
            return JSONResponse({"error": "Cartesia-Version header is required"}, 400)
        return None

    async def list_voices(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        limit = min(int(request.query_params.get("limit", "10")), self.page_size)
        after = request.query_params.get("starting_after")
        ids = [v["id"] for v in self.voices]
        start = ids.index(after) + 1 if after in ids else 0
        page = self.voices[start : start + limit]
        has_more = start + limit < len(self.voices)
        return JSONResponse({"data": page, "has_more": has_more})

    async def tts_bytes(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        voice_id = (await request.json())["voice"]["id"]
        if voice_id not in {v["id"] for v in self.voices}:
            return JSONResponse({"error": f"Voice {voice_id} not found"}, 404)
        return Response(FAKE_MP3, media_type="audio/mpeg")

    async def clone(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        form, _ = parse_multipart(request.headers["content-type"], await request.body())
        voice = cartesia_voice(str(uuid.uuid4()), form["name"], form["language"], is_owner=True)
        self.voices.append(voice)
        keys = ("id", "name", "description", "language", "created_at", "is_public", "user_id")
        return JSONResponse({k: voice[k] for k in keys})

    async def delete(self, request: Request) -> Response:
        if refusal := await self.refuse(request):
            return refusal
        voice_id = request.path_params["voice_id"]
        owned = [v for v in self.voices if v["id"] == voice_id and v["is_owner"]]
        if not owned:
            return JSONResponse({"error": "Voice not found"}, 404)
        self.voices.remove(owned[0])
        return Response(status_code=204)


def cartesia_voice(
    voice_id: str,
    name: str,
    language: str,
    *,
    gender: str | None = None,
    accent: str | None = None,
    is_owner: bool = False,
) -> dict[str, Any]:
    return {
        "id": voice_id,
        "user_id": "user_fake" if is_owner else None,
        "is_owner": is_owner,
        "is_public": not is_owner,
        "name": name,
        "description": f"{name} (fake)",
        "created_at": "2025-01-02T03:04:05Z",
        "language": language,
        "gender": gender,
        "accent": accent,
    }
