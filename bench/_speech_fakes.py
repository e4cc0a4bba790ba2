"""The fake speech providers (tests/audio) in a process of their own, for the
voice-to-voice bench: Cartesia and ElevenLabs TTS, Soniox and Deepgram STT, an
OpenAI-compatible speech server. Prints their base URLs as one JSON line, serves until
stdin closes. Usage: python bench/_speech_fakes.py TTS_TTFB STT_FINAL_DELAY CANNED_TEXT"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.audio.fake_cartesia_tts import FakeCartesiaTTS  # noqa: E402
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT  # noqa: E402
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS  # noqa: E402
from tests.audio.fake_openai_speech import FakeOpenAISpeech  # noqa: E402
from tests.audio.fake_soniox_stt import FakeSonioxSTT  # noqa: E402


def main() -> None:
    ttfb, final_delay, text = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    cartesia, soniox = FakeCartesiaTTS().start(), FakeSonioxSTT().start()
    elevenlabs, deepgram = FakeElevenLabsTTS().start(), FakeDeepgramSTT().start()
    openai = FakeOpenAISpeech()
    openai.start()
    cartesia.ttfb = elevenlabs.ttfb = openai.ttfb = ttfb
    soniox.final_delay, soniox.interim_every, soniox.canned_text = final_delay, None, text
    deepgram.final_delay, deepgram.interim_every, deepgram.canned_text = final_delay, None, text
    openai.transcribe_delay, openai.canned_text = final_delay, text
    urls = {
        "cartesia": (cartesia.url, cartesia.api_key),
        "soniox": (soniox.url, soniox.api_key),
        "elevenlabs": (elevenlabs.url, elevenlabs.api_key),
        "deepgram": (deepgram.url, deepgram.api_key),
        "openai": (f"{openai.url}/v1", openai.api_key),
    }
    print(json.dumps(urls), flush=True)
    sys.stdin.read()
    for fake in (cartesia, soniox, elevenlabs, deepgram, openai):
        fake.stop()


if __name__ == "__main__":
    main()
