"""Hosts on one machine: network namespaces joined by veth pairs, made and removed by a test.

Every host is a namespace with one link into a switch (a bridge in a namespace of its own) on
a private /24; the root namespace gets a link into the switch too, so the test process reaches
every host (and the hosts reach a forwarder it runs, e.g. for PostgreSQL on 127.0.0.1). Hosts
may also get point-to-point links of their own (players behind the proxy only). Nothing on the
machine's own interfaces or routes is touched: the only address added outside the namespaces is
the root end of the switch link, on a subnet the constructor checks nothing else uses.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
PREFIX = "arcade-hosts-"
ROOT_LINK = "arcadehosts0"  # the root end of the switch link (interface names: 15 bytes)


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def in_netns(netns: str | None, argv: list[str]) -> list[str]:
    """``argv`` run inside ``netns`` (as is without one)."""
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def enter(netns: str) -> None:
    """Move the calling thread (only it, and the threads it starts later) into ``netns``: the
    sockets it opens from now on live there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {netns}")
    finally:
        os.close(fd)


def pids(netns: str) -> list[int]:
    return [int(p) for p in ip("netns", "pids", netns, check=False).split()]


class Network:
    """``hosts`` name -> last byte of its address on ``subnet`` (a /24 given as "a.b.c"),
    and ``isolated`` hosts off the switch (give them a ``link``); ``close()`` ends every
    process left in them and removes every namespace and link made."""

    def __init__(self, subnet: str, hosts: dict[str, int], isolated: tuple[str, ...] = ()) -> None:
        self.subnet = subnet
        self.made: list[str] = []
        remove_leftovers()
        if subnet + "." in ip("-4", "route", "show"):
            raise RuntimeError(f"{subnet}.0/24 is already routed on this machine")
        try:
            self.switch = self._namespace("switch")
            ip("link", "add", "br0", "type", "bridge", netns=self.switch)
            ip("link", "set", "br0", "up", netns=self.switch)
            ip("link", "add", ROOT_LINK, "type", "veth", "peer", "name", "root",
               "netns", self.switch)  # fmt: skip
            self._plug("root")
            self.root_address = self.address(254)
            ip("addr", "add", f"{self.root_address}/24", "dev", ROOT_LINK)
            ip("link", "set", ROOT_LINK, "up")
            self.hosts = {name: self._host(name, last) for name, last in hosts.items()}
            for name in isolated:
                self._namespace(name)
        except BaseException:
            self.close()
            raise

    def address(self, last: int) -> str:
        return f"{self.subnet}.{last}"

    def netns(self, host: str) -> str:
        return PREFIX + host

    def _namespace(self, name: str) -> str:
        netns = PREFIX + name
        ip("netns", "add", netns)
        self.made.append(netns)
        ip("link", "set", "lo", "up", netns=netns)
        return netns

    def _plug(self, port: str) -> None:
        ip("link", "set", port, "master", "br0", netns=self.switch)
        ip("link", "set", port, "up", netns=self.switch)

    def _host(self, name: str, last: int) -> str:
        netns = self._namespace(name)
        ip("link", "add", "eth0", "netns", netns, "type", "veth", "peer", "name", name,
           "netns", self.switch)  # fmt: skip
        self._plug(name)
        ip("addr", "add", f"{self.address(last)}/24", "dev", "eth0", netns=netns)
        ip("link", "set", "eth0", "up", netns=netns)
        return self.address(last)

    def link(self, a: str, b: str, subnet: str) -> tuple[str, str]:
        """A point-to-point link between hosts ``a`` (subnet.1) and ``b`` (subnet.2)."""
        ends = (f"{subnet}.1", f"{subnet}.2")
        ip("link", "add", "eth1", "netns", self.netns(a), "type", "veth", "peer", "name", "eth1",
           "netns", self.netns(b))  # fmt: skip
        for host, address in zip((a, b), ends, strict=True):
            ip("addr", "add", f"{address}/24", "dev", "eth1", netns=self.netns(host))
            ip("link", "set", "eth1", "up", netns=self.netns(host))
        return ends

    def lose(self, host: str) -> list[int]:
        """The host is gone: its link goes down first (nothing it sends gets out, not even a
        reset), then every process in it is SIGKILLed. The pids it had."""
        netns = self.netns(host)
        ip("link", "set", "eth0", "down", netns=netns)
        killed = pids(netns)
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def close(self) -> None:
        for netns in reversed(self.made):
            _empty(netns)
            ip("netns", "del", netns, check=False)
        self.made.clear()
        # The root end goes with its peer in the switch; this only covers a half-made switch.
        ip("link", "del", ROOT_LINK, check=False)


def _empty(netns: str, timeout: float = 5) -> None:
    for pid in pids(netns):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pids(netns) and time.monotonic() < deadline:
        time.sleep(0.05)


def remove_leftovers() -> None:
    """Namespaces of ours a killed test run could not remove (only this module makes them)."""
    run = Path("/run/netns")
    for path in sorted(run.glob(PREFIX + "*")) if run.exists() else ():
        _empty(path.name)
        ip("netns", "del", path.name, check=False)
    ip("link", "del", ROOT_LINK, check=False)
