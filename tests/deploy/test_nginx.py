"""deploy/nginx.conf: Debian's nginx accepts it as the live tests render it (fixed upstreams
for compose's resolved `web`), and its timeouts give up a dead replica before players wait
long (tests/chaos/test_hosts.py loses a whole host behind it)."""

import re
import shutil

from django.test import SimpleTestCase

from realtime.dev.management.commands.runstack import daphne_options
from tests.support import proxy

DAPHNE_CHECKS_EVERY_S = 2  # Daphne's timeout_checker: a ping is sent up to 2 s late


def seconds(text: str, directive: str) -> float:
    value = re.search(rf"^\s*{directive} (\d+)(ms|s|m|h)?;", text, flags=re.MULTILINE)
    assert value, f"no {directive} in deploy/nginx.conf"
    return int(value[1]) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[value[2]]


def ws_location(text: str) -> str:
    return text[text.index("location /ws/ {") :].split("}", 1)[0]


class NginxConfigTests(SimpleTestCase):
    def test_the_shipped_file_with_fixed_upstreams_passes_nginx_t(self):
        _, directory = proxy.prepare("nginx-t", upstreams=["127.0.0.1:8001", "127.0.0.1:8002"])
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        text = (directory / "nginx.conf").read_text()
        shipped = re.search(r"server web:8000 resolve ([^;]*);", proxy.SHIPPED.read_text())[1]
        for port in (8001, 8002):
            self.assertIn(f"server 127.0.0.1:{port} {shipped};", text)
        self.assertNotIn("resolver", text)

    def test_match_sockets_go_to_replicas_that_one_failure_does_not_mark_down(self):
        # A websocket frees its peer only when it closes: a replica marked down after a
        # restart took one socket per fail_timeout (docs/operations.md, "Reconnect stampede").
        text = proxy.SHIPPED.read_text()
        self.assertIn("proxy_pass http://daphne_ws;", ws_location(text))
        block = text[text.index("upstream daphne_ws {") :].split("}", 1)[0]
        self.assertRegex(block, r"server web:8000 resolve max_fails=0;")

    def test_a_dead_replica_is_given_up_in_seconds_but_a_quiet_socket_is_kept(self):
        text = proxy.SHIPPED.read_text()
        read = seconds(ws_location(text), "proxy_read_timeout")
        ping = float(daphne_options()[daphne_options().index("--ping-interval") + 1])
        # Daphne pings a silent client, so a live replica is never quiet that long...
        self.assertGreater(read, ping + DAPHNE_CHECKS_EVERY_S)
        # ...and a dead one is noticed, and skipped when a client reconnects, within seconds.
        self.assertLessEqual(read, 10)
        self.assertLessEqual(seconds(text, "proxy_connect_timeout"), 2)
        self.assertLess(seconds(text, "keepalive_timeout"), read)
