"""Deepgram live STT over its websocket (``/v1/listen``), one stream per call.

The query asks for the phone line's own audio (``encoding=mulaw``, ``sample_rate=8000``,
mono: nothing is resampled), ``interim_results`` (reported to ``on_interim``, a second
trigger for barge-in), ``endpointing`` and ``utterance_end_ms`` with ``vad_events``:
Deepgram's end-of-speech signals are counted in ``endpoints`` and reported to
``on_endpoint``, a vote in the ear's turn detection: a ``speech_final`` result as
``SPEECH_END``, an ``UtteranceEnd`` message as ``UTTERANCE_END``. The assistant's
``stt_context`` terms go as ``keyterm`` (nova-3) or ``keywords`` (older models). Our
turn detection ends a turn with a ``Finalize`` message: the finals since the last one
come back up to a result marked ``from_finalize``. ``KeepAlive`` every few seconds of
silence keeps the stream open between turns; Deepgram cannot take back audio already
sent, so ``finalize``'s ``drop`` is ignored.

A small client over ``websockets`` rather than the official ``deepgram-sdk`` (which the
tests use to check the fake): the SDK's async client connects through the deprecated
``websockets.legacy`` module, which the ``websockets`` we depend on is removing.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Final
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from openrevox.audio.codec import Samples, ulaw_encode
from openrevox.audio.providers.streaming import StreamingRecognition
from openrevox.audio.providers.websocket import close_status, connect, websocket_base
from openrevox.audio.speech import SPEECH_END, UTTERANCE_END, SpeechFault

DEFAULT_MODEL: Final = "nova-3"
ENDPOINTING_MS: Final = 300
UTTERANCE_END_MS: Final = 1000


def websocket_url(
    base_url: str, *, model: str = DEFAULT_MODEL, terms: list[str] | None = None
) -> str:
    """The live websocket under a Deepgram base URL (``wss://api.deepgram.com``)."""
    base = websocket_base(base_url)
    query: list[tuple[str, str]] = [
        ("model", model),
        ("encoding", "mulaw"),
        ("sample_rate", "8000"),
        ("channels", "1"),
        ("interim_results", "true"),
        ("punctuate", "true"),
        ("smart_format", "true"),
        ("endpointing", str(ENDPOINTING_MS)),
        ("utterance_end_ms", str(UTTERANCE_END_MS)),
        ("vad_events", "true"),
    ]
    name = "keyterm" if model.startswith("nova-3") else "keywords"
    query += [(name, term) for term in terms or []]
    return f"{base}/v1/listen?{urlencode(query)}"


class DeepgramRecognition(StreamingRecognition):
    """A call's ``SpeechToText`` on Deepgram."""

    name = "deepgram"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str = DEFAULT_MODEL,
        terms: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.endpoints = 0  # speech_final results and UtteranceEnd messages seen
        self.url = websocket_url(base_url, model=model, terms=terms)
        self._api_key = api_key
        self._connection: ClientConnection | None = None
        self._sent_audio = False  # audio since the last Finalize

    async def start(self) -> None:
        self._connection = await connect(
            self.url, {"Authorization": f"Token {self._api_key}"}, who="Deepgram", side="stt"
        )
        self._run(self._read(), self._write(), self._keep_alive())

    def send(self, samples: Samples) -> None:
        if self._fault is None and not self._closing and len(samples):
            self._sent_audio = True
            self._outbox.put_nowait(ulaw_encode(samples))

    async def finalize(self, drop: int = 0) -> str:
        if self._fault is not None:
            raise self._fault
        if not self._sent_audio:
            text, self._finals = " ".join(self._finals).strip(), []
            return text
        self._sent_audio = False
        return await self._final()

    async def _write(self) -> None:
        connection = self._connection
        assert connection is not None

        async def finalize() -> None:
            await connection.send(json.dumps({"type": "Finalize"}))

        with contextlib.suppress(ConnectionClosed):  # the reader says why
            await self._pump(connection.send, finalize)

    async def _keep_alive(self) -> None:
        connection = self._connection
        assert connection is not None

        async def keep_alive() -> None:
            await connection.send(json.dumps({"type": "KeepAlive"}))

        with contextlib.suppress(ConnectionClosed):
            await self._keep_alive_with(keep_alive)

    async def _read(self) -> None:
        connection = self._connection
        assert connection is not None
        closed: ConnectionClosed | None = None
        try:
            async for raw in connection:
                if isinstance(raw, str):
                    try:
                        self._message(json.loads(raw))
                    except (ValueError, TypeError, AttributeError, IndexError):
                        self._fail(SpeechFault("stt_error", f"Deepgram sent {raw[:200]!r}"))
                        return
        except ConnectionClosed as error:
            closed = error
        code, reason = close_status(connection, closed)
        if code not in (1000, None) and reason:
            # Deepgram closes with its error code as the reason (NET-0001, DATA-0000...).
            self._fail(SpeechFault("stt_error", f"Deepgram {code}: {reason}"))
        self._fail(
            SpeechFault("stt_disconnected", f"Deepgram closed the connection ({code} {reason})")
        )

    def _message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "UtteranceEnd":
            self._endpoint(UTTERANCE_END)
            return
        if kind == "Error" or message.get("err_code"):
            code = message.get("variant") or message.get("err_code") or ""
            detail = message.get("description") or message.get("err_msg") or "error"
            self._fail(SpeechFault("stt_error", f"Deepgram {code}: {detail}".replace(" :", ":")))
            return
        if kind != "Results":
            return
        alternatives = (message.get("channel") or {}).get("alternatives") or [{}]
        transcript = str(alternatives[0].get("transcript") or "").strip()
        if message.get("is_final"):
            if transcript:
                self._finals.append(transcript)
            if message.get("speech_final"):
                self._endpoint(SPEECH_END)
            if message.get("from_finalize") and self._waiting:
                text, self._finals = " ".join(self._finals).strip(), []
                self._answer(text)
        elif transcript and self.on_interim is not None:
            self.on_interim(" ".join([*self._finals, transcript]).strip())

    def _endpoint(self, kind: str) -> None:
        self.endpoints += 1
        if self.on_endpoint is not None:
            self.on_endpoint(kind)

    async def close(self) -> None:
        self._closing = True
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.send(json.dumps({"type": "CloseStream"}))
        await self._stop()
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
