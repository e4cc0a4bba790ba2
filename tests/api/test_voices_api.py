"""Voice routes through the official SDK: catalogue, real preview audio, clone, delete."""

from __future__ import annotations

import base64
import io
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
import revox

from tests.conftest import BACKENDS, LiveServer, make_settings
from tests.contract import assert_complete
from tests.voices.fake_cartesia import FakeCartesia

SAMPLE = base64.b64encode(b"RIFF" + bytes(4000)).decode()


@pytest.fixture(scope="module")
def fake_cartesia() -> Iterator[FakeCartesia]:
    fake = FakeCartesia()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def cartesia_server(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    fake_cartesia: FakeCartesia,
) -> Iterator[LiveServer]:
    """The API with a Cartesia key, Cartesia being a local fake speaking its wire format."""
    backend: str = request.param
    settings = make_settings(
        database_urls[backend],
        tmp_path_factory.mktemp(f"voices-{backend}"),
        cartesia_api_key=fake_cartesia.api_key,
        cartesia_base_url=fake_cartesia.url,
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


@pytest.fixture
def cartesia_client(cartesia_server: LiveServer) -> revox.Revox:
    org = cartesia_server.new_org()
    return revox.Revox(api_key=org.live_key, base_url=f"{cartesia_server.url}/api", max_retries=0)


def test_preview_returns_real_audio(client: revox.Revox) -> None:
    voice = next(
        v for v in client.voices.list().voices if v.provider == "cartesia" and v.language == "en"
    )
    raw = client.voices.with_raw_response.preview(
        provider="cartesia", voice_id=voice.id, text="Hello there, this is a preview."
    )
    assert raw.http_response.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(raw.http_response.content)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        frames = audio.readframes(audio.getnframes())
    assert 0.5 < seconds < 10
    assert max(frames) > 0  # not silence


def test_preview_validates_voice_and_speed(client: revox.Revox) -> None:
    with pytest.raises(revox.NotFoundError):
        client.voices.preview(provider="cartesia", voice_id="no-such-voice")
    voice = client.voices.list().voices[0]
    with pytest.raises(revox.UnprocessableEntityError):
        client.voices.preview(provider="elevenlabs", voice_id=voice.id, speed=1.4)


def test_clone_without_a_provider_is_refused_naming_the_setting(
    client: revox.Revox, server: LiveServer
) -> None:
    with pytest.raises(revox.ConflictError) as caught:
        client.voices.clone(audio=SAMPLE, content_type="audio/wav", language="en", name="Mine")
    error = caught.value.body["error"]  # type: ignore[index]
    assert error["code"] == "voice_cloning_not_configured"
    assert "OPENREVOX_CARTESIA_API_KEY" in error["message"]
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert not [v for v in client.voices.list().voices if v.is_cloned]
    samples = Path(server.settings.data_dir) / "voice-samples"
    assert not samples.exists() or not any(samples.iterdir())


def test_clone_lists_and_deletes_unless_in_use(
    cartesia_client: revox.Revox, fake_cartesia: FakeCartesia
) -> None:
    client = cartesia_client
    name = f"My voice {uuid.uuid4().hex[:6]}"
    clone = client.voices.clone(audio=SAMPLE, content_type="audio/wav", language="fr", name=name)
    [upload] = [
        r for r in fake_cartesia.requests_to("POST", "/voices/clone") if r.form["name"] == name
    ]
    assert upload.files[0].content == base64.b64decode(SAMPLE)
    assert clone.cartesia_voice_id in {v["id"] for v in fake_cartesia.voices}
    listed = {v.id: v for v in client.voices.list().voices}
    assert listed[clone.cartesia_voice_id].is_cloned is True
    assert listed[clone.cartesia_voice_id].language == "fr"
    assert client.voices.retrieve(clone.cartesia_voice_id, provider="cartesia").voice.name == name

    assistant = client.assistants.create(
        name="Speaker", prompt="p", voice={"id": clone.cartesia_voice_id, "provider": "cartesia"}
    ).assistant
    with pytest.raises(revox.ConflictError) as caught:
        client.voices.delete(clone.id)
    assert caught.value.response.headers["x-should-retry"] == "false"
    client.assistants.delete(assistant.id)
    assert client.voices.delete(clone.id).success is True
    assert clone.cartesia_voice_id not in [v.id for v in client.voices.list().voices]
    assert clone.cartesia_voice_id not in {v["id"] for v in fake_cartesia.voices}


def test_preset_voices_cannot_be_deleted_and_bad_audio_is_refused(
    cartesia_client: revox.Revox,
) -> None:
    client = cartesia_client
    preset = client.voices.list().voices[0]
    with pytest.raises(revox.ConflictError):
        client.voices.delete(preset.id)
    with pytest.raises(revox.UnprocessableEntityError):
        client.voices.clone(
            audio="%%% not base64", content_type="audio/wav", language="en", name="x"
        )


def test_clone_and_delete_are_complete_and_strictly_valid(cartesia_server: LiveServer) -> None:
    org = cartesia_server.new_org()
    strict = revox.Revox(
        api_key=org.live_key,
        base_url=f"{cartesia_server.url}/api",
        max_retries=0,
        _strict_response_validation=True,
    )
    raw = strict.with_raw_response
    clone = assert_complete(
        raw.voices.clone(audio=SAMPLE, content_type="audio/wav", language="en", name="Mine")
    )
    assert_complete(raw.voices.delete(clone.id))


def test_another_organizations_clone_is_invisible(
    cartesia_server: LiveServer, cartesia_client: revox.Revox
) -> None:
    clone = cartesia_client.voices.clone(
        audio=SAMPLE, content_type="audio/wav", language="en", name="v"
    )
    stranger = cartesia_server.new_org()
    other = revox.Revox(
        api_key=stranger.live_key, base_url=f"{cartesia_server.url}/api", max_retries=0
    )
    with pytest.raises(revox.NotFoundError):
        other.voices.delete(clone.id)
    assert clone.cartesia_voice_id not in [v.id for v in other.voices.list().voices]
