"""CartesiaClient against a fake Cartesia over real HTTP: headers, paths, bodies, errors."""

from __future__ import annotations

import socket

import pytest

from openrevox.voices.cartesia import CartesiaClient
from openrevox.voices.models import VoiceNotFound, VoiceProviderError
from tests.voices.fake_cartesia import FakeCartesia
from tests.voices.fake_server import FAKE_MP3


def test_cartesia_client_refuses_an_empty_api_key() -> None:
    with pytest.raises(ValueError, match="OPENREVOX_CARTESIA_API_KEY"):
        CartesiaClient(api_key="  ")


async def test_cartesia_sends_bearer_key_and_version_header(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    await cartesia.list_voices()
    request = fake_cartesia.requests[0]
    assert request.headers["authorization"] == f"Bearer {fake_cartesia.api_key}"
    assert request.headers["cartesia-version"] == "2025-04-16"


async def test_cartesia_list_follows_every_page(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    voices = await cartesia.list_voices()
    pages = fake_cartesia.requests_to("GET", "/voices")
    assert len(pages) == 3  # five voices, two a page
    assert "starting_after" not in pages[0].query
    assert pages[1].query["starting_after"] == fake_cartesia.voices[1]["id"]
    assert all(page.query["limit"] == "100" for page in pages)
    # Japanese is outside the contract's languages, so four of the five are listed.
    assert [v.name for v in voices] == [
        "Barbershop Man", "French Conversational Lady", "Our Clone", "British Lady",
    ]  # fmt: skip


async def test_cartesia_list_maps_language_gender_accent_and_ownership(
    cartesia: CartesiaClient,
) -> None:
    by_name = {voice.name: voice for voice in await cartesia.list_voices()}
    barbershop = by_name["Barbershop Man"]
    assert (barbershop.provider, barbershop.language, barbershop.gender) == (
        "cartesia", "en", "male",
    )  # fmt: skip
    assert barbershop.accent == "american"
    assert by_name["British Lady"].accent == "british"
    assert by_name["French Conversational Lady"].language == "fr"
    assert by_name["French Conversational Lady"].gender == "female"
    assert by_name["Our Clone"].is_cloned
    assert not barbershop.is_cloned


async def test_cartesia_synthesize_posts_tts_bytes_for_mp3(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    audio, content_type = await cartesia.synthesize(
        voice_id="a249eaff-1e96-4d2c-b23b-12efa4f66f41",
        text="Bonjour !",
        model="sonic-3.5",
        speed=1.2,
        volume=0.8,
        language="fr",
    )
    assert (audio, content_type) == (FAKE_MP3, "audio/mpeg")
    [request] = fake_cartesia.requests_to("POST", "/tts/bytes")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "model_id": "sonic-3.5",
        "transcript": "Bonjour !",
        "voice": {"mode": "id", "id": "a249eaff-1e96-4d2c-b23b-12efa4f66f41"},
        "output_format": {"container": "mp3", "sample_rate": 44100, "bit_rate": 128000},
        "language": "fr",
        "generation_config": {"speed": 1.2, "volume": 0.8},
    }


async def test_cartesia_synthesize_rejects_empty_text(cartesia: CartesiaClient) -> None:
    with pytest.raises(ValueError, match="empty"):
        await cartesia.synthesize(voice_id="a0e99841-438c-4a64-b679-ae501e7d6091", text=" ")


async def test_cartesia_unknown_voice_raises_voice_not_found(cartesia: CartesiaClient) -> None:
    with pytest.raises(VoiceNotFound) as caught:
        await cartesia.synthesize(voice_id="no-such-voice", text="Hello")
    assert (caught.value.provider, caught.value.status) == ("cartesia", 404)


async def test_cartesia_clone_uploads_the_clip_as_multipart(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    sample = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32
    voice_id = await cartesia.clone(
        audio=sample, content_type="audio/wav", name="Agent Léa", language="fr"
    )
    [request] = fake_cartesia.requests_to("POST", "/voices/clone")
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.form == {"name": "Agent Léa", "language": "fr"}
    [clip] = request.files
    assert (clip.field, clip.filename, clip.content_type) == ("clip", "sample.wav", "audio/wav")
    assert clip.content == sample
    assert voice_id == fake_cartesia.voices[-1]["id"]


async def test_cartesia_delete_voice_sends_delete_to_the_voice(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia
) -> None:
    clone_id = "11111111-2222-4333-8444-555555555555"
    await cartesia.delete_voice(clone_id)
    assert fake_cartesia.requests_to("DELETE", f"/voices/{clone_id}")
    assert clone_id not in {v["id"] for v in fake_cartesia.voices}
    with pytest.raises(VoiceNotFound):
        await cartesia.delete_voice(clone_id)


async def test_cartesia_rejected_key_raises_provider_error(fake_cartesia: FakeCartesia) -> None:
    async with CartesiaClient(api_key="wrong-key", base_url=fake_cartesia.url) as client:
        with pytest.raises(VoiceProviderError) as caught:
            await client.list_voices()
    assert not isinstance(caught.value, VoiceNotFound)
    assert caught.value.status == 401
    assert "API key" in str(caught.value)
    assert "wrong-key" not in str(caught.value)


@pytest.mark.parametrize("status", [403, 429, 500, 503])
async def test_cartesia_refusals_and_outages_raise_provider_error_with_status(
    cartesia: CartesiaClient, fake_cartesia: FakeCartesia, status: int
) -> None:
    fake_cartesia.outage_status = status
    with pytest.raises(VoiceProviderError) as caught:
        await cartesia.list_voices()
    assert caught.value.status == status
    assert not isinstance(caught.value, VoiceNotFound)


async def test_cartesia_unreachable_host_raises_provider_error_without_status() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with CartesiaClient(api_key="k", base_url=f"http://127.0.0.1:{port}") as client:
        with pytest.raises(VoiceProviderError) as caught:
            await client.list_voices()
    assert caught.value.status is None
