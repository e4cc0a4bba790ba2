"""What the TTS provider tests share: one utterance spoken through a call's voice."""

from __future__ import annotations

from openrevox.audio.codec import Samples
from openrevox.audio.speech import TextToSpeech, WordTime


async def synthesize(
    speech: TextToSpeech, *texts: str
) -> tuple[list[Samples], list[WordTime], float | None]:
    """Push ``texts`` as one utterance; its chunks, words and time to first audio."""
    synthesis = speech.synthesis()
    for text in texts:
        await synthesis.push(text)
    await synthesis.end()
    chunks = [chunk async for chunk in synthesis.chunks()]
    return chunks, synthesis.words, synthesis.ttfb_ms
