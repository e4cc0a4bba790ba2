"""Audio fidelity: the codec, the shared VAD, speech to text, text to speech, beeps and
the background sound on real models and real audio, a barge-in, and one audio call end
to end through the worker, the simulated network and the sandbox agent (official SDK).
Everything runs offline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import revox
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADState

from openrevox.audio import codec, stt
from openrevox.audio.ambience import OFFICE, ambience_for, office_loop
from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples
from openrevox.audio.engine import AudioEngine
from openrevox.audio.silero import shared_silero
from openrevox.audio.tones import BeepDetector, beep
from openrevox.audio.tts import AGENT, CALLEE, Style, Synthesizer, voice_speed
from openrevox.audio.vad import SileroVAD
from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from openrevox.telephony.sim.audio_line import AudioSimLine
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]


@pytest.fixture(scope="module")
def voice() -> Synthesizer:
    return Synthesizer()


def on_the_line(samples: Samples) -> Samples:
    """Through the telephone: mu-law and back."""
    return codec.ulaw_decode(codec.ulaw_encode(samples))


def padded(samples: Samples, before: float = 1.0, after: float = 1.0) -> Samples:
    silence = np.zeros(int(RATE * before), dtype=np.int16)
    tail = np.zeros(int(RATE * after), dtype=np.int16)
    return codec.pad_to_frames(np.concatenate([silence, samples, tail]))


def speech_segments(states: list[VADState]) -> list[tuple[int, int]]:
    """(first, last) indices of each run of SPEAKING/STOPPING states."""
    segments: list[tuple[int, int]] = []
    start: int | None = None
    for index, state in enumerate([*states, VADState.QUIET]):
        speaking = state in (VADState.SPEAKING, VADState.STOPPING)
        if speaking and start is None:
            start = index
        elif not speaking and start is not None:
            segments.append((start, index - 1))
            start = None
    return segments


# -- codec --


def test_mu_law_frames_are_160_bytes_and_round_trip_closely() -> None:
    time = np.arange(RATE) / RATE
    tone = codec.from_float(0.5 * np.sin(2 * np.pi * 440 * time))
    encoded = codec.ulaw_encode(tone)
    assert len(encoded) == len(tone) and len(encoded[:FRAME_SAMPLES]) == codec.FRAME_BYTES
    decoded = codec.ulaw_decode(encoded)
    error = np.abs(decoded.astype(np.int32) - tone.astype(np.int32))
    assert error.max() < 0.04 * 16384  # mu-law keeps ~2-3% of the amplitude
    assert len(codec.resample(tone, RATE, 16000)) == 2 * len(tone)


# -- text to speech --


def test_speech_at_8_khz_with_word_timings(voice: Synthesizer) -> None:
    speech = voice.sentence("Could you tell me your email address?")
    assert 1.0 < len(speech.samples) / RATE < 4.0
    assert [word for word, _ in speech.word_ends][-1] == "address?"
    ends = [end for _, end in speech.word_ends]
    assert ends == sorted(ends) and ends[-1] <= len(speech.samples)
    assert speech.said_by(ends[2]) == "Could you tell"


def test_voice_speed_follows_the_provider_range(voice: Synthesizer) -> None:
    assert voice_speed({"provider": "cartesia", "speed": 1.5}) == 1.5
    assert voice_speed({"provider": "elevenlabs", "speed": 1.5}) == 1.2
    assert voice_speed({"provider": "elevenlabs", "speed": 0.5}) == 0.7
    assert voice_speed({"provider": "cartesia", "id": "x"}) == 1.0
    text = "Thank you for your time, and have a wonderful day."
    slow = voice.sentence(text, Style(speed=0.7)).samples
    fast = voice.sentence(text, Style(speed=1.2)).samples
    assert len(fast) < 0.75 * len(slow)


def _pitch(samples: Samples) -> float:
    """Median fundamental frequency of the voiced 40 ms blocks (autocorrelation)."""
    block = 320
    pitches = []
    for start in range(0, len(samples) - block, block):
        frame = samples[start : start + block].astype(np.float64)
        if np.sqrt(np.mean(frame**2)) < 1000:
            continue
        corr = np.correlate(frame, frame, "full")[block - 1 :]
        lag = int(np.argmax(corr[RATE // 400 : RATE // 60])) + RATE // 400
        pitches.append(RATE / lag)
    return float(np.median(pitches))


def test_the_callee_speaks_higher_than_the_agent(voice: Synthesizer) -> None:
    text = "Okay, that sounds good to me."
    agent, callee = voice.sentence(text, AGENT).samples, voice.sentence(text, CALLEE).samples
    assert _pitch(callee) > 1.05 * _pitch(agent)
    assert abs(len(callee) - len(agent)) < 0.25 * len(agent)  # same pace


# -- VAD --


def test_one_silero_session_serves_every_stream() -> None:
    first, second = SileroVAD(), SileroVAD()
    assert first._model is second._model is shared_silero()
    assert first.stream is not second.stream


def test_vad_finds_one_sentence_as_pipecats_own_analyzer_does(voice: Synthesizer) -> None:
    audio = padded(on_the_line(voice.sentence("My name is Alex Martin.").samples))
    ours, pipecats = SileroVAD(), SileroVADAnalyzer(sample_rate=RATE)
    pipecats.set_sample_rate(RATE)
    frames = [audio[i : i + FRAME_SAMPLES].tobytes() for i in range(0, len(audio), FRAME_SAMPLES)]
    mine = [ours._run_analyzer(frame) for frame in frames]
    theirs = [pipecats._run_analyzer(frame) for frame in frames]
    assert mine == theirs
    segments = speech_segments(mine)
    assert len(segments) == 1
    first, last = segments[0]
    assert 50 <= first <= 75 and last * FRAME_SAMPLES < len(audio) - RATE // 2


def test_batched_scores_equal_one_stream_at_a_time(voice: Synthesizer) -> None:
    a = padded(on_the_line(voice.sentence("Hello?").samples), 0.2, 0.2)
    b = padded(on_the_line(voice.sentence("Goodbye!", CALLEE).samples), 0.2, 0.2)
    length = min(len(a), len(b)) // 256 * 256
    model = shared_silero()
    alone = [SileroVAD(), SileroVAD()]
    batched = [SileroVAD(), SileroVAD()]
    for start in range(0, length, 256):
        windows = [codec.to_float(x[start : start + 256]) for x in (a, b)]
        one = [model.score([w], [v.stream])[0] for w, v in zip(windows, alone, strict=True)]
        both = model.score(windows, [v.stream for v in batched])
        assert np.allclose(one, both, atol=1e-4)


def test_the_engine_drives_vad_in_one_batch_per_tick(voice: Synthesizer) -> None:
    audio = padded(on_the_line(voice.sentence("Yes, absolutely.").samples))

    class Listener:
        def __init__(self) -> None:
            self.vad = SileroVAD()
            self.states: list[VADState] = []
            self.pending = [audio[i : i + FRAME_SAMPLES] for i in range(0, len(audio), 160)]

        def emit(self) -> None:
            pass

        def windows(self) -> list[Samples]:
            return self.vad.windows(self.pending.pop(0)) if self.pending else []

        @property
        def vad_stream(self) -> Any:
            return self.vad.stream

        def advance(self, windows: Any, confidences: Any) -> None:
            self.states += self.vad.advance(windows, confidences)

    async def run() -> list[Listener]:
        engine = AudioEngine()
        listeners = [Listener() for _ in range(3)]
        for listener in listeners:
            engine.add(listener)
        for _ in range(len(audio) // FRAME_SAMPLES):
            engine.step(asyncio.get_running_loop().time())
        for listener in listeners:
            engine.remove(listener)
        return listeners

    listeners = asyncio.run(run())
    # Piper samples its voice (VITS noise): a rare rendering pauses long enough after
    # "Yes," for two segments. What the batch must give is the same speech for each.
    assert all(len(speech_segments(listener.states)) >= 1 for listener in listeners)
    assert listeners[0].states == listeners[1].states == listeners[2].states


# -- end of turn --


def test_smart_turn_as_pipecat_computes_it_at_a_fraction_of_the_cost(voice: Synthesizer) -> None:
    from pipecat.audio.turn.smart_turn._whisper_features import (
        compute_whisper_log_mel_features,
    )
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    from openrevox.audio import turn, turn_features

    speech = on_the_line(voice.sentence("My name is Alex Martin.").samples)
    audio16 = codec.to_float(codec.resample(speech, RATE, 16000))
    ours = turn_features.log_mel(turn_features.padded(audio16))
    front = np.pad(audio16, (turn_features.SAMPLES - len(audio16), 0))
    assert np.allclose(ours, compute_whisper_log_mel_features(front), atol=1e-5)
    pipecats = LocalSmartTurnAnalyzerV3()
    pipecats.set_sample_rate(RATE)
    expected = pipecats._predict_endpoint(codec.to_float(speech))["probability"]
    assert abs(turn.probability(turn.open_session(), speech) - expected) < 1e-4
    assert abs(turn.shared_smart_turn().probability(speech) - expected) < 1e-4  # helper


# -- speech to text --


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("Could you tell me your email address?", AGENT, "Could you tell me your email address?"),
        ("Thank you for your time. Goodbye!", AGENT, "goodbye"),
        ("My name is Alex Martin.", CALLEE, "My name is Alex Martin."),
        ("My email is alex.martin@example.com.", CALLEE, "alex.martin@example.com"),
        ("Welcome to Martin and Co. Press 1 for sales.", CALLEE, "press 1 for sales"),
    ],
)
def test_pocketsphinx_hears_the_key_words(
    voice: Synthesizer, text: str, style: Style, expected: str
) -> None:
    recognizer = stt.shared_recognizer()
    heard = recognizer.transcribe(on_the_line(voice.sentence(text, style).samples))
    assert expected.lower() in heard.lower(), heard
    if expected[0].isupper():
        assert expected in heard, heard


def test_spoken_forms_are_written() -> None:
    words = [stt.Word(w, i * 10, i * 10 + 8) for i, w in enumerate(["is", "it", "tuesday"])]
    assert stt.normalize(words) == "Is it Tuesday?"
    pause = [stt.Word("<sil>", 30, 60)]
    more = [stt.Word(w, 60 + i * 10, 68 + i * 10) for i, w in enumerate(["dial", "nine"])]
    assert stt.normalize([*words, *pause, *more]) == "Is it Tuesday? Dial 9."


# -- beeps and background --


def test_a_beep_is_heard_and_speech_is_not(voice: Synthesizer) -> None:
    speech = on_the_line(voice.sentence("Please leave a message after the tone.").samples)
    for audio, beeps in ((speech, 0), (on_the_line(beep()), 1)):
        detector = BeepDetector()
        found = sum(
            detector.feed(audio[i : i + FRAME_SAMPLES])
            for i in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
        )
        assert found == beeps


def test_office_ambience_is_deterministic_quiet_and_never_speech() -> None:
    loop = office_loop()
    assert len(loop) == 12 * RATE
    rms = np.sqrt(np.mean(loop.astype(np.float64) ** 2)) / 32768
    assert 0.01 < rms < 0.04
    ambience = ambience_for(OFFICE, 1.0)
    assert ambience is not None and ambience_for(None, 1.0) is None
    frames = [ambience.frame() for _ in range(len(loop) // FRAME_SAMPLES)]
    assert np.array_equal(np.concatenate(frames), loop)  # the loop, frame after frame
    vad = SileroVAD()
    states = [vad._run_analyzer(on_the_line(f.astype(np.int16)).tobytes()) for f in frames]
    assert VADState.SPEAKING not in states


# -- a live line --


TEXT = (
    "Thank you for picking up. I am calling about the spring offer, which gives you three"
    " months for the price of one, and I would love to tell you all about it today."
)


@pytest.mark.slow  # a real-time call: 5-10 s, more on a loaded machine
def test_the_callee_barges_in_and_the_agent_keeps_only_what_it_said() -> None:
    async def run() -> tuple[str, str | None]:
        line = await AudioSimLine.open({"first_sentence": "Hi."})
        try:
            saying = asyncio.create_task(line.say(TEXT))
            assert await line.person_waits_for_the_agent_to_speak(10.0)
            await asyncio.sleep(1.0)
            await line.person_says("Sorry, who is this?")
            said = await asyncio.wait_for(saying, 20.0)
            return said, await line.hear(10.0)
        finally:
            await line.hang_up()

    said, heard = asyncio.run(run())
    # Cut off after a word: a true prefix of the text, never all of it.
    assert said and TEXT.startswith(said) and len(said) < len(TEXT) - 10
    assert TEXT[len(said)] in " ,."
    assert heard is not None and heard.lower().startswith("sorry")  # the interruption


# -- one call end to end --


def test_fidelity_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().sim_fidelity == "text"
    monkeypatch.setenv("OPENREVOX_SIM_FIDELITY", "Audio")
    assert Settings.from_env().sim_fidelity == "audio"
    monkeypatch.setenv("OPENREVOX_SIM_FIDELITY", "video")
    with pytest.raises(ValueError, match="text or audio"):
        Settings.from_env()


@pytest.fixture(scope="module")
def audio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("audio-fidelity")
    url = f"sqlite:///{data_dir / 'openrevox.db'}"
    upgrade_to_head(Settings(database_url=url).database_url)
    live = LiveServer(make_settings(url, data_dir, sim_fidelity="audio"), embedded_worker=True)
    yield live.start()
    live.stop()


@pytest.mark.slow
def test_one_audio_call_end_to_end(audio_server: LiveServer) -> None:
    org = audio_server.new_org()
    caller = revox.Revox(api_key=org.test_key, base_url=f"{audio_server.url}/api", max_retries=0)
    assistant = {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "structured_output_config": FIELDS,
        "background_sound": OFFICE,
        "voice": {"provider": "elevenlabs", "id": "voice", "speed": 1.1},
        "call_retry_config": retry_config(1),
    }
    created = caller.call.create(phone_number="+14155550100", assistant=assistant)  # type: ignore[arg-type]
    attempt = wait_until_done(caller, created.call.id, timeout=150).call_attempts[0]
    assert attempt.result == "human" and attempt.ended_by == "agent", attempt
    assert attempt.end_reason == "tool_end_call"
    assert attempt.structured_output == {
        "full_name": "Alex Martin",
        "email": "alex.martin@example.com",
    }
    transcript = [(entry.role, entry.content) for entry in attempt.transcript]
    assert ("assistant", assistant["first_sentence"]) in transcript
    assert any(role == "user" and "hello" in text.lower() for role, text in transcript)
    assert ("user", "My name is Alex Martin.") in transcript
    assert ("user", "My email is alex.martin@example.com.") in transcript
    assert transcript[-1][0] == "tool" and attempt.transcript[-1].tool_name == "end_call"
