"""A real Prometheus (Debian's, `make prometheus`) against the live stack under load: every
dashboard panel's query and every alert rule's figure returns data without error, and the
jitter alert fires when a tick worker is starved."""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml
from asgiref.sync import async_to_sync
from django.test import TransactionTestCase
from websockets.exceptions import ConnectionClosed

from matches import services
from tests.support import stack
from tests.support.live import pong_players

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "arcade.json"
# A rule's figure: its expression without the final comparison with the threshold.
THRESHOLD = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*[0-9.e+-]+\s*$")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


class Prometheus:
    """`prometheus` on a free local port, scraping the given Daphne every second."""

    def __init__(self, daphne_port: int, rules: Path, workdir: Path) -> None:
        self.port = stack.free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [
                {"job_name": job, "metrics_path": path,
                 "static_configs": [{"targets": [f"127.0.0.1:{daphne_port}"]}]}
                for job, path in (("arcade", "/metrics"), ("arcade-daphne", "/metrics/process"))
            ],
        }  # fmt: skip
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        stack.wait_for(self._ready, timeout=30, interval=0.2, what="prometheus ready")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, "prometheus exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path: str, **params) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            reply = json.loads(response.read())
        assert reply["status"] == "success", reply
        return reply["data"]

    def query(self, expr: str) -> list:
        return self.api("query", query=expr)["result"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.log.close()


def panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel["targets"]]  # fmt: skip


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"]
            for rule in group["rules"]]  # fmt: skip


class PrometheusLiveTests(TransactionTestCase):
    def setUp(self):
        self.assertTrue(shutil.which("prometheus"), "Debian's prometheus: run `make prometheus`")
        stack.flush_redis()
        self.worker = stack.tick_worker("ticks1")
        self.services = [self.worker, stack.default_worker(), stack.beat()]
        stack.wait_ready(*self.services[:2])
        self.daphne = stack.daphne()
        self.services.append(self.daphne)
        tmp = Path(tempfile.mkdtemp(prefix="prometheus-", dir=stack.LOG_DIR))
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        # The real rules, with `for` shortened so that an alert fires within the test.
        rules = yaml.safe_load(RULES.read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                rule["for"] = "0s"
        (tmp / "alerts.yml").write_text(yaml.safe_dump(rules))
        self.prometheus = Prometheus(self.daphne.port, tmp / "alerts.yml", tmp)

    def tearDown(self):
        self.prometheus.stop()
        for service in reversed(self.services):
            service.stop()

    def test_the_shipped_config_and_rules_are_valid_for_promtool(self):
        result = promtool("check", "rules", str(RULES))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        result = promtool("check", "config", "--syntax-only", str(CONFIG))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_every_panel_and_rule_has_data_under_load_and_starving_a_worker_fires_jitter(self):
        # Load: bot matches on the tick worker, two players on the Daphne, lobby requests.
        for _ in range(6):
            match = services.match_create(title="pong", settings={"score_to": 21},
                                          fill_with_bots=True)  # fmt: skip
            services.match_start(match_id=match.pk, countdown_s=0)
        stop_players = threading.Event()
        players = threading.Thread(target=async_to_sync(self._players), args=(stop_players,))
        players.start()
        self.addCleanup(players.join)
        self.addCleanup(stop_players.set)
        inputs = "sum(rate(arcade_input_latency_seconds_count[1m])) > 0"
        stack.wait_for(lambda: self.prometheus.query(inputs), timeout=60, interval=1,
                       what="inputs through the Daphne")  # fmt: skip
        time.sleep(5)  # a few more scrapes for every rate window

        empty = []
        for title, expr in panel_queries():
            if not self.prometheus.query(expr):
                empty.append(f"panel {title!r}: {expr}")
        for rule in alert_rules():
            figure = THRESHOLD.sub("", rule["expr"])
            self.assertNotEqual(figure, rule["expr"], f"{rule['alert']}: no threshold at the end")
            if not self.prometheus.query(figure):
                empty.append(f"rule {rule['alert']}: {figure}")
        self.assertEqual(empty, [])
        loaded = self.prometheus.api("rules")["groups"][0]["rules"]
        self.assertEqual({r["name"] for r in loaded}, {r["alert"] for r in alert_rules()})
        for rule in loaded:
            self.assertEqual((rule["name"], rule["health"]), (rule["name"], "ok"), rule)

        # Starve the tick worker: stopped 150 ms of every 300, as a noisy neighbour would.
        deadline = time.monotonic() + 60
        fired = None
        while time.monotonic() < deadline and not fired:
            for _ in range(10):
                self.worker.signal(signal.SIGSTOP)
                time.sleep(0.15)
                self.worker.signal(signal.SIGCONT)
                time.sleep(0.15)
            fired = [a for a in self.prometheus.api("alerts")["alerts"]
                     if a["labels"]["alertname"] == "ArcadeTickJitterHigh"
                     and a["state"] == "firing"]  # fmt: skip
        self.assertTrue(fired, self.prometheus.api("alerts"))
        self.assertGreater(float(fired[0]["value"]), 0.005)

    async def _players(self, stop: threading.Event) -> None:
        ann, a, b = await pong_players(self.daphne.origin)
        i = 0
        while not stop.is_set():
            try:
                await a.send_input({"dir": 1 if i % 2 else -1})
            except ConnectionClosed:  # the match ended (a point of 21 was played out)
                break
            if i % 20 == 0:
                await asyncio.to_thread(ann.request, "GET", "/api/matches")
            i += 1
            await asyncio.sleep(0.1)
        await a.close()
        await b.close()
