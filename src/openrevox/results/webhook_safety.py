"""Webhook targets may not be private, loopback or link-local addresses (SSRF), unless
the operator admits their host in OPENREVOX_WEBHOOK_ALLOW_HOSTS."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str, allow_hosts: tuple[str, ...]) -> str | None:
    """A reason to refuse ``url`` from its text alone (scheme, literal address), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the URL must be http:// or https:// with a host"
    host = parts.hostname.lower()
    if host in allow_hosts:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"'{host}' is a loopback host (admit it with OPENREVOX_WEBHOOK_ALLOW_HOSTS)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if _forbidden(address):
        return (
            f"{host} is a private, loopback or link-local address"
            " (admit it with OPENREVOX_WEBHOOK_ALLOW_HOSTS)"
        )
    return None


async def check_resolved(url: str, allow_hosts: tuple[str, ...]) -> str | None:
    """At delivery: every address the host resolves to must be public (DNS rebinding)."""
    reason = check_url(url, allow_hosts)
    if reason:
        return reason
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in allow_hosts:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"cannot resolve {host}: {error}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _forbidden(address):
            return f"{host} resolves to {address}, a private, loopback or link-local address"
    return None
