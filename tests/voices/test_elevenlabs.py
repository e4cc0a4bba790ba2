"""ElevenLabsClient against a fake ElevenLabs over real HTTP: headers, paths, bodies, errors."""

from __future__ import annotations

import json

import pytest

from openrevox.voices.elevenlabs import ElevenLabsClient
from openrevox.voices.models import VoiceNotFound, VoiceProviderError
from tests.voices.fake_elevenlabs import FakeElevenLabs
from tests.voices.fake_server import FAKE_MP3


def test_elevenlabs_client_refuses_an_empty_api_key() -> None:
    with pytest.raises(ValueError, match="OPENREVOX_ELEVENLABS_API_KEY"):
        ElevenLabsClient(api_key="")


async def test_elevenlabs_sends_the_xi_api_key_header(
    elevenlabs: ElevenLabsClient, fake_elevenlabs: FakeElevenLabs
) -> None:
    await elevenlabs.list_voices()
    [request] = fake_elevenlabs.requests_to("GET", "/v1/voices")
    assert request.headers["xi-api-key"] == fake_elevenlabs.api_key
    assert "authorization" not in request.headers


async def test_elevenlabs_list_maps_labels_and_skips_other_languages(
    elevenlabs: ElevenLabsClient,
) -> None:
    by_name = {voice.name: voice for voice in await elevenlabs.list_voices()}
    assert set(by_name) == {"Rachel", "River", "Our Clone"}  # Japanese is left out
    rachel = by_name["Rachel"]
    assert (rachel.id, rachel.provider, rachel.language) == (
        "21m00Tcm4TlvDq8ikWAM", "elevenlabs", "en",
    )  # fmt: skip
    assert (rachel.accent, rachel.gender) == ("american", "female")
    assert rachel.description == "Calm, young, narration"  # premade ones have none of their own
    assert (by_name["River"].accent, by_name["River"].gender) == ("american", "neutral")
    assert by_name["Our Clone"].is_cloned
    assert not rachel.is_cloned
    assert rachel.model_compat is None


async def test_elevenlabs_synthesize_posts_text_and_speed_for_mp3(
    elevenlabs: ElevenLabsClient, fake_elevenlabs: FakeElevenLabs
) -> None:
    audio, content_type = await elevenlabs.synthesize(
        voice_id="21m00Tcm4TlvDq8ikWAM", text="Hi there", speed=1.1
    )
    assert (audio, content_type) == (FAKE_MP3, "audio/mpeg")
    [request] = fake_elevenlabs.requests_to("POST", "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM")
    assert request.query == {"output_format": "mp3_44100_128"}
    assert request.headers["accept"] == "audio/mpeg"
    assert request.json() == {
        "text": "Hi there",
        "model_id": "eleven_multilingual_v2",
        "voice_settings": {"speed": 1.1},
    }


async def test_elevenlabs_unknown_voice_raises_voice_not_found(
    elevenlabs: ElevenLabsClient,
) -> None:
    with pytest.raises(VoiceNotFound) as caught:
        await elevenlabs.synthesize(voice_id="missingAAAAAAAAAAAAA", text="Hello")
    assert caught.value.status == 404
    assert "was not found" in caught.value.message


async def test_elevenlabs_clone_uploads_files_and_labels_as_multipart(
    elevenlabs: ElevenLabsClient, fake_elevenlabs: FakeElevenLabs
) -> None:
    sample = b"\x1aE\xdf\xa3" + b"\x00" * 40  # a WebM header
    voice_id = await elevenlabs.clone(
        audio=sample, content_type="audio/webm", name="Agent Max", language="de"
    )
    [request] = fake_elevenlabs.requests_to("POST", "/v1/voices/add")
    assert request.form["name"] == "Agent Max"
    assert json.loads(request.form["labels"]) == {"language": "de"}
    [upload] = request.files
    assert (upload.field, upload.filename, upload.content_type) == (
        "files", "sample.webm", "audio/webm",
    )  # fmt: skip
    assert upload.content == sample
    cloned = {v.id: v for v in await elevenlabs.list_voices()}[voice_id]
    assert (cloned.name, cloned.language, cloned.is_cloned) == ("Agent Max", "de", True)


async def test_elevenlabs_delete_voice_sends_delete_and_maps_missing_to_not_found(
    elevenlabs: ElevenLabsClient, fake_elevenlabs: FakeElevenLabs
) -> None:
    await elevenlabs.delete_voice("cloneAAAAAAAAAAAAAAA")
    assert fake_elevenlabs.requests_to("DELETE", "/v1/voices/cloneAAAAAAAAAAAAAAA")
    with pytest.raises(VoiceNotFound):
        await elevenlabs.delete_voice("cloneAAAAAAAAAAAAAAA")


async def test_elevenlabs_rejected_key_raises_provider_error(
    fake_elevenlabs: FakeElevenLabs,
) -> None:
    async with ElevenLabsClient(api_key="wrong", base_url=fake_elevenlabs.url) as client:
        with pytest.raises(VoiceProviderError) as caught:
            await client.synthesize(voice_id="21m00Tcm4TlvDq8ikWAM", text="Hello")
    assert not isinstance(caught.value, VoiceNotFound)
    assert (caught.value.provider, caught.value.status) == ("elevenlabs", 401)
    assert "Invalid API key" in caught.value.message


@pytest.mark.parametrize("status", [429, 500, 502])
async def test_elevenlabs_rate_limits_and_outages_raise_provider_error(
    elevenlabs: ElevenLabsClient, fake_elevenlabs: FakeElevenLabs, status: int
) -> None:
    fake_elevenlabs.outage_status = status
    with pytest.raises(VoiceProviderError) as caught:
        await elevenlabs.list_voices()
    assert caught.value.status == status
