"""Fixtures: the fake Cartesia TTS and Soniox STT websockets (one each per session, reset
before every test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audio.fake_cartesia_tts import FakeCartesiaTTS
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.audio.fake_openai_speech import FakeOpenAISpeech
from tests.audio.fake_soniox_stt import FakeSonioxSTT


@pytest.fixture(scope="session")
def cartesia_tts_server() -> Iterator[FakeCartesiaTTS]:
    server = FakeCartesiaTTS().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def soniox_stt_server() -> Iterator[FakeSonioxSTT]:
    server = FakeSonioxSTT().start()
    yield server
    server.stop()


@pytest.fixture
def fake_cartesia_tts(cartesia_tts_server: FakeCartesiaTTS) -> FakeCartesiaTTS:
    cartesia_tts_server.reset()
    return cartesia_tts_server


@pytest.fixture
def fake_soniox(soniox_stt_server: FakeSonioxSTT) -> FakeSonioxSTT:
    soniox_stt_server.reset()
    return soniox_stt_server


@pytest.fixture(scope="session")
def elevenlabs_tts_server() -> Iterator[FakeElevenLabsTTS]:
    server = FakeElevenLabsTTS().start()
    yield server
    server.stop()


@pytest.fixture
def fake_elevenlabs_tts(elevenlabs_tts_server: FakeElevenLabsTTS) -> FakeElevenLabsTTS:
    elevenlabs_tts_server.reset()
    return elevenlabs_tts_server


@pytest.fixture(scope="session")
def deepgram_stt_server() -> Iterator[FakeDeepgramSTT]:
    server = FakeDeepgramSTT().start()
    yield server
    server.stop()


@pytest.fixture
def fake_deepgram(deepgram_stt_server: FakeDeepgramSTT) -> FakeDeepgramSTT:
    deepgram_stt_server.reset()
    return deepgram_stt_server


@pytest.fixture(scope="session")
def openai_speech_server() -> Iterator[FakeOpenAISpeech]:
    server = FakeOpenAISpeech()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai_speech(openai_speech_server: FakeOpenAISpeech) -> FakeOpenAISpeech:
    openai_speech_server.reset()
    return openai_speech_server
