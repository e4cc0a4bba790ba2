"""Which speech providers serve a call (a pure function of the assistant and the keys)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openrevox.audio.providers import SpeechKeys, build, choose
from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
from openrevox.audio.providers.deepgram.stt import DeepgramRecognition
from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech
from openrevox.audio.providers.openai_compatible.speech import OpenAISpeech, OpenAITranscription
from openrevox.audio.providers.soniox.stt import SonioxRecognition
from openrevox.services.speech import speech_keys
from openrevox.settings import Settings

KEYS = SpeechKeys(cartesia_api_key="ck", soniox_api_key="sk")
CARTESIA = {"provider": "cartesia", "id": "v1", "model": "sonic-3.5", "speed": 2.0, "volume": 3}


def test_a_cartesia_voice_and_a_soniox_key_are_served_by_them() -> None:
    plan = choose({"voice": CARTESIA, "stt_model": "stt-rt-v4"}, KEYS)
    assert (plan.tts, plan.stt) == ("cartesia", "soniox")
    assert plan.record == {
        "tts": {"provider": "cartesia", "model": "sonic-3.5", "voice_id": "v1"},
        "stt": {"provider": "soniox", "model": "stt-rt-v4"},
    }


def test_the_newest_soniox_model_and_sonic_3_when_the_assistant_names_none() -> None:
    plan = choose({"voice": {"provider": "cartesia", "id": "v1"}}, KEYS)
    assert plan.record["tts"]["model"] == "sonic-3"
    assert plan.record["stt"]["model"] == "stt-rt-v5"


def test_without_keys_or_for_other_voices_the_local_kit_serves_and_says_why() -> None:
    assert choose({"voice": CARTESIA}, SpeechKeys()).record == {
        "tts": {"provider": "local", "fallback_reason": "no OPENREVOX_CARTESIA_API_KEY"},
        "stt": {"provider": "local", "fallback_reason": "no OPENREVOX_SONIOX_API_KEY"},
    }
    plan = choose({"voice": {"provider": "elevenlabs", "id": "x"}}, KEYS)
    assert plan.record["tts"] == {
        "provider": "local",
        "fallback_reason": "no OPENREVOX_ELEVENLABS_API_KEY",
    }
    plan = choose({"voice": {"provider": "gradium", "id": "x"}}, KEYS)
    assert plan.tts == "local" and "Gradium" in plan.record["tts"]["fallback_reason"]
    assert plan.stt == "soniox"


def test_build_clamps_the_voice_into_cartesias_ranges() -> None:
    speech = build(
        {"voice": CARTESIA, "cartesia_dictionary_pronunciation_id": "pd", "stt_context": None},
        KEYS,
    )
    assert isinstance(speech.tts, CartesiaSpeech) and isinstance(speech.stt, SonioxRecognition)
    assert speech.tts.request["generation_config"] == {"speed": 1.5, "volume": 2.0}
    assert speech.tts.request["pronunciation_dict_id"] == "pd"
    assert speech.stt.config.model == "stt-rt-v5"


ELEVEN = {"provider": "elevenlabs", "id": "21m00Tcm4TlvDq8ikWAM", "speed": 1.2, "volume": 0.2}
ALL_KEYS = SpeechKeys(
    cartesia_api_key="ck",
    soniox_api_key="sk",
    elevenlabs_api_key="ek",
    deepgram_api_key="dk",
    openai_speech_base_url="http://speaches:8000/v1",
)


def test_an_elevenlabs_voice_with_its_key_is_served_by_elevenlabs_with_the_server_model() -> None:
    plan = choose({"voice": ELEVEN}, ALL_KEYS)
    assert plan.record["tts"] == {
        "provider": "elevenlabs",
        "model": "eleven_flash_v2_5",
        "voice_id": "21m00Tcm4TlvDq8ikWAM",
    }
    speech = build({"voice": ELEVEN}, ALL_KEYS)
    assert isinstance(speech.tts, ElevenLabsSpeech)
    assert speech.tts.voice_settings["speed"] == 1.2 and speech.tts.volume == 0.5


def test_the_stt_is_the_one_openrevox_stt_provider_names_when_it_is_configured() -> None:
    def stt(keys: SpeechKeys) -> dict[str, object]:
        return dict(choose({"voice": CARTESIA, "stt_model": "stt-rt-v4"}, keys).record["stt"])

    assert stt(replace(ALL_KEYS, stt_provider=None)) == {"provider": "soniox", "model": "stt-rt-v4"}
    assert stt(replace(ALL_KEYS, stt_provider="deepgram")) == {
        "provider": "deepgram",
        "model": "nova-3",
    }
    assert stt(replace(ALL_KEYS, stt_provider="openai")) == {
        "provider": "openai",
        "model": "whisper-1",
    }
    assert stt(replace(ALL_KEYS, stt_provider="local")) == {"provider": "local"}
    assert stt(SpeechKeys(stt_provider="deepgram")) == {
        "provider": "local",
        "fallback_reason": "no OPENREVOX_DEEPGRAM_API_KEY",
    }
    assert stt(SpeechKeys(stt_provider="openai"))["fallback_reason"] == (
        "no OPENREVOX_OPENAI_SPEECH_BASE_URL"
    )


def test_the_tts_fallback_serves_gradium_voices_and_voices_without_their_key() -> None:
    keys = replace(ALL_KEYS, tts_fallback="openai", elevenlabs_api_key=None)
    for voice in ({"provider": "gradium", "id": "g"}, ELEVEN):
        tts = choose({"voice": voice}, keys).record["tts"]
        assert tts["provider"] == "openai" and tts["model"] == "tts-1"
        assert tts["voice_id"] == "alloy" and tts["fallback_reason"]
    assert choose({"voice": CARTESIA}, keys).record["tts"]["provider"] == "cartesia"
    unset = replace(keys, openai_speech_base_url=None)
    tts = choose({"voice": ELEVEN}, unset).record["tts"]
    assert tts["provider"] == "local"
    assert "OPENREVOX_OPENAI_SPEECH_BASE_URL" in tts["fallback_reason"]


def test_build_gives_deepgram_the_assistants_terms_as_keyterms() -> None:
    keys = replace(ALL_KEYS, stt_provider="deepgram", deepgram_base_url="wss://dg.example")
    speech = build({"voice": ELEVEN, "stt_context": {"terms": ["Acme", " "]}}, keys)
    assert isinstance(speech.stt, DeepgramRecognition)
    assert speech.stt.url.startswith("wss://dg.example/v1/listen?model=nova-3&encoding=mulaw")
    assert speech.stt.url.endswith("&keyterm=Acme")
    assert speech.record["stt"] == {"provider": "deepgram", "model": "nova-3"}


def test_build_serves_an_openai_compatible_server_for_the_fallback_voice_and_the_stt() -> None:
    keys = replace(
        ALL_KEYS,
        stt_provider="openai",
        tts_fallback="openai",
        openai_tts_model="kokoro",
        openai_tts_voice="af_heart",
        openai_stt_model="Systran/faster-whisper-small",
    )
    assistant = {
        "voice": {"provider": "gradium", "id": "g", "speed": 1.2},
        "stt_context": {"terms": ["Acme"]},
    }
    speech = build(assistant, keys)
    assert isinstance(speech.tts, OpenAISpeech) and isinstance(speech.stt, OpenAITranscription)
    assert (speech.tts.model, speech.tts.voice, speech.tts.speed) == ("kokoro", "af_heart", 1.2)
    assert speech.stt.model == "Systran/faster-whisper-small" and speech.stt.prompt == "Acme"
    assert speech.record["tts"]["provider"] == "openai" and speech.record["stt"] == {
        "provider": "openai",
        "model": "Systran/faster-whisper-small",
    }


def test_the_speech_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.stt_provider, settings.tts_fallback) == (None, "local")
    monkeypatch.setenv("OPENREVOX_STT_PROVIDER", "Deepgram")
    monkeypatch.setenv("OPENREVOX_TTS_FALLBACK", "openai")
    monkeypatch.setenv("OPENREVOX_OPENAI_SPEECH_BASE_URL", "http://speaches:8000/v1")
    settings = Settings.from_env()
    assert (settings.stt_provider, settings.tts_fallback) == ("deepgram", "openai")
    assert speech_keys(settings).openai_speech_base_url == "http://speaches:8000/v1"
    monkeypatch.setenv("OPENREVOX_STT_PROVIDER", "whisper")
    with pytest.raises(ValueError, match="OPENREVOX_STT_PROVIDER must be one of"):
        Settings.from_env()
    monkeypatch.setenv("OPENREVOX_STT_PROVIDER", "local")
    monkeypatch.setenv("OPENREVOX_TTS_FALLBACK", "cartesia")
    with pytest.raises(ValueError, match="OPENREVOX_TTS_FALLBACK must be one of local, openai"):
        Settings.from_env()
