"""Which endpoint serves an assistant's ``llm_model``, by configuration."""

from __future__ import annotations

import pytest

from openrevox.agent.llm.endpoints import EndpointConfigError, endpoint_for
from openrevox.settings import Settings


def settings(**changes: object) -> Settings:
    return Settings(database_url="sqlite:///unused.db").with_changes(**changes)


def test_no_llm_configured_means_the_sandbox_agent() -> None:
    assert endpoint_for(None, settings()) is None
    assert endpoint_for({"type": "dedicated-instance", "name": "gpt-4.1"}, settings()) is None
    openrouter = {"type": "openrouter", "openrouter_model_id": "x", "openrouter_provider": "y"}
    assert endpoint_for(openrouter, settings()) is None


def test_dedicated_instances_map_by_name_then_fall_back_to_the_default() -> None:
    mapped = settings(
        llm_base_url="http://default/v1",
        llm_api_key="k",
        llm_endpoints='{"ministral-3-8b-instruct": {"base_url": "http://vllm:8000/v1", '
        '"model": "mistralai/Ministral-3-8B-Instruct"}}',
    )
    ministral = endpoint_for(
        {"type": "dedicated-instance", "name": "ministral-3-8b-instruct"}, mapped
    )
    assert ministral is not None and ministral.base_url == "http://vllm:8000/v1"
    assert ministral.model == "mistralai/Ministral-3-8B-Instruct" and ministral.api_key is None
    gpt = endpoint_for(None, mapped)
    assert gpt is not None and (gpt.base_url, gpt.model, gpt.api_key) == (
        "http://default/v1", "gpt-4.1", "k",
    )  # fmt: skip


def test_openrouter_routes_to_the_requested_provider_only() -> None:
    model = {"type": "openrouter", "openrouter_model_id": "openai/gpt-4.1",
             "openrouter_provider": "azure"}  # fmt: skip
    endpoint = endpoint_for(model, settings(openrouter_api_key="or-key"))
    assert endpoint is not None and endpoint.base_url == "https://openrouter.ai/api/v1"
    assert endpoint.extra_body == {"provider": {"order": ["azure"], "allow_fallbacks": False}}


def test_custom_endpoint_needs_no_configuration() -> None:
    model = {"type": "custom", "api_url": "https://api.together.xyz/v1", "api_key": "t",
             "model_name": "meta-llama/llama-3-70b"}  # fmt: skip
    endpoint = endpoint_for(model, settings())
    assert endpoint is not None and endpoint.model == "meta-llama/llama-3-70b"


def test_a_malformed_endpoint_map_is_reported() -> None:
    with pytest.raises(EndpointConfigError, match="needs a base_url"):
        endpoint_for(None, settings(llm_endpoints='{"gpt-4.1": {}}'))
    with pytest.raises(EndpointConfigError, match="not JSON"):
        endpoint_for(None, settings(llm_endpoints="{"))
