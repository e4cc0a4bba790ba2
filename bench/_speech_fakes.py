"""The fake Cartesia TTS and Soniox STT (tests/audio) in a process of their own, for
the voice-to-voice bench: prints their base URLs as one JSON line, serves until stdin
closes. Usage: python bench/_speech_fakes.py TTS_TTFB STT_FINAL_DELAY CANNED_TEXT"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.audio.fake_cartesia_tts import FakeCartesiaTTS  # noqa: E402
from tests.audio.fake_soniox_stt import FakeSonioxSTT  # noqa: E402


def main() -> None:
    ttfb, final_delay, text = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    tts, stt = FakeCartesiaTTS().start(), FakeSonioxSTT().start()
    tts.ttfb = ttfb
    stt.final_delay, stt.interim_every, stt.canned_text = final_delay, None, text
    print(json.dumps({"tts": tts.url, "stt": stt.url, "key": tts.api_key}), flush=True)
    sys.stdin.read()
    tts.stop()
    stt.stop()


if __name__ == "__main__":
    main()
