"""openrevox: a self-hostable AI phone-calling platform that speaks the Revox REST API."""

__version__ = "0.1.0"
