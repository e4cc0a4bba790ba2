"""A stand-in for an OpenAI-compatible endpoint (OpenAI, OpenRouter, vLLM...), speaking
the chat-completions wire format over real HTTP: server-sent events of
``chat.completion.chunk`` objects, tool calls streamed in pieces, ``data: [DONE]``; and
non-streamed JSON completions for ``response_format`` requests."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.agent.fake_llm_brain import Decision, decide, extract
from tests.voices.fake_server import FakeProvider


class FakeOpenAI(FakeProvider):
    api_key = "sk-fake-openai-0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.fault: str | None = None  # http_500 | hang | stall_midstream
        self.healthy_requests = 0  # chat requests served before the fault applies
        self.chunk_delay = 0.0  # seconds between streamed chunks

    def reset(self) -> None:
        super().reset()
        self.fault, self.healthy_requests, self.chunk_delay = None, 0, 0.0

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests_to("POST", "/v1/chat/completions")]

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])

    async def _chat(self, request: Request) -> Response:
        recorded = await self.record(request)
        if recorded.headers.get("authorization") != f"Bearer {self.api_key}":
            error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=401)
        body = recorded.json()
        served = len(self.requests_to("POST", "/v1/chat/completions")) - 1
        fault = self.fault if served >= self.healthy_requests else None
        if fault == "http_500":
            error = {"message": "The server had an error", "type": "server_error"}
            return JSONResponse({"error": error}, status_code=500)
        if fault == "hang":
            await asyncio.sleep(3600)
        if "response_format" in body:
            return JSONResponse(_completion(body["model"], json.dumps(extract(body))))
        decision = decide(body)
        stream = self._stream(body["model"], decision, stall=fault == "stall_midstream")
        return StreamingResponse(stream, media_type="text/event-stream")

    async def _stream(self, model: str, decision: Decision, *, stall: bool) -> AsyncIterator[bytes]:
        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n".encode()

        yield event({"role": "assistant", "content": ""})
        for index, word in enumerate(decision.text.split(" ") if decision.text else []):
            if stall and index == 2:
                await asyncio.sleep(3600)
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield event({"content": word if index == 0 else " " + word})
        for index, (name, arguments) in enumerate(decision.tool_calls):
            call_id = f"call_{uuid.uuid4().hex[:10]}"
            yield event(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            encoded = json.dumps(arguments)
            for start in range(0, len(encoded), 7):  # arguments arrive in pieces
                piece = {"index": index, "function": {"arguments": encoded[start : start + 7]}}
                yield event({"tool_calls": [piece]})
        yield event({}, "tool_calls" if decision.tool_calls else "stop")
        yield b"data: [DONE]\n\n"


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
