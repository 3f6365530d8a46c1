"""Compact states in real Chromium: the match page asks for them, decodes them with codec.js
and shows exactly what the Python decoder makes of the same frames."""

import json

from matches.titles import wire, wirecodec
from tests.support.browsercase import BrowserCase


class CompactBrowserTests(BrowserCase):
    NAME = "fe-wire"

    def test_the_match_page_plays_on_compact_frames_and_shows_what_they_decode_to(self):
        dee = self.person("Dee")
        received: list[str | bytes] = []
        dee.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(f)))
        self.quick_play(dee, "snake")
        self.wait_game(dee, "g.role === 'player' && g.state !== null && g.frames > 30")
        tick = self.game(dee, "g.tick")
        self.wait_game(dee, f"g.tick >= {tick} + 15")  # Snake: 10 Hz
        welcome = next(json.loads(f) for f in received if isinstance(f, str) and '"welcome"' in f)
        self.assertEqual(welcome["encoding"], "compact")
        binary = binary_of(received)
        self.assertGreater(len(binary), 10)
        self.assertEqual(binary[0][0], wirecodec.KEYFRAME)
        # From its keyframe on, the socket's states are all compact (a text state may come
        # before it: the tick the runner took the keyframe ask was not encoded yet).
        first = next(i for i, f in enumerate(received) if isinstance(f, bytes))
        after = [json.loads(f)["type"] for f in received[first:] if isinstance(f, str)]
        self.assertNotIn("state", after)
        # The page's state of a tick is what the Python decoder makes of the frames it got.
        for _ in range(20):
            tick, state = self.game(dee, "[g.tick, g.state]")
            decoder = wirecodec.Decoder(wire.Schema(welcome["wire"]))
            decoded = {m["tick"]: m["state"] for m in map(decoder.decode, binary_of(received))}
            if tick in decoded:
                self.assertEqual(state, decoded[tick])
                return
            dee.wait_for_timeout(100)
        self.fail(f"tick {tick} never among the frames Chromium received")


def binary_of(received: list[str | bytes]) -> list[bytes]:
    return [f for f in list(received) if isinstance(f, bytes)]
