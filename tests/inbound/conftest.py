"""The inbound tests reuse the engine server (embedded worker, fast simulated network)."""

from tests.dispatch.conftest import caller, engine, engine_database_urls, engine_org

__all__ = ["caller", "engine", "engine_database_urls", "engine_org"]
