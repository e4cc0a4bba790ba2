"""What the dashboard needs from the server it is mounted in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.requests import Request

from openrevox.domain.clock import Clock
from openrevox.results.recording_links import RecordingSigner
from openrevox.settings import Settings
from openrevox.store.db import Database


class WebServices(Protocol):
    """The app's shared services (the API's AppServices satisfies it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def recording_signer(self) -> RecordingSigner: ...


ServicesGetter = Callable[[], WebServices]


def web_services(request: Request) -> WebServices:
    getter: ServicesGetter = request.app.state.services_getter
    return getter()
