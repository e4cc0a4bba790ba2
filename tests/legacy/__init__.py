"""Helpers that run the legacy Revox SDK 0.1.1 (installed apart, in build/revox011)."""
