"""Speech to text at audio fidelity: pocketsphinx's en-US model, offline.

pocketsphinx wants 16 kHz: an utterance received at 8 kHz is resampled first. The
language model is the phone-call phrasebook (``phrasebook.py``) plus phrase hints (the
assistant's own texts), with the 5,000 most common words of pocketsphinx's general model
as unigrams so that other English is still recognized word by word. It is built once per
set of hints and per process; decoders are pooled and shared by every call of the
process (a decoder holds one utterance at a time, and building one takes a while).

What comes out is normalized the way telephony STT services format their output:
sentences split at pauses, capitalized, with a question mark after a question; spoken
emails and digits written (``alex dot martin at example dot com`` ->
``alex.martin@example.com``, ``press one`` -> ``press 1``).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from pocketsphinx import Decoder, get_model_path
from pocketsphinx.lm import ArpaBoLM

from openrevox.audio import phrasebook
from openrevox.audio.codec import RATE, resample
from openrevox.audio.threads import model_threads

MODEL_RATE: Final = 16000
PAUSE_FRAMES: Final = 25  # 10 ms frames of silence that end a sentence (250 ms)
_FILLERS: Final = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "<unk>"})
_QUESTION_STARTS: Final = frozenset(
    (
        "could", "can", "would", "will", "do", "does", "did", "is", "are", "was", "were",
        "what", "what's", "who", "who's", "whom", "whose", "where", "when", "why", "how",
        "may", "might", "shall", "should", "have", "has", "had", "am", "isn't", "aren't",
        "don't", "doesn't", "didn't", "won't", "wouldn't", "couldn't",
    )
)  # fmt: skip
_INTERJECTIONS: Final = frozenset(
    ("sorry", "okay", "ok", "so", "and", "but", "well", "hi", "hello", "hey", "oh", "um", "uh")
)
_TLDS: Final = ("com", "org", "net", "io", "co", "edu", "gov", "fr", "uk", "de")
_DIGIT_OF: Final = {word: str(index) for index, word in enumerate(phrasebook.DIGITS)}
_DIGIT_CONTEXT: Final = frozenset({"press", "dial", "option", "extension"})
_CALENDAR: Final = frozenset(
    (
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "june", "july", "august", "september",
        "october", "november", "december",
    )
)  # fmt: skip
PROPER_NOUNS: Final = frozenset(
    {*phrasebook.FIRST_NAMES, *phrasebook.LAST_NAMES, *_CALENDAR, "acme", "antarctica"}
)


def proper_nouns(hints: Iterable[str]) -> frozenset[str]:
    """The phrasebook's names, and the words the hints capitalize mid-sentence."""
    found = set(PROPER_NOUNS)
    for hint in hints:
        for sentence in re.split(r"[.!?;:]\s+", hint):
            words = re.findall(r"[A-Za-z']+", sentence)
            found.update(word.lower() for word in words[1:] if word[0].isupper())
    return frozenset(found)


def _common_words() -> list[str]:
    text = importlib.resources.files("openrevox.audio").joinpath("data/common_words.txt")
    return text.read_text(encoding="utf-8").split()


def build_language_model(hints: Iterable[str] = ()) -> str:
    """The ARPA text of the phrasebook + hints + common-words model."""
    builder = ArpaBoLM(add_start=True, discount_mass=0.5)
    builder.read_corpus(io.StringIO("\n".join(phrasebook.corpus(hints))))
    for word in _common_words():
        builder.grams_1[word] += 1  # known to the model, at a low probability
    builder.compute()
    out = io.StringIO()
    builder.write(out)
    return out.getvalue()


def _vocabulary(arpa: str) -> set[str]:
    unigrams = arpa.split("\\1-grams:", 1)[1].split("\\", 1)[0]
    return {line.split()[1] for line in unigrams.splitlines() if len(line.split()) >= 2}


def build_dictionary(vocabulary: set[str]) -> str:
    """The lines of CMUdict for ``vocabulary``: a decoder loads these ~6k entries in
    about a tenth of the time, and an eighth of the memory, that all 135k take
    (``bench/audio_models.py``)."""
    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0]
        if re.sub(r"\(\d+\)$", "", word) in vocabulary:
            kept.append(line)
    return "\n".join(kept) + "\n"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: int  # 10 ms frames
    end: int


class Recognizer:
    """Decodes whole utterances; thread-safe (a pool of decoders over one model)."""

    def __init__(self, hints: Sequence[str] = (), *, general: bool = False) -> None:
        self._hints = tuple(hints)
        self._general = general  # pocketsphinx's general English model instead
        self._pool: list[Any] = []
        self._lock = threading.Lock()
        self._files: tuple[str, str] | None = None
        self._proper = proper_nouns(self._hints)

    def _model_files(self) -> tuple[str, str]:
        """The language model and dictionary files (built once per set of hints)."""
        with self._lock:
            if self._files is None:
                corpus = "\n".join(phrasebook.corpus(self._hints))
                key = hashlib.sha256(corpus.encode()).hexdigest()[:16]
                base = Path(tempfile.gettempdir()) / f"openrevox-stt-{key}"
                lm, dictionary = base.with_suffix(".arpa"), base.with_suffix(".dict")
                if not (lm.exists() and dictionary.exists()):
                    arpa = build_language_model(self._hints)
                    _write(dictionary, build_dictionary(_vocabulary(arpa)))
                    _write(lm, arpa)
                self._files = (str(lm), str(dictionary))
            return self._files

    def _new_decoder(self) -> Any:
        model = Path(get_model_path()) / "en-us"
        options: dict[str, Any] = {
            "hmm": str(model / "en-us"),
            "samprate": MODEL_RATE,
            "loglevel": "FATAL",
        }
        if self._general:
            options["dict"] = str(model / "cmudict-en-us.dict")
        else:
            options["lm"], options["dict"] = self._model_files()
        return Decoder(**options)

    @contextmanager
    def _decoder(self) -> Iterator[Any]:
        with self._lock:
            decoder = self._pool.pop() if self._pool else None
        if decoder is None:
            decoder = self._new_decoder()
        try:
            yield decoder
        finally:
            with self._lock:
                self._pool.append(decoder)

    def warm_up(self) -> None:
        """Build the language model and one decoder now (not on the first utterance)."""
        with self._decoder():
            pass

    def words(self, pcm16k: bytes) -> list[Word]:
        """The words of one utterance (16-bit mono PCM at 16 kHz), with their timing."""
        if not pcm16k:
            return []
        with self._decoder() as decoder:
            decoder.start_utt()
            decoder.process_raw(pcm16k, full_utt=True)
            decoder.end_utt()
            if decoder.hyp() is None:
                return []
            return [
                Word(segment.word, segment.start_frame, segment.end_frame)
                for segment in decoder.seg()
            ]

    def transcribe(self, pcm: np.ndarray, rate: int = RATE) -> str:
        """The normalized text of one utterance (int16 samples at ``rate``)."""
        audio = resample(pcm, rate, MODEL_RATE) if rate != MODEL_RATE else pcm
        return normalize(self.words(audio.astype(np.int16).tobytes()), self._proper)


def _write(path: Path, text: str) -> None:
    """Atomically (another process may build the same file at the same time)."""
    partial = path.with_suffix(f"{path.suffix}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


_executor: Executor | None = None
_executor_lock = threading.Lock()


def stt_executor() -> Executor:
    """The process's STT threads (two: decoding is CPU-bound and the machine small)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = model_threads("stt", 2)
        return _executor


async def transcribe(recognizer: Recognizer, pcm: np.ndarray, rate: int = RATE) -> str:
    """``recognizer.transcribe`` on the STT threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(stt_executor(), recognizer.transcribe, pcm, rate)


# -- spoken form to written form --


def _sentences(words: Sequence[Word]) -> list[list[str]]:
    """Words grouped into sentences at pauses (silence or fillers longer than 250 ms)."""
    groups: list[list[str]] = [[]]
    pause = 0
    for word in words:
        if word.text in _FILLERS or word.text.startswith("++"):
            pause += word.end - word.start + 1
            continue
        if pause >= PAUSE_FRAMES and groups[-1]:
            groups.append([])
        pause = 0
        groups[-1].append(re.sub(r"\(\d+\)$", "", word.text))  # "the(2)": a variant
    return [group for group in groups if group]


def _emails(text: str) -> str:
    tld = "|".join(_TLDS)
    pattern = rf"\b([a-z]+(?: dot [a-z]+)*) at ([a-z]+(?: dot [a-z]+)*) dot ({tld})\b"

    def written(match: re.Match[str]) -> str:
        user = match.group(1).replace(" dot ", ".")
        domain = match.group(2).replace(" dot ", ".")
        return f"{user}@{domain}.{match.group(3)}"

    return re.sub(pattern, written, text)


def _digits(words: list[str]) -> list[str]:
    """Digits after "press"/"dial"/"option", and runs of three or more digits."""
    out: list[str] = []
    index = 0
    while index < len(words):
        run = index
        while run < len(words) and words[run] in _DIGIT_OF:
            run += 1
        digits = [_DIGIT_OF[word] for word in words[index:run]]
        if digits and (len(digits) >= 3 or (out and out[-1] in _DIGIT_CONTEXT)):
            out.append("".join(digits) if len(digits) >= 3 else digits[0])
            out.extend(words[index + 1 : run] if len(digits) < 3 else [])
            index = run
        else:
            out.append(words[index])
            index += 1
    return out


def _is_question(words: list[str]) -> bool:
    """Starts with a question word or an auxiliary, after any interjection."""
    for word in words:
        if word not in _INTERJECTIONS:
            return word in _QUESTION_STARTS
    return False


def _sentence(words: list[str], proper: frozenset[str]) -> str:
    question = _is_question(words)
    written = _emails(" ".join(_digits(words))).split()
    text = " ".join(word.capitalize() if word in proper else word for word in written)
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'", "I'", text)
    return text[0].upper() + text[1:] + ("?" if question else ".")


def normalize(words: Sequence[Word], proper: frozenset[str] = PROPER_NOUNS) -> str:
    """Recognized words as written text (sentences, capitals, names, emails, digits,
    question marks)."""
    return " ".join(_sentence(group, proper) for group in _sentences(words))


class PocketsphinxTranscriber:
    """A live call's ``Transcriber``: a shared recognizer, on the STT threads."""

    def __init__(self, recognizer: Recognizer) -> None:
        self._recognizer = recognizer

    async def transcribe(self, samples: np.ndarray) -> str:
        return await transcribe(self._recognizer, samples)


_recognizers: dict[tuple[str, ...], Recognizer] = {}


def shared_recognizer(hints: Sequence[str] = ()) -> Recognizer:
    """The process's recognizer for a set of hints (the last 16 sets are kept)."""
    key = tuple(hints)
    with _executor_lock:
        recognizer = _recognizers.pop(key, None) or Recognizer(key)
        _recognizers[key] = recognizer  # most recent last
        while len(_recognizers) > 16:
            del _recognizers[next(iter(_recognizers))]
        return recognizer
