"""A chat model on any OpenAI-compatible endpoint (``POST {base}/chat/completions``):
server-sent events streamed, tool calls assembled from their deltas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from openrevox.agent.llm.chat import LLMError, Message, Reply, TextDelta, ToolCall, ToolSpec


@dataclass(frozen=True, slots=True)
class Endpoint:
    base_url: str
    api_key: str | None
    model: str
    # Extra body keys a provider understands (OpenRouter's ``provider`` routing).
    extra_body: dict[str, Any] = field(default_factory=dict)


_clients: dict[int, httpx.AsyncClient] = {}


def shared_client() -> httpx.AsyncClient:
    """One connection pool per event loop: calls of a worker reuse connections."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
        client = _clients[id(loop)] = httpx.AsyncClient(limits=limits, trust_env=False)
    return client


class OpenAICompatibleModel:
    def __init__(
        self, endpoint: Endpoint, *, timeout: float = 15.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout  # for the first token, and between two chunks
        self._client = client

    @property
    def name(self) -> str:
        return self.endpoint.model

    def _request(self, body: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        headers = {"content-type": "application/json"}
        if self.endpoint.api_key:
            headers["authorization"] = f"Bearer {self.endpoint.api_key}"
        payload = {"model": self.endpoint.model, **self.endpoint.extra_body, **body}
        url = self.endpoint.base_url.rstrip("/") + "/chat/completions"
        return url, headers, orjson.dumps(payload)

    async def stream(
        self, messages: list[Message], tools: list[ToolSpec] | None = None
    ) -> AsyncIterator[TextDelta | Reply]:
        body: dict[str, Any] = {"messages": messages, "stream": True}
        if tools:
            body["tools"] = tools
        url, headers, content = self._request(body)
        client = self._client or shared_client()
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        reply, partial = Reply(), _ToolCallParts()
        try:
            async with client.stream(
                "POST", url, headers=headers, content=content, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    detail = (await response.aread())[:200].decode(errors="replace")
                    raise LLMError("llm_error", f"HTTP {response.status_code} {detail}")
                async for data in _events(response):
                    if data == "[DONE]":
                        break
                    chunk = _decode(data)
                    if "error" in chunk:
                        raise LLMError("llm_error", str(chunk["error"])[:200])
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        text = delta.get("content")
                        if text:
                            reply.text += text
                            yield TextDelta(text)
                        for part in delta.get("tool_calls") or []:
                            partial.add(part)
        except httpx.TimeoutException as error:
            raise LLMError("llm_timeout", f"no answer within {self.timeout:g} s") from error
        except httpx.HTTPError as error:
            raise LLMError("llm_unreachable", f"{type(error).__name__}: {error}") from error
        reply.tool_calls = partial.calls()
        yield reply

    async def complete_json(self, messages: list[Message], schema: dict[str, Any]) -> str:
        body = {
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "extraction", "schema": schema, "strict": False},
            },
        }
        url, headers, content = self._request(body)
        client = self._client or shared_client()
        try:
            response = await client.post(
                url, headers=headers, content=content, timeout=self.timeout * 2
            )
        except httpx.TimeoutException as error:
            raise LLMError("llm_timeout", f"no answer within {self.timeout * 2:g} s") from error
        except httpx.HTTPError as error:
            raise LLMError("llm_unreachable", f"{type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            raise LLMError("llm_error", f"HTTP {response.status_code} {response.text[:200]}")
        try:
            return str(orjson.loads(response.content)["choices"][0]["message"]["content"] or "")
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError) as error:
            raise LLMError("llm_error", f"unreadable completion: {error}") from error


async def _events(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data:`` payloads of a server-sent-events stream (multi-line data joined)."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            lines.append(line[5:].lstrip())
        elif not line and lines:
            yield "\n".join(lines)
            lines = []
    if lines:
        yield "\n".join(lines)


def _decode(data: str) -> dict[str, Any]:
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise LLMError("llm_error", f"unreadable stream chunk: {data[:80]!r}") from error
    if not isinstance(chunk, dict):
        raise LLMError("llm_error", f"unexpected stream chunk: {data[:80]!r}")
    return chunk


class _ToolCallParts:
    """Tool calls arrive in pieces keyed by ``index``: the id and name first, then the
    arguments' JSON a few characters at a time."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def add(self, part: dict[str, Any]) -> None:
        slot = self._parts.setdefault(int(part.get("index", 0)), {"id": "", "name": "", "args": ""})
        if part.get("id"):
            slot["id"] = str(part["id"])
        function = part.get("function") or {}
        if function.get("name"):
            slot["name"] += str(function["name"])
        if function.get("arguments"):
            slot["args"] += str(function["arguments"])

    def calls(self) -> list[ToolCall]:
        calls = []
        for index in sorted(self._parts):
            slot = self._parts[index]
            try:
                arguments = orjson.loads(slot["args"]) if slot["args"].strip() else {}
            except orjson.JSONDecodeError:
                arguments = {"_unparsed": slot["args"]}
            if not isinstance(arguments, dict):
                arguments = {"value": arguments}
            calls.append(
                ToolCall(
                    id=slot["id"] or f"call_{index}",
                    name=slot["name"],
                    arguments=arguments,
                    raw_arguments=slot["args"] or "{}",
                )
            )
        return calls
