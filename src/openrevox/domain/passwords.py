"""Dashboard passwords, hashed with scrypt (memory-hard, in the standard library).

A hash reads ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``: the parameters travel
with it, so raising them later still verifies older hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LOG2_N = 15  # n = 32768, r = 8: 32 MiB and ~0.1 s per hash on one core here
BLOCK_SIZE = 8
PARALLELISM = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 10
MAX_LENGTH = 1024  # scrypt reads it all: no megabyte "passwords"
# A hash of nothing that is verified when the account is unknown, so that an unknown
# email costs the same time as a wrong password (no account probing by timing).
_DECOY_SALT = b"openrevox-decoy!"


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + (1 << 20),
        dklen=HASH_BYTES,
    )  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, log2_n, BLOCK_SIZE, PARALLELISM)
    return f"scrypt${log2_n}${BLOCK_SIZE}${PARALLELISM}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; None (no password set) matches nothing,
    after the same work as a real check."""
    if stored is None or len(password) > MAX_LENGTH:
        _derive(password[:MAX_LENGTH], _DECOY_SALT, LOG2_N, BLOCK_SIZE, PARALLELISM)
        return False
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, _unb64(salt), int(log2_n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(derived, _unb64(digest))
