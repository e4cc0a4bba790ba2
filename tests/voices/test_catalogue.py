"""The preset catalogue: the bundled list, live lists, the fallback and the TTL cache."""

from __future__ import annotations

import asyncio
import logging

import pytest

from openrevox.voices.cartesia import CartesiaClient
from openrevox.voices.catalogue import VoiceCatalogue, bundled_voices
from openrevox.voices.elevenlabs import ElevenLabsClient
from openrevox.voices.models import VOICE_LANGUAGES
from tests.voices.fake_cartesia import FakeCartesia

FRENCH_CARTESIA_VOICE = "a249eaff-1e96-4d2c-b23b-12efa4f66f41"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def first_pages(server: FakeCartesia) -> int:
    """How many times the whole Cartesia list was fetched (pages after the first excluded)."""
    return sum("starting_after" not in r.query for r in server.requests_to("GET", "/voices"))


def test_bundled_catalogue_has_unique_voices_in_contract_languages() -> None:
    voices = bundled_voices()
    keys = [(voice.provider, voice.id) for voice in voices]
    assert len(keys) == len(set(keys))
    assert {voice.language for voice in voices} <= VOICE_LANGUAGES
    assert all(voice.name and voice.id and not voice.is_cloned for voice in voices)


def test_bundled_catalogue_covers_both_providers_and_several_languages() -> None:
    voices = bundled_voices()
    cartesia = [v for v in voices if v.provider == "cartesia"]
    elevenlabs = [v for v in voices if v.provider == "elevenlabs"]
    assert 15 <= len(cartesia) <= 25 and 10 <= len(elevenlabs) <= 20
    assert {v.language for v in cartesia} == VOICE_LANGUAGES
    assert any(v.id == FRENCH_CARTESIA_VOICE and v.language == "fr" for v in cartesia)
    assert any(v.id == "21m00Tcm4TlvDq8ikWAM" and v.name == "Rachel" for v in elevenlabs)


async def test_catalogue_without_api_keys_serves_the_bundled_presets() -> None:
    catalogue = VoiceCatalogue(cartesia=None, elevenlabs=None)
    assert await catalogue.presets() == list(bundled_voices())
    french = await catalogue.find("cartesia", FRENCH_CARTESIA_VOICE)
    assert french is not None and french.name == "French Conversational Lady"
    assert await catalogue.find("elevenlabs", FRENCH_CARTESIA_VOICE) is None
    assert await catalogue.find("gradium", FRENCH_CARTESIA_VOICE) is None


async def test_catalogue_serves_live_presets_without_clones(
    cartesia: CartesiaClient, elevenlabs: ElevenLabsClient
) -> None:
    catalogue = VoiceCatalogue(cartesia=cartesia, elevenlabs=elevenlabs)
    presets = await catalogue.presets()
    assert [(v.provider, v.name) for v in presets] == [
        ("cartesia", "Barbershop Man"),
        ("cartesia", "French Conversational Lady"),
        ("cartesia", "British Lady"),
        ("elevenlabs", "Rachel"),
        ("elevenlabs", "River"),
    ]


async def test_catalogue_falls_back_to_bundled_presets_when_provider_answers_500(
    cartesia: CartesiaClient,
    fake_cartesia: FakeCartesia,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_cartesia.outage_status = 500
    catalogue = VoiceCatalogue(cartesia=cartesia, elevenlabs=None)
    with caplog.at_level(logging.WARNING, logger="openrevox.voices.catalogue"):
        presets = await catalogue.presets()
    assert presets == list(bundled_voices())
    assert any("cartesia" in r.getMessage() and "500" in r.getMessage() for r in caplog.records)


async def test_catalogue_asks_a_failed_provider_again_after_a_minute(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    clock = FakeClock()
    catalogue = VoiceCatalogue(cartesia=cartesia, elevenlabs=None, ttl_seconds=300, clock=clock)
    fake_cartesia.outage_status = 503
    await catalogue.presets()
    fake_cartesia.outage_status = None
    clock.now += 30
    assert await catalogue.find("cartesia", "a0e99841-438c-4a64-b679-ae501e7d6091")
    assert first_pages(fake_cartesia) == 1  # still inside the retry delay
    clock.now += 31
    names = [v.name for v in await catalogue.presets() if v.provider == "cartesia"]
    assert names == ["Barbershop Man", "French Conversational Lady", "British Lady"]
    assert first_pages(fake_cartesia) == 2


async def test_catalogue_caches_the_live_list_for_its_ttl(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    clock = FakeClock()
    catalogue = VoiceCatalogue(cartesia=cartesia, elevenlabs=None, ttl_seconds=300, clock=clock)
    await catalogue.presets()
    clock.now += 299
    await catalogue.presets()
    await catalogue.find("cartesia", FRENCH_CARTESIA_VOICE)
    assert first_pages(fake_cartesia) == 1
    clock.now += 2
    await catalogue.presets()
    assert first_pages(fake_cartesia) == 2


async def test_concurrent_requests_share_one_fetch(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    catalogue = VoiceCatalogue(cartesia=cartesia, elevenlabs=None)
    results = await asyncio.gather(*(catalogue.presets() for _ in range(5)))
    assert all(result == results[0] for result in results)
    assert first_pages(fake_cartesia) == 1


async def test_catalogue_find_also_knows_bundled_presets_missing_from_the_live_list(
    elevenlabs: ElevenLabsClient,
) -> None:
    catalogue = VoiceCatalogue(cartesia=None, elevenlabs=elevenlabs)
    george = await catalogue.find("elevenlabs", "JBFqnCBsd6RMkjVDRZzb")  # bundled only
    assert george is not None and george.name == "George"
    river = await catalogue.find("elevenlabs", "SAz9YHcvj6GT2YYXdXww")
    assert river is not None and river.description == "Confident, middle-aged, social media"
    assert await catalogue.find("elevenlabs", "cloneAAAAAAAAAAAAAAA") is None
