"""The browser's decoder (frontend/static/frontend/codec.js), run in Node on frames the Python
encoder made: every frame decodes to the v1 message, and a delta after a gap asks to resync."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from django.conf import settings
from hypothesis import given

from matches.titles import wire
from matches.titles.arena import TITLE as ARENA
from matches.titles.pong import TITLE as PONG
from matches.titles.snake import TITLE as SNAKE
from realtime import protocol
from tests.matches.titles.helpers import PROPERTY
from tests.matches.titles.test_wire import ANY_SCHEMA, encoded, histories, played

CODEC = Path(settings.BASE_DIR) / "frontend" / "static" / "frontend" / "codec.js"
NODE = shutil.which("node") or "/usr/bin/node"

CHECK = """
import { readFileSync } from "node:fs";
import { deepStrictEqual, ok } from "node:assert/strict";
import { StateDecoder, WireError } from "./codec.mjs";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
let frames = 0;
for (const c of cases) {
  const decoder = new StateDecoder(c.schema);
  c.frames.forEach((b64, i) => {
    const got = decoder.decode(Buffer.from(b64, "base64"));
    deepStrictEqual(got, c.messages[i], `${c.name} frame ${i}`);
    frames += 1;
  });
  if (c.gap) {
    const fresh = new StateDecoder(c.schema);
    fresh.decode(Buffer.from(c.frames[0], "base64"));
    let err = null;
    try { fresh.decode(Buffer.from(c.frames[2], "base64")); } catch (e) { err = e; }
    ok(err instanceof WireError && err.resync, `${c.name}: a gap must ask to resync`);
  }
}
console.log(JSON.stringify({ frames }));
"""


def case(name: str, schema_json: dict, messages: list[dict], every: int) -> dict:
    """``gap``: frame 2 is a delta, so decoding it right after frame 0 must ask to resync."""
    schema = wire.Schema(schema_json)
    frames = encoded(schema, messages, every)
    return {
        "name": name, "schema": schema_json, "messages": messages,
        "gap": len(frames) > 2 and not frames[2][1],
        "frames": [base64.b64encode(f).decode() for f, _ in frames],
    }  # fmt: skip


class BrowserCodecTest(unittest.TestCase):
    def test_codec_js_decodes_python_frames_of_every_title_to_the_v1_messages(self):
        cases = []
        for title, players, ticks in ((PONG, 2, 150), (SNAKE, 8, 150), (ARENA, 24, 90)):
            messages = played(title, players=players, seed=11, ticks=ticks, paused_every=13)
            schema_json = protocol.state_schema_of(title.wire_schema)
            cases.append(case(title.name, schema_json, messages, 25))
        generic: list[list[dict]] = []

        @PROPERTY
        @given(messages=histories())
        def collect(messages):
            generic.append(messages)

        collect()
        for n, messages in enumerate(generic):
            cases.append(case(f"generic {n}", ANY_SCHEMA, messages, 3))
        frames = sum(len(c["frames"]) for c in cases)
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(CODEC, Path(tmp) / "codec.mjs")
            (Path(tmp) / "check.mjs").write_text(CHECK)
            (Path(tmp) / "cases.json").write_text(json.dumps(cases))
            done = subprocess.run(
                [NODE, "check.mjs", "cases.json"], cwd=tmp, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual(json.loads(done.stdout), {"frames": frames})
