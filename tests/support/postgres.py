"""A private PostgreSQL cluster for a test: initdb in a temporary directory, a free port, the
server's own binaries (Debian's /usr/lib/postgresql/<version>/bin; `make postgres` installs
them). As root the server runs as the ``postgres`` user (it refuses to run as root).
``stop()`` and ``start()`` take it down and bring it back on the same port and data;
``remove()`` stops it for good and deletes its files.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.support.stack import free_port, wait_for

USER = "arcade"


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/"
            "pg_ctl): run `make postgres` (apt-get install postgresql)"
        )
    return Path(found[-1]).parent


class Cluster:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="arcade-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self._as = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\n")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip

    def url(self, name: str) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{name}"

    def connect(self, name: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname=name,
                               autocommit=True, connect_timeout=2)  # fmt: skip

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30")

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, nothing is accepted until ``start()``."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")

    def up(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        wait_for(self.up, timeout=10, what="the private PostgreSQL")
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self._as, str(self.bin / "pg_ctl"), "stop", "-D", str(self.data),
                            "-m", "immediate", "-w"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)
