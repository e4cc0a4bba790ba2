"""Property-based fuzzing of every operation of our own OpenAPI document, on the live
server (SQLite and PostgreSQL): whatever a client sends, valid or not, the server never
answers 5xx, answers only statuses the API documents, and every error has our shape.

Path parameters (and id-valued query and body fields) are sometimes real ids of the
caller's organization, so the handlers behind the 404 are fuzzed too.

Why not schemathesis' ``response_schema_conformance`` and ``status_code_conformance``:
the document declares no response schemas (every 2xx is ``{}``, so conformance would pass
vacuously) and, for most operations, only FastAPI's 422, not the 400/404/409 the API
answers by design (so every 404 would fail). ``status_is_documented`` and
``errors_have_our_shape`` below check what the API really promises instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.models import APIOperation, Case
from schemathesis.schemas import BaseSchema

from openrevox.api.app import create_app
from openrevox.settings import Settings
from tests.conftest import LiveServer

# Our document is OpenAPI 3.1 (FastAPI's default); schemathesis 3 keeps 3.1 behind a flag.
schemathesis.experimental.OPEN_API_3_1.enable()

DEFAULT_EXAMPLES = 4
LONG_EXAMPLES = 25  # marked slow: about 3 minutes for both backends
# What the API answers a caller with a valid key, whatever the route (the app description):
# 400 malformed JSON, 404 unknown id, 409 business conflict, 422 invalid field.
API_STATUSES = frozenset({200, 400, 404, 409, 422})
ERROR_KEYS = frozenset({"type", "message", "param", "code"})
METHODS = ("get", "head", "post", "put", "patch", "delete")
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
NEEDS = {  # the resources an id-valued parameter needs, created before fuzzing
    "assistant_id": ("assistant",),
    "inbound_assistant_id": ("assistant",),
    "call_id": ("assistant", "call"),
    "campaign_id": ("assistant", "campaign"),
    "phone_number_id": ("phone_number",),
    "voice_id": ("voice",),
}


def _hypothesis_works_with_schemathesis() -> None:
    """hypothesis-jsonschema (hence schemathesis 3) calls ``many.more()``, which Hypothesis
    removed in 6.170.10: every generated object then fails with an AttributeError."""
    if not hasattr(conjecture_utils.many, "more"):
        pytest.fail(
            f"hypothesis {hypothesis.__version__} is too new for hypothesis-jsonschema / "
            "schemathesis 3 ('many' object has no attribute 'more'): pin "
            "'hypothesis<6.170.10' in pyproject's [test] extra",
            pytrace=False,
        )


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the document, known at collection time from the app itself."""
    schema = create_app(Settings(database_url="sqlite://"), migrate=False).openapi()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in METHODS
    ]


OPERATIONS = _operations()


@dataclass
class RealIds:
    """Ids that exist in a fresh organization, by the name of the parameter that takes them."""

    server: LiveServer
    key: str = ""
    by_name: dict[str, str] = field(default_factory=dict)
    voice_provider: str = "cartesia"

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(
            method,
            f"{self.server.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def prepare(self, operation: APIOperation[Any, Any]) -> None:
        """A new organization, with what the operation's parameters can point at."""
        self.key = self.server.new_org().live_key
        wanted: set[str] = set()
        for name in _parameter_names(operation):
            wanted.update(NEEDS.get(name, ()))
        if "assistant" in wanted:
            assistant = self.request(
                "POST",
                "/assistants",
                {"name": "Fuzz", "prompt": "Hello {{name}}.", "call_retry_config": ALL_WEEK},
            )["assistant"]
            self.by_name["assistant_id"] = self.by_name["inbound_assistant_id"] = assistant["id"]
        if "call" in wanted:
            self.by_name["call_id"] = self.request(
                "POST",
                "/call",
                {
                    "phone_number": "+12125550141",  # rings, nobody answers: stays pending
                    "assistant_id": self.by_name["assistant_id"],
                    "prompt_variables": {"name": "A"},
                },
            )["call"]["id"]
        if "campaign" in wanted:
            self.by_name["campaign_id"] = self.request(
                "POST",
                "/campaigns",
                {
                    "assistant_id": self.by_name["assistant_id"],
                    "name": "Fuzz campaign",
                    "contacts": [
                        {"to_phone_number": "+12125550100", "prompt_variables": {"name": "B"}}
                    ],
                },
            )["campaign"]["id"]
        if "phone_number" in wanted:
            lines = self.request("GET", "/phone-numbers")["phone_numbers"]
            self.by_name["phone_number_id"] = lines[0]["id"]
        if "voice" in wanted:
            voice = self.request("GET", "/voices")["voices"][0]
            self.by_name["voice_id"], self.voice_provider = voice["id"], voice["provider"]

    def apply(self, case: Case) -> None:
        """Point the case's id-valued parameters at the organization's real objects."""
        for container in (case.path_parameters, case.query, case.body):
            if not isinstance(container, dict):
                continue
            for name in list(container):
                if name in self.by_name:
                    container[name] = self.by_name[name]
        if "voice_id" in (case.path_parameters or {}) and isinstance(case.query, dict):
            case.query["provider"] = self.voice_provider


def _parameter_names(operation: APIOperation[Any, Any]) -> set[str]:
    names = {parameter.name for parameter in operation.path_parameters}
    names.update(parameter.name for parameter in operation.query)
    for body in operation.body:
        names.update(_property_names(body.definition))
    return names


def _property_names(schema: Any) -> set[str]:
    """Every property name anywhere in a (resolved) JSON schema."""
    if isinstance(schema, list):
        return set().union(*(_property_names(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    names = (
        set(schema.get("properties", {})) if isinstance(schema.get("properties"), dict) else set()
    )
    return names.union(*(_property_names(value) for value in schema.values()))


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> BaseSchema:
    """The document as the live server serves it at /openapi.json."""
    _hypothesis_works_with_schemathesis()
    return schemathesis.from_uri(f"{server.url}/openapi.json", base_url=server.url)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def documented_statuses(case: Case) -> frozenset[int]:
    declared = {int(code) for code in case.operation.definition.raw.get("responses", {})}
    return API_STATUSES | declared


def status_is_documented(response: requests.Response, case: Case) -> None:
    allowed = documented_statuses(case)
    assert response.status_code in allowed, (
        f"{case.method} {case.formatted_path} answered {response.status_code}, "
        f"not one of {sorted(allowed)}: {response.text[:500]}"
    )


# uvicorn's HTTP parser answers this itself (e.g. a header named "0"): the app never ran.
PROTOCOL_ERROR = "Invalid HTTP request received."


def errors_have_our_shape(response: requests.Response, case: Case) -> None:
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return
    if response.status_code == 400 and response.text == PROTOCOL_ERROR:
        return
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert set(body["error"]) >= ERROR_KEYS, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


def successes_have_the_documented_type(response: requests.Response, case: Case) -> None:
    if response.status_code >= 300 or case.method.upper() == "HEAD":
        return
    content = case.operation.definition.raw["responses"].get(str(response.status_code), {})
    declared = list(content.get("content", {})) or ["application/json"]
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert content_type in declared, f"{content_type!r} is not one of {declared}"
    if content_type == "application/json":
        assert isinstance(response.json(), dict)


CHECKS: tuple[Callable[[requests.Response, Case], None], ...] = (
    not_a_server_error,  # type: ignore[assignment]
    status_is_documented,
    errors_have_our_shape,
    successes_have_the_documented_type,
)


def _can_be_invalid(operation: APIOperation[Any, Any]) -> bool:
    """A body or a constrained query parameter can be made invalid; a free string cannot
    (schemathesis then rejects every draw and Hypothesis reports Unsatisfiable)."""
    if operation.body:
        return True
    return any(set(p.definition.get("schema", {})) - {"title"} != {"type"} for p in operation.query)


def _case_strategy(operation: APIOperation[Any, Any]) -> st.SearchStrategy[Case]:
    """Valid requests, and invalid ones where the operation has something to get wrong."""
    strategies = [operation.as_strategy(data_generation_method=DataGenerationMethod.positive)]
    if _can_be_invalid(operation):
        strategies.append(
            operation.as_strategy(data_generation_method=DataGenerationMethod.negative)
        )
    return st.one_of(strategies)


def fuzz(
    schema: BaseSchema,
    session: requests.Session,
    server: LiveServer,
    method: str,
    path: str,
    max_examples: int,
) -> None:
    operation = schema[path][method]
    ids = RealIds(server)
    ids.prepare(operation)
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
            ids.apply(case)
        response = case.call(base_url=server.url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)  # type: ignore[arg-type]

    run()


def _id(operation: tuple[str, str]) -> str:
    return f"{operation[0]} {operation[1]}"


def test_the_served_document_lists_every_operation(api_schema: BaseSchema) -> None:
    served = {
        (operation.method.upper(), operation.path)
        for operation in (result.ok() for result in api_schema.get_all_operations())  # type: ignore[union-attr]
    }
    assert served == set(OPERATIONS)
    assert len(OPERATIONS) >= 38  # the contract's 36 routes, plus the two legacy ones


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_fuzzed_requests_never_break_the_server(
    server: LiveServer, api_schema: BaseSchema, http: requests.Session, operation: tuple[str, str]
) -> None:
    fuzz(api_schema, http, server, *operation, max_examples=DEFAULT_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_fuzzed_requests_never_break_the_server_long(
    server: LiveServer, api_schema: BaseSchema, http: requests.Session, operation: tuple[str, str]
) -> None:
    fuzz(api_schema, http, server, *operation, max_examples=LONG_EXAMPLES)


NUL_REQUESTS = [
    ("POST", "/assistants", {"name": "a\x00b", "prompt": "Hello."}),
    ("PATCH", "/users/me", {"first_name": "A\x00"}),
    ("POST", "/call/search", {"query": "a\x00b"}),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_REQUESTS, ids=[r[1] for r in NUL_REQUESTS])
def test_a_nul_character_in_a_string_is_an_invalid_field(
    server: LiveServer, method: str, path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL cannot store U+0000 in text; SQLite can. Both must refuse it alike."""
    key = server.new_org().live_key
    response = requests.request(
        method, f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == next(iter(body))


@pytest.mark.parametrize("path", ["/assistants/%00", "/call/%00", "/campaigns/a%00b/rows"])
def test_a_nul_character_in_an_id_is_refused_not_a_server_error(
    server: LiveServer, path: str
) -> None:
    """A malformed URL (400) or an unknown id (404): either way, the same on both backends."""
    key = server.new_org().live_key
    response = requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in {400, 404}, response.text
    assert set(response.json()["error"]) >= ERROR_KEYS
