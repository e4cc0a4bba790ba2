"""Fixtures: fake Cartesia and ElevenLabs servers on loopback (one each per session, reset
before every test) and our real clients pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from openrevox.voices.cartesia import CartesiaClient
from openrevox.voices.elevenlabs import ElevenLabsClient
from tests.voices.fake_cartesia import FakeCartesia
from tests.voices.fake_elevenlabs import FakeElevenLabs


@pytest.fixture(scope="session")
def cartesia_server() -> Iterator[FakeCartesia]:
    server = FakeCartesia()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def elevenlabs_server() -> Iterator[FakeElevenLabs]:
    server = FakeElevenLabs()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_cartesia(cartesia_server: FakeCartesia) -> FakeCartesia:
    cartesia_server.reset()
    return cartesia_server


@pytest.fixture
def fake_elevenlabs(elevenlabs_server: FakeElevenLabs) -> FakeElevenLabs:
    elevenlabs_server.reset()
    return elevenlabs_server


@pytest_asyncio.fixture(loop_scope="function")
async def cartesia(fake_cartesia: FakeCartesia) -> AsyncIterator[CartesiaClient]:
    async with CartesiaClient(api_key=fake_cartesia.api_key, base_url=fake_cartesia.url) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="function")
async def elevenlabs(fake_elevenlabs: FakeElevenLabs) -> AsyncIterator[ElevenLabsClient]:
    async with ElevenLabsClient(
        api_key=fake_elevenlabs.api_key, base_url=fake_elevenlabs.url
    ) as client:
        yield client
