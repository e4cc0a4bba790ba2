"""API keys shaped like Revox's: ``sk_live_...`` and ``sk_test_...``.

Only a SHA-256 of the secret is stored; the row is found by the key's first characters
and the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Mode = Literal["live", "test"]
MODES: tuple[Mode, ...] = ("live", "test")
LOOKUP_LENGTH = 16  # "sk_live_" + 8 random characters


@dataclass(frozen=True, slots=True)
class ParsedKey:
    mode: Mode
    lookup: str
    secret_hash: str


def generate_key(mode: Mode) -> str:
    return f"sk_{mode}_{secrets.token_urlsafe(30).replace('-', 'x').replace('_', 'y')}"


def hash_secret(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(key: str) -> ParsedKey | None:
    """The mode and lookup of a well-formed key, or None for anything else."""
    for mode in MODES:
        prefix = f"sk_{mode}_"
        if key.startswith(prefix) and len(key) >= len(prefix) + 16 and key.isascii():
            return ParsedKey(mode=mode, lookup=key[:LOOKUP_LENGTH], secret_hash=hash_secret(key))
    return None


def secrets_match(stored_hash: str, presented_hash: str) -> bool:
    return hmac.compare_digest(stored_hash.encode(), presented_hash.encode())
