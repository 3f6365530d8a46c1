"""Real Redis deployments for tests: Debian's redis-server 7 with TLS (a throwaway CA made
here), an ACL user, and Sentinel sets (a primary, a replica, three sentinels).

Each server is a child process in its own process group with its files in a temporary
directory; ``stop()`` ends it. ``settings_for`` gives the REDIS_* settings that point a
process at one.
"""

import datetime
import ipaddress
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.test import override_settings

from tests.support.stack import free_port, wait_for

REDIS_SERVER = "/usr/bin/redis-server"
USER, PASSWORD = "arcade", "s3cret-arcade-pw"


def make_ca(directory: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def key_and_name(cn: str):
        return ec.generate_private_key(ec.SECP256R1()), x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        )

    def write(name: str, cert, key) -> tuple[str, str]:
        crt, pem = directory / f"{name}.crt", directory / f"{name}.key"
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
        return str(crt), str(pem)

    ca_key, ca_name = key_and_name("arcade test CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    paths = {"ca": write("ca", ca, ca_key)[0]}
    for role, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH),
                        ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):  # fmt: skip
        key, name = key_and_name(f"arcade test {role}")
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .sign(ca_key, hashes.SHA256()))  # fmt: skip
        paths[f"{role}_cert"], paths[f"{role}_key"] = write(role, cert, key)
    return paths


class Server:
    """One redis-server (or sentinel) process from a config file of its own."""

    def __init__(self, name: str, config: str, *, port: int, sentinel: bool = False,
                 host: str = "127.0.0.1", netns: str | None = None) -> None:  # fmt: skip
        self.name, self.port, self.host = name, port, host
        self.dir = Path(tempfile.mkdtemp(prefix=f"arcade-{name}-"))
        self.conf = self.dir / ("sentinel.conf" if sentinel else "redis.conf")
        self.conf.write_text(f"dir {self.dir}\nlogfile {self.dir / 'log'}\n{config}")
        argv = [REDIS_SERVER, str(self.conf), *(["--sentinel"] if sentinel else [])]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # fmt: skip

    def log(self) -> str:
        path = self.dir / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


ACL = f"user default off\nuser {USER} on >{PASSWORD} ~* &* +@all\n"
BASE = 'save ""\nappendonly yes\nappendfsync everysec\nmaxmemory-policy noeviction\n'


def tls_redis(ca: dict[str, str]) -> Server:
    """A TLS-only Redis that asks for a client certificate and knows only the ACL user."""
    port = free_port()
    server = Server("tls-redis", BASE + ACL + (
        f"bind 127.0.0.1\nport 0\ntls-port {port}\n"
        f"tls-cert-file {ca['server_cert']}\ntls-key-file {ca['server_key']}\n"
        f"tls-ca-cert-file {ca['ca']}\ntls-auth-clients yes\n"
    ), port=port)  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca["ca"],
                         ssl_certfile=ca["client_cert"], ssl_keyfile=ca["client_key"],
                         username=USER, password=PASSWORD, socket_connect_timeout=0.5)  # fmt: skip
    wait_for(lambda: _answers(client, server), timeout=10, interval=0.05, what="TLS Redis")
    server.url = f"rediss://{USER}:{PASSWORD}@127.0.0.1:{port}/0"
    server.settings = {"REDIS_URL": server.url, "REDIS_TLS_CA_FILE": ca["ca"],
                       "REDIS_TLS_CERT_FILE": ca["client_cert"],
                       "REDIS_TLS_KEY_FILE": ca["client_key"]}  # fmt: skip
    return server


def _answers(client: redis.Redis, server: Server) -> bool:
    if server.proc.poll() is not None:
        raise AssertionError(f"{server.name} exited:\n{server.log()[-2000:]}")
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class SentinelSet:
    """A primary, a replica and three sentinels watching them as MASTER, all with the ACL
    user; quick to fail over (down-after 1 s)."""

    MASTER = "arcade"

    def __init__(self, host: str = "127.0.0.1", netns: str | None = None) -> None:
        self.host = host
        ports = [free_port() for _ in range(5)]
        self.data_ports, self.sentinel_ports = ports[:2], ports[2:]
        auth = f"masteruser {USER}\nmasterauth {PASSWORD}\n"
        self.servers = [
            Server(f"redis-{i}", BASE + ACL + auth + f"bind {host}\nport {port}\n"
                   + (f"replicaof {host} {self.data_ports[0]}\n" if i else ""),
                   port=port, host=host, netns=netns)
            for i, port in enumerate(self.data_ports)
        ]  # fmt: skip
        self.sentinels = [
            Server(f"sentinel-{i}", (
                f"bind {host}\nport {port}\n"
                f"sentinel monitor {self.MASTER} {host} {self.data_ports[0]} 2\n"
                f"sentinel auth-user {self.MASTER} {USER}\n"
                f"sentinel auth-pass {self.MASTER} {PASSWORD}\n"
                f"sentinel down-after-milliseconds {self.MASTER} 1000\n"
                f"sentinel failover-timeout {self.MASTER} 5000\n"
                f"sentinel parallel-syncs {self.MASTER} 1\n"
            ), port=port, sentinel=True, host=host, netns=netns)
            for i, port in enumerate(self.sentinel_ports)
        ]  # fmt: skip
        self.settings = {
            "REDIS_URL": f"redis://{USER}:{PASSWORD}@{host}:{self.data_ports[0]}/0",
            "REDIS_SENTINELS": ",".join(f"{host}:{p}" for p in self.sentinel_ports),
            "REDIS_SENTINEL_MASTER": self.MASTER,
        }
        wait_for(self._ready, timeout=20, interval=0.1, what="the Sentinel set")

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host=self.host, port=port, username=USER, password=PASSWORD,
                           socket_connect_timeout=0.5, socket_timeout=1)  # fmt: skip

    def primary_port(self) -> int | None:
        """The port the sentinels name the primary at (by majority)."""
        votes = {}
        for port in self.sentinel_ports:
            try:
                addr = redis.Redis(host=self.host, port=port, socket_timeout=0.5).execute_command(
                    "SENTINEL", "get-master-addr-by-name", self.MASTER
                )
            except redis.RedisError:
                continue
            if addr:
                votes[int(addr[1])] = votes.get(int(addr[1]), 0) + 1
        return max(votes, key=votes.get) if votes else None

    def _ready(self) -> bool:
        for server in self.servers + self.sentinels:
            if server.proc.poll() is not None:
                raise AssertionError(f"{server.name} exited:\n{server.log()[-2000:]}")
        try:
            info = self.client(self.data_ports[1]).info("replication")
            sentinel = redis.Redis(host=self.host, port=self.sentinel_ports[0], socket_timeout=0.5)
            known = sentinel.execute_command("SENTINEL", "replicas", self.MASTER)
            sentinels = sentinel.execute_command("SENTINEL", "sentinels", self.MASTER)
        except redis.RedisError:
            return False
        return info.get("master_link_status") == "up" and len(known) == 1 and len(sentinels) == 2

    def server_at(self, port: int) -> Server:
        return next(s for s in self.servers if s.port == port)

    def stop(self) -> None:
        for server in self.sentinels + self.servers:
            server.stop()


def wait_until(predicate, timeout: float) -> float:
    """Seconds until `predicate()` held (raises past `timeout`)."""
    start = time.monotonic()
    wait_for(predicate, timeout=timeout, interval=0.05)
    return time.monotonic() - start


class using:
    """Point this process at another Redis (its REDIS_* settings as environment strings):
    settings, store's client and the caches built from them."""

    def __init__(self, env: dict[str, str]) -> None:
        sentinels = [(h, int(p)) for h, _, p in (item.rpartition(":") for item in
                     env.get("REDIS_SENTINELS", "").split(",") if item)]  # fmt: skip
        values = {"REDIS_TLS_CA_FILE": "", "REDIS_TLS_CERT_FILE": "", "REDIS_TLS_KEY_FILE": "",
                  "REDIS_SENTINEL_PASSWORD": "", **env, "REDIS_SENTINELS": sentinels}  # fmt: skip
        self.override = override_settings(**values)

    def __enter__(self):
        self.override.enable()
        _clear_caches()
        return self

    def __exit__(self, *exc) -> None:
        self.override.disable()
        _clear_caches()


def _clear_caches() -> None:
    from realtime import store
    from realtime.ops import health

    for cached in (store.client, store.scripts, health._redis):
        cached.cache_clear()
