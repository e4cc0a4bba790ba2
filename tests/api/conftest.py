"""The legacy-SDK tests need calls carried: they use the engine server's fixtures."""

from tests.dispatch.conftest import engine, engine_database_urls

__all__ = ["engine", "engine_database_urls"]
