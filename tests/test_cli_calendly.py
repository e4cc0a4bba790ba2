"""``openrevox calendly connect|list|delete`` run for real in subprocesses: the token is
stored encrypted (never in the database file in clear), under a key kept in the data
directory (0600) or given by OPENREVOX_ENCRYPTION_KEY."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.fernet import Fernet

from tests.test_cli import Cli, _env

TOKEN = "eyJraWQiOiJjYWxlbmRseS1jbGktdGVzdC10b2tlbi0wMTIzNDU2Nzg5"


def test_a_calendly_token_is_connected_listed_and_deleted_from_the_command_line(
    tmp_path: Path,
) -> None:
    database = tmp_path / "x.db"
    cli = Cli(_env(f"sqlite:///{database}", tmp_path))
    org = cli.json("orgs", "create", "Acme")["organization_id"]
    created = cli.json("calendly", "connect", "--token", TOKEN, "--org", org, "--name", "Sales")
    assert created["id"].startswith("calconn_") and created["organization_id"] == org
    assert created["name"] == "Sales" and created["token_hint"] == TOKEN[-4:]
    listing = cli.run("calendly", "list", "--org", org, "--json").stdout
    assert created["id"] in listing and TOKEN not in listing
    assert TOKEN.encode() not in database.read_bytes()
    key_file = tmp_path / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().strip() not in database.read_bytes()
    assert "deleted" in cli.run("calendly", "delete", created["id"], "--org", org).stdout
    gone = cli.run("calendly", "delete", created["id"], "--org", org, expect=1)
    assert "no Calendly connection" in gone.stderr
    refused = cli.run("calendly", "connect", "--token", "two words", expect=2)
    assert "printable characters without spaces" in refused.stderr


def test_an_encryption_key_from_the_environment_replaces_the_key_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    cli = Cli(_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, OPENREVOX_ENCRYPTION_KEY=key))
    cli.json("orgs", "create", "Acme")
    assert cli.json("calendly", "connect", "--token", TOKEN)["id"].startswith("calconn_")
    assert not (tmp_path / "encryption.key").exists()
    broken = Cli(_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, OPENREVOX_ENCRYPTION_KEY="x"))
    refused = broken.run("calendly", "connect", "--token", TOKEN, expect=1)
    assert "OPENREVOX_ENCRYPTION_KEY must be Fernet keys" in refused.stderr
    assert "Traceback" not in refused.stderr
