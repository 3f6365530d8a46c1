"""Debian's nginx (`make nginx` installs it) in front of Daphnes, from the shipped
deploy/nginx.conf: only what is compose's (Docker's DNS, the `web` service name) is replaced,
so what runs through it (`make bench --daphnes N`, the tests) goes through the operator's file.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

NGINX = "/usr/sbin/nginx"
SHIPPED = Path(settings.BASE_DIR) / "deploy" / "nginx.conf"


def _one(pattern: str, replacement, text: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise ValueError(f"deploy/nginx.conf: {pattern!r} matched {count} times, not once")
    return new


def render(*, upstreams: list[str], directory: Path, listen: str | None = None,
           scale_everyone: bool = False) -> str:  # fmt: skip
    """deploy/nginx.conf with ``upstreams`` (host:port each) for compose's one resolved
    `web:8000` (keeping its parameters: max_fails, fail_timeout…), no resolver, and its
    scratch files under ``directory``; listening on ``listen`` (host:port) instead of port 80
    if given, for a test outside a network namespace of its own. ``scale_everyone``: the
    `ws_everyone` rate and burst times the upstreams, as the file says to with replicas."""
    text = SHIPPED.read_text()
    if scale_everyone:
        n = len(upstreams)
        text = _one(
            r"zone=ws_everyone:(\S+) rate=(\d+)r/s;",
            lambda m: f"zone=ws_everyone:{m[1]} rate={int(m[2]) * n}r/s;",
            text,
        )
        text = _one(
            r"limit_req zone=ws_everyone burst=(\d+)",
            lambda m: f"limit_req zone=ws_everyone burst={int(m[1]) * n}",
            text,
        )
    if listen is not None:
        text = _one(r"^(\s*)listen 80;$", rf"\1listen {listen};", text)
    # `resolve` needs nginx >= 1.27.3 and a DNS; these hosts have fixed addresses.
    text = _one(r"^\s*resolver [^;]*;\n", "", text)
    # Every upstream block (HTTP, match sockets) names the same replicas, each with its own
    # parameters.
    text, found = re.subn(
        r"^(\s*)server web:8000 resolve ([^;]*);$",
        lambda line: "\n".join(f"{line[1]}server {u} {line[2]};" for u in upstreams),
        text,
        flags=re.MULTILINE,
    )
    if not found:
        raise ValueError("deploy/nginx.conf: no `server web:8000 resolve …;` upstream line")
    scratch = "".join(f"    {kind}_temp_path {directory / kind};\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    return _one(r"^http \{\n", "http {\n" + scratch, text)


def prepare(name: str, *, upstreams: list[str], listen: str | None = None,
            scale_everyone: bool = False) -> tuple[list[str], Path]:  # fmt: skip
    """The rendered file in a directory of its own (the caller removes it), checked with
    `nginx -t`: the command that runs nginx in the foreground from it, and the directory."""
    if not Path(NGINX).exists():
        raise FileNotFoundError(f"no {NGINX}: `make nginx` installs Debian's")
    directory = Path(tempfile.mkdtemp(prefix=f"arcade-{name}-"))
    directory.chmod(0o755)  # the worker processes run as nobody
    conf = directory / "nginx.conf"
    conf.write_text(render(upstreams=upstreams, directory=directory, listen=listen,
                           scale_everyone=scale_everyone))  # fmt: skip
    argv = [NGINX, "-p", str(directory), "-c", str(conf), "-e", "stderr",
            "-g", f"daemon off; pid {directory / 'nginx.pid'};"]  # fmt: skip
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=20)
    if checked.returncode:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"nginx -t refused {conf}:\n{checked.stderr}")
    return argv, directory
