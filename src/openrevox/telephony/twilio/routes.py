"""The paths Twilio calls, as a Starlette router the app mounts at
``/telephony/twilio``: the TwiML of an answered call, its status callbacks, and its
media websocket. Every HTTP request must carry a valid ``X-Twilio-Signature`` computed
over the public URL we gave Twilio (403 otherwise)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router, WebSocketRoute
from starlette.websockets import WebSocket
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

from openrevox.telephony.twilio.carrier import TwilioCarrier
from openrevox.telephony.twilio.stream import StreamRefused, TwilioStream, read_start

log = logging.getLogger("openrevox.twilio.routes")
PREFIX = "/telephony/twilio"
# Policy violation: the close code for a stream we refuse.
REFUSED = 1008


def stream_twiml(carrier: TwilioCarrier, attempt_id: str, token: str) -> str:
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=f"{carrier.config.websocket_url}{PREFIX}/media")
    stream.parameter(name="attempt", value=attempt_id)
    stream.parameter(name="token", value=token)
    response.append(connect)
    return str(response)


def hang_up_twiml() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def build_router(carrier: TwilioCarrier) -> Router:
    validator = RequestValidator(carrier.config.auth_token)

    async def signed_form(request: Request) -> dict[str, str] | None:
        """The form, if its signature is Twilio's for the public URL we gave it."""
        # Twilio posts application/x-www-form-urlencoded; a repeated name keeps its last.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        url = f"{carrier.config.public_url}{request.url.path}"
        if request.url.query:
            url += f"?{request.url.query}"
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not validator.validate(url, form, signature):
            log.warning("refused a callback to %s: bad X-Twilio-Signature", request.url.path)
            return None
        return form

    async def twiml(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid signature", status_code=403)
        attempt_id = request.path_params["attempt_id"]
        token = request.query_params.get("token", "")
        dial = carrier.dial_for(attempt_id, token)
        if dial is None or dial.ended:
            body = hang_up_twiml()  # an attempt we no longer carry: never talk twice
        else:
            await carrier.apply_status(dial, form, sequence=None)
            body = stream_twiml(carrier, attempt_id, token)
        return Response(body, media_type="application/xml")

    async def status(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid signature", status_code=403)
        dial = carrier.dial_for(
            request.path_params["attempt_id"], request.query_params.get("token", "")
        )
        if dial is not None:
            raw = form.get("SequenceNumber", "")
            await carrier.apply_status(dial, form, sequence=int(raw) if raw.isdigit() else None)
        return Response(status_code=204)

    async def media(ws: WebSocket) -> None:
        await ws.accept()
        try:
            start = await read_start(ws)
        except (StreamRefused, ValueError, RuntimeError) as error:
            log.warning("refused a media stream: %s", error)
            await ws.close(code=REFUSED)
            return
        stream = TwilioStream(ws, start)
        if start.account_sid != carrier.config.account_sid or not carrier.accept_stream(stream):
            log.warning("refused the media stream of call %s", start.call_sid)
            await ws.close(code=REFUSED)
            return
        await stream.pump()

    return Router(
        routes=[
            Route("/twiml/{attempt_id}", twiml, methods=["POST"]),
            Route("/status/{attempt_id}", status, methods=["POST"]),
            WebSocketRoute("/media", media),
        ]
    )
