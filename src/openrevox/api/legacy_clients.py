"""SDK 0.1.1, told apart by the headers every Stainless SDK sends, gets 0.1.1's behaviour.

0.1.1's ``campaigns.create`` launches the campaign (it has no launch method), and its
models know seven call statuses where openrevox has ten. A request is from a 0.1.x SDK
when its ``X-Stainless-Package-Version`` is ``0.1.*``; without that header, when its
``User-Agent`` is ``Revox/<language> 0.1.*`` (0.1.1 sends ``Revox/Python 0.1.1``). Any
other client, the SDK 0.5.0 and plain HTTP included, gets the current API (docs/api.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from starlette.requests import Request

# openrevox's order statuses that 0.1.1's ``Call.status`` enum lacks, onto its nearest
# value (the one documented table, docs/api.md); the seven others pass as they are.
STATUS_FOR_0_1: Mapping[str, str] = MappingProxyType(
    {
        "not_launched": "initializing",  # exists, not yet queued (0.1.1 never sees its own)
        "paused": "scheduled",  # waits, to be called later
        "post_processing": "calling",  # not finished yet: a 0.1.1 client keeps polling
    }
)

_PACKAGE_VERSION = b"x-stainless-package-version"
_USER_AGENT = b"user-agent"


def _is_0_1(version: bytes) -> bool:
    return version.strip().startswith(b"0.1.")


def is_sdk_0_1(request: Request) -> bool:
    """Whether the request comes from a 0.1.x SDK (see the module's docstring)."""
    agent: bytes | None = None
    for name, value in request.scope["headers"]:  # raw: no Headers object per request
        if name == _PACKAGE_VERSION:
            return _is_0_1(value)
        if name == _USER_AGENT:
            agent = value
    if agent is None or not agent.lower().startswith(b"revox/"):
        return False
    _, _, version = agent.partition(b" ")
    return _is_0_1(version)


def call_for(request: Request, call: dict[str, Any]) -> dict[str, Any]:
    """``call`` (a wire Call), its status mapped for a 0.1.x client."""
    shown = STATUS_FOR_0_1.get(call["status"])
    if shown is not None and is_sdk_0_1(request):
        call["status"] = shown
    return call


def status_filter_for(request: Request, wanted: Iterable[str]) -> tuple[str, ...]:
    """A status filter as the client sees statuses: a 0.1.x client asking for
    ``scheduled`` also gets the ``paused`` calls it is shown as ``scheduled``."""
    wanted = tuple(wanted)
    if not wanted or not is_sdk_0_1(request):
        return wanted
    hidden = (ours for ours, shown in STATUS_FOR_0_1.items() if shown in wanted)
    return (*wanted, *hidden)
