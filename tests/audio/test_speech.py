"""The streaming speech interfaces (agent/audio/speech.py) as the mouth and the ear use
them: barge-in cancels the synthesis and keeps the words played (by the provider's
word timestamps), the local kit's voice and ears behind the same interfaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples
from openrevox.audio.mouth import Mouth, Said
from openrevox.audio.speech import (
    Synthesis,
    UtteranceRecognition,
    WordTime,
)
from openrevox.audio.tts import AGENT, local_speech


def tone(seconds: float) -> Samples:
    time = np.arange(int(seconds * RATE)) / RATE
    return (8000 * np.sin(2 * np.pi * 220 * time)).astype(np.int16)


class StreamedSynthesis:
    """Half a second of audio every 0.1 s for each pushed sentence, with word times."""

    def __init__(self, log: list[str]) -> None:
        self._log = log
        self._texts: asyncio.Queue[str | None] = asyncio.Queue()
        self._words: list[WordTime] = []
        self._cancelled = asyncio.Event()

    async def push(self, text: str) -> None:
        self._log.append(f"push {text}")
        self._texts.put_nowait(text)

    async def end(self) -> None:
        self._texts.put_nowait(None)

    async def chunks(self) -> AsyncIterator[Samples]:
        at = 0.0
        while not self._cancelled.is_set():
            text = await self._texts.get()
            if text is None:
                return
            for word in text.split():
                await asyncio.sleep(0.01)
                if self._cancelled.is_set():
                    return
                self._words.append(WordTime(word, at, at + 0.5))
                at += 0.5
                yield tone(0.5)

    async def cancel(self) -> None:
        self._log.append("cancel")
        self._cancelled.set()

    @property
    def ttfb_ms(self) -> float | None:
        return 10.0

    @property
    def words(self) -> list[WordTime]:
        return self._words


class StreamedVoice:
    name = "streamed"

    def __init__(self) -> None:
        self.log: list[str] = []

    async def start(self) -> None:
        pass

    def synthesis(self) -> Synthesis:
        return StreamedSynthesis(self.log)

    async def close(self) -> None:
        pass


async def _tick(mouth: Mouth, frames: int) -> list[Samples]:
    out = []
    for _ in range(frames):
        out.append(mouth.frame())
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
    return out


def test_a_cut_say_cancels_its_synthesis_and_keeps_the_words_played() -> None:
    async def scenario() -> tuple[str, list[str], list[Said], list[Samples]]:
        voice = StreamedVoice()
        mouth = Mouth(voice)
        said: list[Said] = []
        mouth.on_said = said.append
        saying = asyncio.create_task(mouth.say("One two three four. Five six."))
        await asyncio.sleep(0.1)  # the first words have arrived
        frames = await _tick(mouth, 60)  # 1.2 s: "One" and "two" played, "three" under way
        mouth.interrupt()
        frames += await _tick(mouth, 5)
        return await saying, voice.log, said, frames

    spoken, log, said, frames = asyncio.run(scenario())
    assert spoken == "One two"
    assert log[0] == "push One two three four." and "cancel" in log
    assert len(said) == 1 and said[0].was_cut and said[0].text == "One two"
    assert said[0].first_frame is not None and said[0].last_frame == 59
    assert said[0].ttfb_ms == 10.0
    assert not np.any(frames[-1])  # silence once cut


def test_a_whole_say_is_reported_with_the_frames_its_voice_went_out_in() -> None:
    async def scenario() -> tuple[str, list[Said]]:
        mouth = Mouth(StreamedVoice())
        said: list[Said] = []
        mouth.on_said = said.append
        saying = asyncio.create_task(mouth.say("One two."))
        await asyncio.sleep(0.05)
        while not saying.done():
            await _tick(mouth, 1)
        return await saying, said

    spoken, said = asyncio.run(scenario())
    assert spoken == "One two."
    first, last = said[0].first_frame, said[0].last_frame
    assert first is not None and last is not None
    assert last - first + 1 == round(1.0 * RATE / FRAME_SAMPLES)  # two words of 0.5 s
    assert not said[0].was_cut


def test_the_local_voice_streams_sentence_by_sentence_with_word_times() -> None:
    async def scenario() -> tuple[list[Samples], list[WordTime], float | None]:
        synthesis = local_speech(AGENT).synthesis()
        await synthesis.push("Hello there.")
        await synthesis.push("How are you?")
        await synthesis.end()
        chunks = [chunk async for chunk in synthesis.chunks()]
        return chunks, synthesis.words, synthesis.ttfb_ms

    chunks, words, ttfb = asyncio.run(scenario())
    assert len(chunks) == 2 and ttfb is not None and ttfb > 0
    assert [word.text for word in words] == ["Hello", "there.", "How", "are", "you?"]
    ends = [word.end for word in words]
    assert ends == sorted(ends) and ends[-1] <= sum(len(c) for c in chunks) / RATE
    assert words[2].start >= len(chunks[0]) / RATE  # the second sentence follows the first


def test_local_ears_transcribe_what_was_sent_since_the_last_finalize() -> None:
    class Lengths:
        async def transcribe(self, samples: Samples) -> str:
            return str(len(samples))

    async def scenario() -> list[str]:
        ears = UtteranceRecognition(Lengths())
        ears.send(tone(0.5))
        ears.send(tone(0.25))
        first = await ears.finalize()
        ears.send(tone(1.0))
        second = await ears.finalize(drop=800)
        return [first, second, await ears.finalize()]

    assert asyncio.run(scenario()) == ["6000", "7200", "0"]


def test_interim_words_from_the_stt_barge_in_too() -> None:
    from openrevox.audio.ear import TurnPolicy
    from openrevox.audio.engine import AudioEngine
    from openrevox.audio.line import AudioLine
    from openrevox.audio.wire import Wire

    async def scenario() -> tuple[str, list[str]]:
        voice = StreamedVoice()
        ears = UtteranceRecognition(UtteranceRecognitionText())
        line = AudioLine.open(
            AudioEngine(), Wire().a, {}, turns=TurnPolicy(model=None), stt=ears, tts=voice
        )
        mouth = line.side.mouth
        saying = asyncio.create_task(line.say("One two three four."))
        await asyncio.sleep(0.1)
        await _tick(mouth, 30)  # "One" played
        assert ears.on_interim is not None
        ears.on_interim("")  # nothing heard yet: no barge-in
        assert mouth.speaking
        ears.on_interim("Sorry")
        return await asyncio.wait_for(saying, 5.0), voice.log

    spoken, log = asyncio.run(scenario())
    assert spoken == "One" and "cancel" in log


class UtteranceRecognitionText:
    async def transcribe(self, samples: Samples) -> str:
        return ""


def test_a_local_synthesis_cancelled_mid_sentence_ends_its_reader_without_cancelling_it() -> None:
    """Barge-in cancels the sentence being synthesized while the mouth waits for it: the
    mouth's ``chunks`` loop ends, and the call's task (the agent's) goes on."""

    async def scenario() -> tuple[int, bool]:
        synthesis = local_speech(AGENT).synthesis()
        await synthesis.push("This is a long sentence that takes a while to synthesize, surely.")
        read: list[Samples] = []

        async def reader() -> None:
            async for chunk in synthesis.chunks():
                read.append(chunk)

        reading = asyncio.create_task(reader())
        await asyncio.sleep(0)  # the reader waits on the sentence being synthesized
        await synthesis.cancel()
        await asyncio.wait_for(reading, 10)
        return len(read), reading.cancelled()

    chunks, cancelled = asyncio.run(scenario())
    assert chunks == 0 and not cancelled
