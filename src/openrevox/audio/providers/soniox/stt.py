"""Soniox realtime STT, one session per call, through Soniox's official SDK (``soniox``).

The SDK streams well (``send_byte_chunk``, ``finalize``, ``keep_alive``, an event stream
that ends when the connection does) and takes the websocket URL, so the product uses it
rather than its own protocol code. The key travels in the handshake's
``Authorization`` header, as Soniox documents it; the config asks for raw 8 kHz mu-law,
the phone line's own audio, so nothing is resampled; ``stt_context`` goes as Soniox's
``context``. Our turn detection decides when a turn ends (the VAD and smart-turn, as at
every fidelity), so endpoint detection is off and each turn is closed with a
``finalize``: its final tokens come back up to a ``<fin>`` token. Interim tokens are
reported as they come (``on_interim``). Between turns nothing is sent but a
``keepalive`` every few seconds. Soniox cannot take back audio already sent: the
``drop`` of ``finalize`` is ignored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Final

from soniox import AsyncSonioxClient
from soniox.errors import SonioxError
from soniox.realtime.async_stt import AsyncRealtimeSTTSession
from soniox.types import RealtimeEvent, RealtimeSTTConfig

from openrevox.audio.codec import Samples, ulaw_encode
from openrevox.audio.providers.streaming import StreamingRecognition
from openrevox.audio.providers.websocket import websocket_base
from openrevox.audio.speech import SpeechFault

MODELS: Final = ("stt-rt-v4", "stt-rt-v5")
NEWEST_MODEL: Final = "stt-rt-v5"  # the contract: the newest model when omitted
CONNECT_TIMEOUT: Final = 5.0
_FIN: Final = "<fin>"
_END: Final = "<end>"


def websocket_url(base_url: str) -> str:
    """The realtime websocket under a Soniox base URL (``wss://stt-rt.soniox.com``)."""
    return websocket_base(base_url) + "/transcribe-websocket"


def soniox_context(stt_context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The assistant's ``stt_context`` (``general`` key/value pairs, ``terms``) as
    Soniox's ``context``."""
    if not stt_context:
        return None
    context: dict[str, Any] = {}
    general = [
        {"key": str(item.get("key")), "value": str(item.get("value"))}
        for item in stt_context.get("general") or []
        if isinstance(item, Mapping) and item.get("key")
    ]
    if general:
        context["general"] = general
    terms = [str(term) for term in stt_context.get("terms") or [] if str(term).strip()]
    if terms:
        context["terms"] = terms
    return context or None


class SonioxRecognition(StreamingRecognition):
    """A call's ``SpeechToText`` on Soniox."""

    name = "soniox"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str = NEWEST_MODEL,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._client = AsyncSonioxClient(
            api_key=api_key, websocket_base_url=websocket_url(base_url)
        )
        self.config = RealtimeSTTConfig(
            model=model,
            audio_format="mulaw",
            sample_rate=8000,
            num_channels=1,
            context=dict(context) if context else None,
            enable_endpoint_detection=False,
        )
        self._session: AsyncRealtimeSTTSession | None = None

    async def start(self) -> None:
        session = self._client.realtime.stt.connect(
            config=self.config, connect_timeout_sec=CONNECT_TIMEOUT
        )
        try:
            self._session = await session.__aenter__()
        except SonioxError as error:
            raise SpeechFault(
                "stt_unreachable", f"Soniox: {error} ({error.__cause__!r})"
            ) from error
        self._run(self._read(), self._write(), self._keep_alive())

    def send(self, samples: Samples) -> None:
        if self._fault is None and not self._closing:
            self._outbox.put_nowait(ulaw_encode(samples))

    async def finalize(self, drop: int = 0) -> str:
        if self._fault is not None:
            raise self._fault
        return await self._final()

    async def _write(self) -> None:
        session = self._session
        assert session is not None
        try:
            await self._pump(session.send_byte_chunk, session.finalize)
        except SonioxError as error:
            self._fail(SpeechFault("stt_disconnected", f"Soniox: {error}"))

    async def _keep_alive(self) -> None:
        session = self._session
        assert session is not None
        with contextlib.suppress(SonioxError):
            await self._keep_alive_with(session.keep_alive)

    async def _read(self) -> None:
        session = self._session
        assert session is not None
        try:
            async for event in session.receive_events():
                if self._event(event):
                    return
        except SonioxError as error:
            self._fail(SpeechFault("stt_disconnected", f"Soniox: {error}"))
            return
        if not self._closing:
            self._fail(SpeechFault("stt_disconnected", "Soniox closed the connection"))

    def _event(self, event: RealtimeEvent) -> bool:
        """Take one event in; True when the session is over."""
        if event.error_code is not None or event.error_message:
            self._fail(
                SpeechFault("stt_error", f"Soniox {event.error_code}: {event.error_message}")
            )
            return True
        interim: list[str] = []
        for token in event.tokens:
            if token.text == _FIN:
                text, self._finals = "".join(self._finals).strip(), []
                self._answer(text)
            elif token.text == _END:
                continue
            elif token.is_final:
                self._finals.append(token.text)
            else:
                interim.append(token.text)
        if interim and self.on_interim is not None:
            self.on_interim(("".join(self._finals) + "".join(interim)).strip())
        return bool(event.finished)

    async def close(self) -> None:
        self._closing = True
        await self._stop()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
