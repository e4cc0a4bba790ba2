"""Which endpoint serves an assistant's ``llm_model``, by configuration.

- ``dedicated-instance`` (``gpt-4.1``, ``ministral-3-8b-instruct``): the name's entry in
  ``OPENREVOX_LLM_ENDPOINTS`` (JSON), else the default ``OPENREVOX_LLM_BASE_URL`` serving
  a model of that name;
- ``openrouter``: ``OPENREVOX_OPENROUTER_BASE_URL`` with ``OPENREVOX_OPENROUTER_API_KEY``,
  routed to the requested provider only (OpenRouter's ``provider`` body key);
- ``custom``: the assistant's own ``api_url``, ``api_key`` and ``model_name``;
- ``realtime``: served by the default endpoint (no realtime transport here).

None means no LLM serves the assistant: the sandbox agent takes simulated calls, and a
call that would reach a real carrier is refused at creation.
"""

from __future__ import annotations

from typing import Any

import orjson

from openrevox.agent.llm.openai_compatible import Endpoint
from openrevox.settings import Settings

DEFAULT_MODEL = {"type": "dedicated-instance", "name": "gpt-4.1"}


class EndpointConfigError(ValueError):
    """``OPENREVOX_LLM_ENDPOINTS`` is not the JSON object it must be."""


def dedicated_endpoints(settings: Settings) -> dict[str, Endpoint]:
    if not settings.llm_endpoints:
        return {}
    try:
        raw = orjson.loads(settings.llm_endpoints)
    except orjson.JSONDecodeError as error:
        raise EndpointConfigError(f"OPENREVOX_LLM_ENDPOINTS is not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise EndpointConfigError("OPENREVOX_LLM_ENDPOINTS must map model names to endpoints")
    endpoints = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not entry.get("base_url"):
            raise EndpointConfigError(f"OPENREVOX_LLM_ENDPOINTS['{name}'] needs a base_url")
        endpoints[str(name)] = Endpoint(
            base_url=str(entry["base_url"]),
            api_key=entry.get("api_key"),
            model=str(entry.get("model") or name),
        )
    return endpoints


def endpoint_for(llm_model: dict[str, Any] | None, settings: Settings) -> Endpoint | None:
    model = llm_model or DEFAULT_MODEL
    kind = model.get("type")
    if kind == "custom":
        if not model.get("api_url"):
            return None
        return Endpoint(
            base_url=str(model["api_url"]),
            api_key=model.get("api_key"),
            model=str(model.get("model_name") or model.get("api_model_name") or ""),
        )
    if kind == "openrouter":
        if not settings.openrouter_api_key:
            return None
        provider = model.get("openrouter_provider")
        routing = {"provider": {"order": [provider], "allow_fallbacks": False}} if provider else {}
        return Endpoint(
            base_url=settings.openrouter_base_url,
            api_key=settings.openrouter_api_key,
            model=str(model.get("openrouter_model_id") or ""),
            extra_body=routing,
        )
    name = str(model.get("name") or DEFAULT_MODEL["name"])
    named = dedicated_endpoints(settings).get(name)
    if named is not None:
        return named
    if settings.llm_base_url:
        return Endpoint(base_url=settings.llm_base_url, api_key=settings.llm_api_key, model=name)
    return None
