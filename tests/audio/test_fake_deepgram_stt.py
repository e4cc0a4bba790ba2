"""The fake Deepgram live STT checked by code we did not write: the official
``deepgram-sdk``, its environment pointed at the fake, streams mu-law audio, asks for a
Finalize and reads the interim and final results, the end-of-speech events and the
closing Metadata as its own types."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import numpy as np
from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.types import (
    ListenV1Metadata,
    ListenV1Results,
    ListenV1SpeechStarted,
    ListenV1UtteranceEnd,
)

from openrevox.audio.codec import FRAME_SAMPLES, ulaw_encode
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.providers.test_soniox_stt import utterance


def client(fake: FakeDeepgramSTT, api_key: str) -> AsyncDeepgramClient:
    ws = fake.url.replace("http://", "ws://", 1)
    environment = DeepgramClientEnvironment(
        base=fake.url, production=ws, agent=ws, agent_rest=fake.url
    )
    return AsyncDeepgramClient(api_key=api_key, environment=environment)


def test_the_official_sdk_streams_and_reads_results_and_end_of_speech_events(
    fake_deepgram: FakeDeepgramSTT,
) -> None:
    async def run() -> list[Any]:
        received: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's legacy websockets
            async with client(fake_deepgram, fake_deepgram.api_key).listen.v1.connect(
                model="nova-3",
                encoding="mulaw",
                sample_rate=8000,
                interim_results="true",
                endpointing=300,
                utterance_end_ms=1000,
                vad_events="true",
                keyterm="Alex Martin",
            ) as socket:
                audio = utterance("My name is Alex Martin.")
                for start in range(0, len(audio), FRAME_SAMPLES):
                    await socket.send_media(ulaw_encode(audio[start : start + FRAME_SAMPLES]))
                    await asyncio.sleep(0.005)
                for _ in range(60):  # 1.2 s of silence: endpointing, then UtteranceEnd
                    await socket.send_media(ulaw_encode(np.zeros(FRAME_SAMPLES, np.int16)))
                await socket.send_finalize()
                await asyncio.sleep(1.0)
                await socket.send_close_stream()
                async for message in socket:
                    received.append(message)
        return received

    fake_deepgram.interim_every = 0.5
    received = asyncio.run(run())
    results = [m for m in received if isinstance(m, ListenV1Results)]
    finals = [m for m in results if m.is_final]
    assert any(not m.is_final for m in results)  # interim results
    text = " ".join(m.channel.alternatives[0].transcript for m in finals)
    assert "Alex Martin" in text
    assert any(m.speech_final for m in finals) and any(m.from_finalize for m in finals)
    assert any(isinstance(m, ListenV1SpeechStarted) for m in received)
    assert any(isinstance(m, ListenV1UtteranceEnd) for m in received)
    assert isinstance(received[-1], ListenV1Metadata)
    assert fake_deepgram.handshakes[-1]["authorization"] == f"Token {fake_deepgram.api_key}"
    assert fake_deepgram.controls == ["Finalize", "CloseStream"]


def test_the_sdk_sees_a_wrong_key_as_a_401(fake_deepgram: FakeDeepgramSTT) -> None:
    async def run() -> int:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                async with client(fake_deepgram, "wrong").listen.v1.connect(model="nova-3"):
                    return 101
        except ApiError as error:
            return int(error.status_code or 0)

    assert asyncio.run(run()) == 401
