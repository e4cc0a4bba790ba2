"""Secrets at rest (Calendly tokens), encrypted with Fernet (AES-128-CBC and
HMAC-SHA256, from ``cryptography``) under a key that is never stored in the database, so
that a copy of the database alone reveals no token.

The key: ``OPENREVOX_ENCRYPTION_KEY`` (one or more Fernet keys, comma-separated: the first
encrypts, every one decrypts, for rotation), else the file ``encryption.key`` in
``OPENREVOX_DATA_DIR``, made once with mode 0600. Processes on several machines sharing
one database must share the key: set the variable on each."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from openrevox.errors import OpenRevoxError
from openrevox.settings import Settings

KEY_FILE = "encryption.key"
_lock = threading.Lock()
_boxes: dict[tuple[str | None, str], SecretBox] = {}


class SecretBoxError(Exception):
    """A secret cannot be decrypted: it was sealed under another key."""


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretBoxError(
                "the secret was encrypted under another key (OPENREVOX_ENCRYPTION_KEY or "
                "the data directory's encryption.key differs)"
            ) from None


def _key_file(data_dir: Path) -> bytes:
    """The data directory's key, made on first use (0600, never overwritten)."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as file:
        file.write(key + b"\n")
    return key


def secret_box(settings: Settings) -> SecretBox:
    """The deployment's box (one per key source and process)."""
    source = (settings.encryption_key, str(settings.data_dir))
    with _lock:
        box = _boxes.get(source)
        if box is None:
            if settings.encryption_key:
                keys = [k.strip().encode() for k in settings.encryption_key.split(",")]
            else:
                keys = [_key_file(settings.data_dir)]
            try:
                box = SecretBox([key for key in keys if key])
            except ValueError:  # the server's configuration: a 500 that says what to fix
                raise OpenRevoxError(
                    "OPENREVOX_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded "
                    "bytes each, comma-separated), e.g. from "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None
            _boxes[source] = box
    return box
