"""The dashboard: server-rendered pages under ``/app`` (Starlette, Jinja2, one small
vanilla JS file, no build step, no CDN), reading through the same services and
repositories as the API."""

from openrevox.web.app import WebServices, create_web_app, install_dashboard

__all__ = ["WebServices", "create_web_app", "install_dashboard"]
