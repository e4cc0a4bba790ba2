"""Property-based fuzzing of every operation of our own OpenAPI document, on the live
server (SQLite and PostgreSQL): whatever a client sends, valid or not, the server never
answers 5xx, answers only the statuses the API documents, and every error has our shape.

Path parameters are sometimes real ids of the caller's organization (an assistant, a call,
a campaign, a phone number, a voice), so the handlers behind the 404 are fuzzed too.

The document declares no real response schemas (every 2xx is ``{}``) and only FastAPI's
422, not the 400/404/409 the API answers, so schemathesis' ``response_schema_conformance``
would pass vacuously and ``status_code_conformance`` would fail on every 404: both are
replaced by the explicit checks below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import requests
import revox
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.models import APIOperation, Case
from schemathesis.schemas import BaseSchema

from openrevox.api.app import create_app
from openrevox.settings import Settings
from tests.conftest import LiveServer

# Our document is OpenAPI 3.1 (FastAPI's default); schemathesis 3 keeps 3.1 behind a flag.
schemathesis.experimental.OPEN_API_3_1.enable()

DEFAULT_EXAMPLES = 15
LONG_EXAMPLES = 150
# The statuses the API may answer to a caller with a valid key (see the app's description).
ALLOWED_STATUSES = frozenset({200, 400, 404, 409, 422})
ERROR_KEYS = frozenset({"type", "message", "param", "code"})
AUDIO_OPERATIONS = frozenset({("POST", "/voices/preview")})
ALL_WEEK: dict[str, Any] = {
    "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "call_twice_in_a_row": False,
    "calling_windows": [
        {
            "calling_window_start_time": "00:00",
            "calling_window_end_time": "23:59",
            "retry_delay_seconds": 5,
        }
    ],
    "max_retry_attempts": 2,
}


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the document, known at collection time from the app itself."""
    schema = create_app(Settings(database_url="sqlite://"), migrate=False).openapi()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]


OPERATIONS = _operations()


@dataclass(frozen=True)
class RealIds:
    """Ids that exist in the fuzzing organization, by the name of the path parameter."""

    key: str
    by_param: dict[str, str]
    voice_provider: str


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> BaseSchema:
    """The document as the live server serves it at /openapi.json."""
    return schemathesis.from_uri(f"{server.url}/openapi.json", base_url=server.url)


@pytest.fixture
def real_ids(server: LiveServer) -> RealIds:
    """A fresh organization with one of everything, so destructive operations stay apart."""
    org = server.new_org()
    client = revox.Revox(api_key=org.live_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = client.assistants.create(
        name="Fuzz",
        prompt="Hello {{name}}.",
        call_retry_config=ALL_WEEK,  # type: ignore[arg-type]
    ).assistant
    call = client.call.create(
        phone_number="+12125550100", assistant_id=assistant.id, prompt_variables={"name": "A"}
    ).call
    campaign = client.campaigns.create(
        assistant_id=assistant.id,
        name="Fuzz campaign",
        contacts=[{"to_phone_number": "+12125550100", "prompt_variables": {"name": "B"}}],  # type: ignore[list-item]
    ).campaign
    lines = client.phone_numbers.list().phone_numbers
    voices = client.voices.list().voices
    assert lines and voices, "a new organization has sandbox lines and the preset voices"
    return RealIds(
        key=org.live_key,
        by_param={
            "assistant_id": assistant.id,
            "call_id": call.id,
            "campaign_id": campaign.id,
            "phone_number_id": lines[0].id,
            "voice_id": voices[0].id,
        },
        voice_provider=voices[0].provider,
    )


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def status_is_documented(response: requests.Response, case: Case) -> None:
    assert response.status_code in ALLOWED_STATUSES, (
        f"{case.method} {case.formatted_path} answered {response.status_code}, "
        f"not one of {sorted(ALLOWED_STATUSES)}: {response.text[:500]}"
    )


def errors_have_our_shape(response: requests.Response, case: Case) -> None:
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", "").startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert set(body["error"]) >= ERROR_KEYS, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


def successes_are_json(response: requests.Response, case: Case) -> None:
    if response.status_code >= 400:
        return
    content_type = response.headers.get("content-type", "")
    if (case.method.upper(), case.operation.path) in AUDIO_OPERATIONS:
        assert content_type.startswith("audio/"), content_type
        return
    assert content_type.startswith("application/json"), content_type
    assert isinstance(response.json(), dict)


CHECKS: tuple[Callable[[requests.Response, Case], None], ...] = (
    not_a_server_error,  # type: ignore[assignment]
    status_is_documented,
    errors_have_our_shape,
    successes_are_json,
)


def _case_strategy(operation: APIOperation) -> st.SearchStrategy[Case]:
    """Valid requests, and invalid ones (operations without inputs cannot be made invalid)."""
    strategies = [operation.as_strategy(data_generation_method=DataGenerationMethod.positive)]
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(
            operation.as_strategy(data_generation_method=DataGenerationMethod.negative)
        )
    return st.one_of(strategies)


def _use_real_ids(case: Case, ids: RealIds) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids.by_param:
            case.path_parameters[name] = ids.by_param[name]  # type: ignore[index]
            if name == "voice_id" and isinstance(case.query, dict):
                case.query["provider"] = ids.voice_provider
    if isinstance(case.body, dict):
        for name in ("assistant_id", "inbound_assistant_id"):
            if name in case.body:
                case.body[name] = ids.by_param["assistant_id"]


def fuzz(
    schema: BaseSchema,
    session: requests.Session,
    server: LiveServer,
    ids: RealIds,
    method: str,
    path: str,
    max_examples: int,
) -> None:
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {ids.key}"}

    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )
    @given(case=_case_strategy(operation), real=st.booleans())
    def run(case: Case, real: bool) -> None:
        if real:
            _use_real_ids(case, ids)
        response = case.call(base_url=server.url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)  # type: ignore[arg-type]

    run()


def _id(operation: tuple[str, str]) -> str:
    return f"{operation[0]} {operation[1]}"


def test_the_served_document_lists_every_operation(api_schema: BaseSchema) -> None:
    served = {(op.method.upper(), op.path) for op in _all_operations(api_schema)}
    assert served == set(OPERATIONS)
    assert len(OPERATIONS) >= 38  # the contract's 36 routes, plus the two legacy ones


def _all_operations(schema: BaseSchema) -> list[APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_fuzzed_requests_never_break_the_server(
    server: LiveServer,
    api_schema: BaseSchema,
    http: requests.Session,
    real_ids: RealIds,
    operation: tuple[str, str],
) -> None:
    fuzz(api_schema, http, server, real_ids, *operation, max_examples=DEFAULT_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_fuzzed_requests_never_break_the_server_long(
    server: LiveServer,
    api_schema: BaseSchema,
    http: requests.Session,
    real_ids: RealIds,
    operation: tuple[str, str],
) -> None:
    fuzz(api_schema, http, server, real_ids, *operation, max_examples=LONG_EXAMPLES)
