"""The deployment files: docker-compose.yml against the Compose specification's schema (no
Docker engine on these machines), and the Dockerfile and compose commands agreeing with the
settings the services run under."""

import subprocess
import sys
from pathlib import Path

import yaml
from django.test import SimpleTestCase

from realtime.dev.management.commands.runstack import daphne_options

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class ComposeFileTests(SimpleTestCase):
    def test_the_compose_file_is_valid_against_the_compose_schema(self):
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
             str(ROOT / "docker-compose.yml")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_the_schema_check_catches_a_broken_file(self):
        # Proof that the check above can fail: a key the specification does not have.
        broken = compose()
        broken["services"]["web"]["commandd"] = broken["services"]["web"].pop("command")
        path = ROOT / "var" / "broken-compose.yml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(broken))
        self.addCleanup(path.unlink)
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
             str(path)], capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("commandd", result.stdout)

    def test_daphne_runs_behind_nginx_with_proxy_headers_and_the_size_cap(self):
        command = compose()["services"]["web"]["command"]
        self.assertIn("--proxy-headers", command)
        options = daphne_options()
        at = command.index(options[0])
        self.assertEqual(command[at : at + len(options)], options)

    def test_every_service_that_is_not_web_has_its_own_health_check_or_none(self):
        # The image's HEALTHCHECK probes Daphne's port: inherited by a worker it would fail.
        for name, service in compose()["services"].items():
            if service.get("image", "arcade:latest") == "arcade:latest" and name != "web":
                self.assertIn("healthcheck", service, name)


class DockerfileTests(SimpleTestCase):
    def test_multi_stage_non_root_with_a_health_check(self):
        lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
        stages = [line for line in lines if line.startswith("FROM ")]
        self.assertGreaterEqual(len(stages), 2)
        final = lines[lines.index(stages[-1]) :]
        users = [line.split()[1] for line in final if line.startswith("USER ")]
        self.assertTrue(users and users[-1] not in ("root", "0"), users)
        self.assertTrue(any(line.startswith("HEALTHCHECK ") for line in final))
        self.assertTrue(any(line.startswith("COPY --from=build") for line in final))

    def test_the_image_installs_the_runtime_file_only(self):
        text = (ROOT / "Dockerfile").read_text()
        self.assertIn("requirements.txt", text)
        self.assertNotIn("requirements-dev.txt", text)

    def test_the_image_serves_daphne_with_the_size_cap(self):
        text = (ROOT / "Dockerfile").read_text()
        cmd = text.split("\nCMD ", 1)[1]
        for option in daphne_options():
            self.assertIn(f'"{option}"', cmd)
