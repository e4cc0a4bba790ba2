"""Voice-to-voice latency: from the callee's last voiced sample to the first voiced frame
of the agent's reply, as the callee's phone sees them, for each TTS/STT pair side by side
(their fakes): Cartesia + Soniox, ElevenLabs + Deepgram, an OpenAI-compatible server for
both.

Each call is a callee replaying a recorded question (the bundled Piper voice, 8 kHz
mu-law, in real time, desynchronized across calls) and the agent's real audio line: the
20 ms engine, Silero VAD, smart-turn (asked once per pause, the turn ends at 200 ms of
quiet when it agrees), its STT and TTS clients. The fakes (tests/audio, run in a
process of their own) are all set to the same figures: the STT's final transcript 350 ms
after the end of speech (for the OpenAI-compatible server, which takes the whole turn
when it ends: 350 ms after that request), the TTS's first audio 90 ms after the
request. The LLM's first token is a 300 ms wait in the agent's loop (no endpoint). The
platform share is the total minus those three delays: turn detection not hidden by the
STT's delay, the websockets, the engine's ticks. It prints figures; it asserts nothing.

    .venv/bin/python bench/voice_to_voice.py --calls 1 --seconds 40
    .venv/bin/python bench/voice_to_voice.py --calls 20 --seconds 60 --pairs cartesia+soniox
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

STT_FINAL, LLM_FIRST_TOKEN, TTS_FIRST_BYTE = 0.35, 0.30, 0.09
QUESTION = "Can you tell me more about the offer?"
REPLY = "Sure, it gives you three months for the price of one."
WARM_UP = 8.0
LOUD = 300


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


PAIRS = ("cartesia+soniox", "elevenlabs+deepgram", "openai+openai")


def speech_pair(pair: str, urls: dict[str, list[str]]) -> tuple[Any, Any]:
    """The agent's (TTS, STT) clients for ``pair``, pointed at the fakes."""
    from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
    from openrevox.audio.providers.deepgram.stt import DeepgramRecognition
    from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech
    from openrevox.audio.providers.openai_compatible.speech import (
        OpenAISpeech,
        OpenAITranscription,
    )
    from openrevox.audio.providers.soniox.stt import SonioxRecognition

    tts_name, stt_name = pair.split("+")
    tts_url, tts_key = urls[tts_name]
    stt_url, stt_key = urls[stt_name]
    tts = {
        "cartesia": lambda: CartesiaSpeech(api_key=tts_key, base_url=tts_url, voice_id="bench"),
        "elevenlabs": lambda: ElevenLabsSpeech(api_key=tts_key, base_url=tts_url, voice_id="b"),
        "openai": lambda: OpenAISpeech(base_url=tts_url, api_key=tts_key),
    }[tts_name]()
    stt = {
        "soniox": lambda: SonioxRecognition(api_key=stt_key, base_url=stt_url),
        "deepgram": lambda: DeepgramRecognition(api_key=stt_key, base_url=stt_url),
        "openai": lambda: OpenAITranscription(base_url=stt_url, api_key=stt_key),
    }[stt_name]()
    return tts, stt


async def run(calls: int, seconds: float, pair: str, urls: dict[str, list[str]]) -> dict[str, Any]:
    from openrevox.audio.codec import FRAME_BYTES, RATE, pad_to_frames, ulaw_decode, ulaw_encode
    from openrevox.audio.ear import TurnPolicy
    from openrevox.audio.engine import loop_engine
    from openrevox.audio.line import AudioLine
    from openrevox.audio.silero import SileroState
    from openrevox.audio.tts import CALLEE, Synthesizer
    from openrevox.audio.turn import shared_smart_turn
    from openrevox.audio.wire import Event, Port, Wire

    loop = asyncio.get_running_loop()
    engine = loop_engine()
    voice = Synthesizer()
    question_samples = voice.sentence(QUESTION, CALLEE).samples
    voice.sentence(REPLY)  # the fake's Piper cache is its own; this warms ours only
    question = ulaw_encode(pad_to_frames(question_samples))
    loud_frames = [
        index
        for index in range(len(question) // FRAME_BYTES)
        if np.abs(question_samples[index * 160 : index * 160 + 160]).max() > LOUD
    ]
    last_loud = loud_frames[-1]
    reply_seconds = len(voice.sentence(REPLY).samples) / RATE
    cycle_frames = len(question) // FRAME_BYTES + round((2.0 + reply_seconds + 1.5) / 0.02)
    silence = bytes([0xFF]) * FRAME_BYTES
    totals: list[float] = []
    measuring = False

    class Callee:
        """The callee's phone: says the question every cycle, listens for the reply."""

        def __init__(self, port: Port, offset: int) -> None:
            self.port, self.frame = port, offset
            self.vad_stream = SileroState()
            self.ended_at: float | None = None

        def emit(self) -> None:
            at = self.frame % cycle_frames
            self.frame += 1
            chunk = question[at * FRAME_BYTES : (at + 1) * FRAME_BYTES]
            self.port.send_audio(chunk if chunk else silence)
            if at == last_loud:
                self.ended_at = loop.time()

        def windows(self) -> list[Any]:
            return []

        def advance(self, windows: Any, confidences: Any) -> None:
            pass

        def receive_audio(self, frame: bytes) -> None:
            if self.ended_at is None or np.abs(ulaw_decode(frame)).max() <= LOUD:
                return
            if measuring:
                totals.append(loop.time() - self.ended_at)
            self.ended_at = None

        def receive_event(self, event: Event) -> None:
            pass

    model = shared_smart_turn()
    model.probability(np.zeros(RATE, dtype=np.int16))
    turns = TurnPolicy(model=model, min_pause=0.2, max_pause=0.8)
    rng = np.random.default_rng(7)
    lines: list[AudioLine] = []
    for _ in range(calls):
        wire = Wire()
        tts, stt = speech_pair(pair, urls)
        line = AudioLine.open(engine, wire.a, {}, turns=turns, tts=tts, stt=stt)
        await line.start()
        callee = Callee(wire.b, int(rng.integers(0, cycle_frames)))
        wire.connect(line.side, callee)
        line.side.attach()
        engine.add(callee)
        lines.append(line)

    async def converse(line: AudioLine) -> None:
        while True:
            if await line.hear(30.0):
                await asyncio.sleep(LLM_FIRST_TOKEN)
                await line.say(REPLY)

    tasks = [asyncio.create_task(converse(line)) for line in lines]
    await asyncio.sleep(WARM_UP)
    measuring = True
    await asyncio.sleep(seconds)
    measuring = False
    for task in tasks:
        task.cancel()
    for line in lines:
        await line.hang_up()
    delays = STT_FINAL + LLM_FIRST_TOKEN + TTS_FIRST_BYTE
    share = [total - delays for total in totals]
    return {
        "pair": pair,
        "calls": calls,
        "turns": len(totals),
        "total_p50_ms": round(percentile(totals, 50) * 1000, 1),
        "total_p95_ms": round(percentile(totals, 95) * 1000, 1),
        "platform_p50_ms": round(percentile(share, 50) * 1000, 1),
        "platform_p95_ms": round(percentile(share, 95) * 1000, 1),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--pairs", default=",".join(PAIRS), help="TTS+STT pairs, in turn")
    args = parser.parse_args()
    fakes = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_speech_fakes.py"),
         str(TTS_FIRST_BYTE), str(STT_FINAL), QUESTION],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert fakes.stdout is not None
        urls = json.loads(fakes.stdout.readline())
        for pair in args.pairs.split(","):
            print(json.dumps(asyncio.run(run(args.calls, args.seconds, pair, urls))), flush=True)
    finally:
        if fakes.stdin is not None:
            fakes.stdin.close()
        fakes.wait(timeout=10)


if __name__ == "__main__":
    main()
