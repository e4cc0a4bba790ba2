"""/docs is Swagger UI served entirely by us (no CDN, no network), and it really renders
our OpenAPI document in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from jsonschema.exceptions import ValidationError
from schemathesis.specs.openapi import definitions

from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# A name that is not loopback: Swagger UI skips some network features (the online
# validator badge) for localhost and 127.0.0.1 only, so the browser must see a real name.
DOCS_HOST = "openrevox-docs.test"
CONTRACT_PATHS = {
    "/auth-status",
    "/users/me",
    "/assistants",
    "/assistants/{assistant_id}",
    "/assistants/{assistant_id}/clone",
    "/call",
    "/call/{call_id}",
    "/call/{call_id}/cancel",
    "/call/{call_id}/pause",
    "/call/{call_id}/resume",
    "/call/search",
    "/call/export",
    "/calls/phone-history",
    "/campaigns",
    "/campaigns/{campaign_id}",
    "/campaigns/{campaign_id}/cancel",
    "/campaigns/{campaign_id}/pause",
    "/campaigns/{campaign_id}/resume",
    "/campaigns/{campaign_id}/launch-calls",
    "/campaigns/{campaign_id}/launch",
    "/campaigns/{campaign_id}/statistics",
    "/campaigns/{campaign_id}/rows",
    "/campaigns/{campaign_id}/export",
    "/phone-numbers",
    "/phone-numbers/{phone_number_id}",
    "/voices",
    "/voices/{voice_id}",
    "/voices/clone",
    "/voices/preview",
}
CONTENT_TYPES = {
    ".js": ("application/javascript", "text/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}
# Inline script: SwaggerUIBundle({url: '/openapi.json', ...})
_SCRIPT_URL = re.compile(r"""\burl\s*:\s*['"]([^'"]+)['"]""")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""")
FETCHING_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "poster", "data", "action"}


class _RenderedLinks(HTMLParser):
    """Every URL a rendered page fetches or links to: URL attributes and CSS ``url()``."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if name in FETCHING_ATTRIBUTES:
                self.urls.update(part.split()[0] for part in value.split(",") if part.strip())
            elif name == "style":
                self.urls.update(_CSS_URL.findall(value))


class _References(HTMLParser):
    """Every URL the page makes a browser fetch: src/href attributes and the spec URL."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls.extend(_SCRIPT_URL.findall(data))


def _docs_references(server: LiveServer) -> list[str]:
    page = httpx.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parser = _References()
    parser.feed(page.text)
    assert parser.urls, "the page references no asset"
    return parser.urls


def test_docs_reference_only_local_assets_that_answer_with_their_type(
    server: LiveServer,
) -> None:
    references = _docs_references(server)
    for reference in references:
        parts = urlsplit(reference)
        assert not parts.scheme and not parts.netloc, f"{reference} is not served by us"
    fetched = {urlsplit(reference).path for reference in references}
    assert "/openapi.json" in fetched
    assert any(path.endswith(".js") for path in fetched)
    assert any(path.endswith(".css") for path in fetched)
    for path in fetched:
        response = httpx.get(urljoin(f"{server.url}/docs", path), timeout=10)
        assert response.status_code == 200, path
        suffix = Path(path).suffix
        content_type = response.headers["content-type"].split(";")[0]
        assert content_type in CONTENT_TYPES[suffix], f"{path}: {content_type}"
        assert response.content, path


def test_docs_are_served_under_api_too(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/api/docs", timeout=10)
    assert response.status_code == 200
    assert "swagger-ui" in response.text


def test_openapi_document_is_valid_and_lists_the_contract(server: LiveServer) -> None:
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.")
    validator = (
        definitions.OPENAPI_31_VALIDATOR
        if document["openapi"].startswith("3.1")
        else definitions.OPENAPI_30_VALIDATOR
    )
    try:
        validator.validate(document)
    except ValidationError as error:
        pytest.fail(f"/openapi.json is not valid OpenAPI {document['openapi']}: {error.message}")
    assert set(document["paths"]) >= CONTRACT_PATHS, CONTRACT_PATHS - set(document["paths"])
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    duplicates = sorted({oid for oid in operation_ids if operation_ids.count(oid) > 1})
    assert not duplicates, f"operationIds must be unique (Swagger UI links by them): {duplicates}"


def test_openapi_declares_bearer_auth_so_try_it_out_can_authenticate(
    server: LiveServer,
) -> None:
    """Swagger UI shows its Authorize button only for declared security schemes; without
    one, every "Try it out" request goes without a key and answers 401."""
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    schemes = document.get("components", {}).get("securitySchemes", {})
    bearer = [
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    ]
    assert bearer, f"no HTTP bearer security scheme in components.securitySchemes: {schemes}"
    operation = document["paths"]["/call/{call_id}"]["get"]
    requirements = operation.get("security", document.get("security", []))
    assert any(set(requirement) & set(bearer) for requirement in requirements), requirements


def _chromium() -> Path:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.fail(
            "Chromium is needed to check that /docs renders in a real browser: "
            "apt-get install -y chromium (scripts/test.sh installs it)",
            pytrace=False,
        )
    return CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or "")


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_docs_render_in_a_headless_browser_without_network(
    server: LiveServer, tmp_path: Path
) -> None:
    """Chromium with every host but ours unresolvable renders the operations; the page
    shows no error and points at no other host."""
    browser = _chromium()
    origin = f"http://{DOCS_HOST}:{server.port}"
    result = subprocess.run(
        [
            str(browser),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={tmp_path / 'chromium'}",
            f"--host-resolver-rules=MAP {DOCS_HOST} 127.0.0.1, MAP * ~NOTFOUND",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{origin}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Unable to render this definition" not in dom, _rendered_error(dom)
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "opblock" in dom, "no operation was rendered"
    assert "Get a call order with its attempts" in dom
    assert "/calls/phone-history" in dom
    links = _RenderedLinks()
    links.feed(dom)
    foreign = sorted(url for url in links.urls if urlsplit(url).hostname not in {DOCS_HOST, None})
    assert not foreign, f"the rendered page fetches or links other hosts: {foreign}"


def _rendered_error(dom: str) -> str:
    text = re.sub(r"<script.*?</script>", " ", dom, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", text)
    found = re.search(r"Unable to render this definition.{0,300}", text, re.DOTALL)
    return " ".join(found.group(0).split()) if found else ""
