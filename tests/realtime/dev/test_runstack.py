"""`make run` as an operator meets it: the real command with every service, 20 s idle, then
Ctrl-C. Lines come prefixed by service, the supervisor's once-a-second passes stay quiet,
the banner says where everything is, and everything stops within 5 s."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import psutil
from django.test import TransactionTestCase

from realtime.dev.management.commands.runstack import service_commands
from tests.support import stack

NAMES = list(service_commands(host="127.0.0.1", port=0))
IDLE_S = 20


class RunstackTests(TransactionTestCase):
    def test_twenty_idle_seconds_are_quiet_and_ctrl_c_stops_everything_within_5_s(self):
        port = stack.free_port()
        env = stack.service_env(DEBUG="1", FORCE_COLOR="1")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)], cwd=stack.ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(target=lambda: lines.extend(
            (time.monotonic(), raw.decode(errors="replace").rstrip())
            for raw in iter(proc.stdout.readline, b"")), daemon=True)  # fmt: skip
        reader.start()
        stack.wait_for(lambda: any("Arcade is running" in line for _, line in lines),
                       timeout=60, interval=0.2, what="the banner")  # fmt: skip
        # Up once both workers say ready (the tick worker's heartbeat runs by then).
        stack.wait_for(lambda: sum(" ready." in line for _, line in lines) >= 2, timeout=60,
                       interval=0.2, what="both workers ready")  # fmt: skip
        started = time.monotonic()
        time.sleep(IDLE_S)
        children = psutil.Process(proc.pid).children(recursive=True)
        self.assertGreaterEqual(len(children), len(NAMES))

        stopped_at = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal's Ctrl-C sends
        proc.wait(timeout=10)
        took = time.monotonic() - stopped_at
        reader.join(timeout=5)
        text = "\n".join(line for _, line in lines)
        self.assertLess(took, 5, text[-3000:])
        self.assertEqual([c.pid for c in children if c.is_running() and c.status() != "zombie"], [])

        banner = text[text.index("Arcade is running") :]
        for what in (f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/admin/",
                     f"http://127.0.0.1:{port}/metrics", "createsuperuser"):  # fmt: skip
            self.assertIn(what, banner)
        # Every service's line after its name, in its colour.
        plain = re.compile(r"\x1b\[\d+m")
        prefixed = [line for _, line in lines if line.startswith("\x1b[")]
        self.assertEqual({plain.sub("", line).split(" | ")[0].strip() for line in prefixed},
                         set(NAMES), text[-3000:])  # fmt: skip
        idle = [line for at, line in lines if started + 1 <= at <= started + IDLE_S]
        # Nothing repeats once a second: beat's sends and the worker's runs are at DEBUG.
        self.assertLessEqual(len(idle), 3, "\n".join(idle))
        self.assertNotIn("engine.supervise", text)
        self.assertLess(len(lines), 80, text)
