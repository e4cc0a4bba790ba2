"""The fake ElevenLabs multi-context websocket checked by code we did not write: the
official ``elevenlabs`` SDK's message models (it has no client for this websocket)
build what is sent (``InitialiseContext``, ``SendTextMulti``, ``CloseContext``) and
parse what comes back (``AudioOutputMulti`` with its ``Alignment``,
``FinalOutputMulti``)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import websockets
from elevenlabs.types import (
    AudioOutputMulti,
    CloseContext,
    FinalOutputMulti,
    InitialiseContext,
    RealtimeVoiceSettings,
    SendTextMulti,
)
from pydantic import BaseModel

from openrevox.audio.codec import ulaw_decode
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS

VOICE = "21m00Tcm4TlvDq8ikWAM"


def wire(model: BaseModel) -> str:
    return json.dumps(model.model_dump(exclude_none=True))


def test_the_sdks_messages_stream_a_context_of_mu_law_audio_with_its_alignment(
    fake_elevenlabs_tts: FakeElevenLabsTTS,
) -> None:
    fake = fake_elevenlabs_tts
    url = fake.ws_url.replace("{voice_id}", VOICE)

    async def stream() -> tuple[bytes, str, list[Any]]:
        audio, chars, finals = b"", "", []
        async with websockets.connect(
            url + "?model_id=eleven_flash_v2_5&output_format=ulaw_8000",
            additional_headers={"xi-api-key": fake.api_key},
        ) as connection:
            settings = RealtimeVoiceSettings(stability=0.4, similarity_boost=0.8, speed=1.1)
            await connection.send(
                wire(InitialiseContext(text=" ", context_id="c1", voice_settings=settings))
            )
            await connection.send(
                wire(SendTextMulti(text="Hello there. ", context_id="c1", flush=True))
            )
            async for raw in connection:
                message = json.loads(raw)
                if "audio" in message:
                    chunk = AudioOutputMulti.model_validate(message)
                    assert chunk.context_id == "c1" and chunk.alignment is not None
                    audio += base64.b64decode(chunk.audio)
                    chars += "".join(chunk.alignment.chars or [])
                    if chars.strip() == "Hello there.":
                        await connection.send(
                            wire(CloseContext(context_id="c1", close_context=True))
                        )
                else:
                    finals.append(FinalOutputMulti.model_validate(message))
                    break
        return audio, chars, finals

    audio, chars, finals = asyncio.run(stream())
    samples = ulaw_decode(audio)
    assert len(samples) > 4000 and np.abs(samples).max() > 3000
    assert chars.strip() == "Hello there."
    assert finals[0].is_final and finals[0].context_id == "c1"
    assert fake.messages[0]["voice_settings"] == {
        "stability": 0.4,
        "similarity_boost": 0.8,
        "speed": 1.1,
    }


def test_a_wrong_key_is_refused_at_the_handshake(fake_elevenlabs_tts: FakeElevenLabsTTS) -> None:
    url = fake_elevenlabs_tts.ws_url.replace("{voice_id}", VOICE)

    async def connect() -> int:
        try:
            async with websockets.connect(url, additional_headers={"xi-api-key": "wrong"}):
                return 101
        except websockets.InvalidStatus as error:
            return error.response.status_code

    assert asyncio.run(connect()) == 401
