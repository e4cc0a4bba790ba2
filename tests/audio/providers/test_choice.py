"""Which speech providers serve a call (a pure function of the assistant and the keys)."""

from __future__ import annotations

from openrevox.audio.providers import SpeechKeys, build, choose
from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
from openrevox.audio.providers.soniox.stt import SonioxRecognition

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
    for provider in ("elevenlabs", "gradium"):
        plan = choose({"voice": {"provider": provider, "id": "x"}}, KEYS)
        assert plan.tts == "local" and "not served yet" in plan.record["tts"]["fallback_reason"]
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
