"""Fuzzing the socket's frames: every frame gets a documented error code or its documented
answer, never an exception; a refused input never reaches the match.

Most frames go straight to what the consumer runs on them (``protocol.parse``, the title's
``validate_input``, the encoders of the answer or error frame), in process; a sample goes
through the real consumer (``MatchConsumer`` over Channels' communicator, real Redis), a
player's socket and a spectator's, where each frame's replies are compared with what the
in-process answer predicts and the match's pending inputs are counted after it.
"""

import copy
import json
import math

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import SimpleTestCase, TransactionTestCase, override_settings
from hypothesis import given
from hypothesis import strategies as st

from matches import services
from matches.models import Match
from matches.titles import TITLES, GameError
from realtime import protocol, store
from realtime.protocol import ProtocolError
from tests.fuzz import budget
from tests.fuzz.strategies import (
    MESSAGE_FIELDS,
    TITLE_INPUTS,
    documented_socket_errors,
    frames,
    mutants,
    seeds,
    title_input,
)
from tests.support.sockets import begin, session_for, socket
from tests.support.stack import flush_redis

CODES = documented_socket_errors()
BARRIER = -0.123456789  # the t of the ping that follows each frame on the socket
SOCKET_SHARE = 0.01  # of FUZZ_FRAMES, through the real consumer (at least a few hundred)


# What the fuzzer found (each one closed the socket with 1011), and the answer now.
FOUND = {
    # orjson encodes 64-bit integers at most: the pong, then the error's ref, raised.
    '{"type":"ping","t":18446744073709551616}': ("pong",),
    '{"type":"input","seq":18446744073709551616,"input":{}}': ("error", "bad_message"),
    # math.isfinite and float() overflow on an integer past the float range.
    '{"type":"ping","t":1' + "0" * 400 + "}": ("error", "bad_message"),
    '{"type":"input","seq":1,"input":{"aim":1' + "0" * 400 + "}}": ("error", "bad_input"),
    # orjson refuses a lone surrogate: the unknown type echoed in the error's ref, raised.
    '{"type":"\\ud800"}': ("error", "unknown_type"),
}


class Finding(AssertionError):
    pass


def _refusal(code: str, reason: str, ref: object) -> tuple[str, str]:
    if code not in CODES:
        raise Finding(f"undocumented error code {code!r} ({reason})")
    if not isinstance(reason, str) or not reason:
        raise Finding(f"{code} without a reason")
    frame = protocol.error(code, reason, ref)  # the consumer sends exactly this
    if orjson.loads(frame)["code"] != code:
        raise Finding(f"the error frame does not carry {code}")
    return ("error", code)


class Oracle:
    """What the consumer answers a frame, from the code it runs on it (without Redis):
    ``("error", code)``, ``("ack",)``, ``("pong",)``, ``("silent",)`` or ``("leave",)``.
    Raises ``Finding`` for anything else (any other exception escapes as it is)."""

    def __init__(self) -> None:
        self.max_bytes = settings.GATEWAY_MAX_MESSAGE_BYTES
        # A running state of each title, for the inputs it accepts (the tick worker applies them).
        self.states = {}
        for name, title in TITLES.items():
            players = max(2, title.min_players)
            self.states[name] = title.initial_state(players=players, seed=7, settings={})

    def answer(self, text: str | None, *, titles=None, role: str = "player") -> tuple:
        try:
            message = protocol.parse(text, max_bytes=self.max_bytes)
        except ProtocolError as exc:
            return _refusal(exc.code, exc.reason, exc.ref)
        kind = message["type"]
        required, optional = MESSAGE_FIELDS[kind]
        if not set(required) <= set(message) - {"type"} <= set(required) | set(optional):
            raise Finding(f"parse passed {sorted(message)} for {kind}")
        if kind == "ping":
            protocol.encode("pong", t=message["t"], server_ms=1)
            return ("pong",)
        if kind == "pong":
            return _refusal("unexpected_pong", "no ping with this id is pending", "pong")
        if kind == "resync":  # the sockets fuzzed here are v1 ones
            return _refusal("not_compact", "resync is for compact sockets", "resync")
        if role != "player":
            return _refusal("not_a_player", "spectators cannot", message.get("seq", kind))
        if kind == "leave":
            return ("leave",)
        # Accepted if a title takes it (the seat's title decides), else the first refusal.
        outcomes = [self._input(name, message) for name in titles or TITLES]
        return next((o for o in outcomes if o[0] != "error"), outcomes[0])

    def _input(self, name: str, message: dict) -> tuple:
        title, seq = TITLES[name], message["seq"]
        try:
            payload = title.validate_input(message["input"])
        except GameError as exc:
            return _refusal(exc.code, exc.reason, seq)
        stored = protocol.dumps(payload)  # what the gateway queues
        if title.validate_input(json.loads(stored)) != payload:
            raise Finding(f"{name}: validating {stored} again changes it")
        state = copy.deepcopy(self.states[name])
        title.apply_input(state, 0, json.loads(stored))
        title.step(state)
        protocol.state(tick=state["tick"], snapshot=title.snapshot(state))
        if message.get("ack"):
            protocol.encode("ack", seq=seq, tick=1)
            return ("ack",)
        return ("silent",)


class DocumentedSchemaTests(SimpleTestCase):
    def test_the_strategies_know_every_message_type_and_every_title(self):
        self.assertEqual(set(MESSAGE_FIELDS), set(protocol.SCHEMAS))
        for kind, schema in protocol.SCHEMAS.items():
            required, optional = MESSAGE_FIELDS[kind]
            self.assertEqual((set(required), set(optional)),
                             (set(schema.required), set(schema.optional)), kind)  # fmt: skip
        self.assertEqual(set(TITLE_INPUTS), set(TITLES))

    @given(st.data())
    @budget.examples(300)
    def test_every_input_a_title_s_readme_documents_is_accepted_as_it_is(self, data):
        for name, title in TITLES.items():
            payload = data.draw(title_input(name, strict=True))
            normal = title.validate_input(payload)
            self.assertEqual(title.validate_input(normal), normal)

    def test_the_documented_error_codes_are_read_from_protocol_md(self):
        self.assertLessEqual({"bad_json", "bad_message", "too_large", "bad_input"}, CODES)


class InProcessFrameTests(SimpleTestCase):
    def test_every_frame_gets_a_documented_answer_or_error_code(self):
        tally, oracle = budget.Tally("frames (in process)"), Oracle()
        per = 1 + budget.MUTANTS_PER_FRAME
        outcomes: dict[str, int] = {}

        @given(frames(), seeds)
        @budget.examples(math.ceil(budget.FRAMES * (1 - SOCKET_SHARE) / per))
        def run(frame, rng):
            for text in [frame, *mutants(frame, rng, budget.MUTANTS_PER_FRAME)]:
                tally.cases += 1
                try:
                    outcome = oracle.answer(text)
                except Exception as exc:
                    tally.fail(text, f"{type(exc).__name__}: {exc}")
                    raise
                outcomes[outcome[-1]] = outcomes.get(outcome[-1], 0) + 1

        try:
            run()
        finally:
            top = dict(sorted(outcomes.items(), key=lambda kv: -kv[1])[:12])
            tally.record(outcomes=top)
        self.assertEqual(tally.failures, 0)
        # The strategies reach past the parser: accepted inputs and the titles' own refusals.
        self.assertGreater(outcomes.get("silent", 0) + outcomes.get("ack", 0), 0)
        self.assertGreater(outcomes.get("bad_input", 0), 0)

    def test_regressions_found_by_the_fuzzer_are_refused_with_an_error_frame(self):
        oracle = Oracle()
        for text, expected in FOUND.items():
            with self.subTest(text[:60]):
                self.assertEqual(oracle.answer(text, titles=["arena"]), expected)


@override_settings(SPECTATOR_DELAY_S=0, GATEWAY_RATE_PER_S=1e9, GATEWAY_RATE_BURST=1e9)
class ConsumerFrameTests(TransactionTestCase):
    """A running Pong match (no runner steps it), ann in slot 0 and a spectator."""

    def setUp(self):
        flush_redis()
        self.ann, self.ann_cookie = session_for("ann")
        self.bob, _ = session_for("bob")
        match = services.match_create(title="pong")
        for player in (self.ann, self.bob):
            services.match_join(match_id=match.pk, player=player)
        self.match = begin(match)
        self.inputs = store.key(self.match.pk, "inputs")

    def sample(self, count: int) -> list[str | None]:
        """The socket's share of the frames, drawn as the in-process test draws them."""
        drawn: list[str | None] = []

        @given(frames(), seeds)
        @budget.examples(max(1, count // 4))
        def draw(frame, rng):
            drawn.extend([frame, *mutants(frame, rng, 3)])

        draw()
        return drawn[:count]

    def rows(self) -> tuple:
        match = Match.objects.get(pk=self.match.pk)
        seats = match.participations.order_by("slot")
        seats = list(seats.values_list("slot", "player_id", "left_at", "result"))
        return match.status, match.ended_at, seats

    async def test_the_real_consumer_answers_a_sample_as_predicted_and_queues_only_accepted_inputs(
        self,
    ):
        target = max(400, math.ceil(budget.FRAMES * SOCKET_SHARE))
        # More than the share: the valid leaves among them are not sent.
        frames_ = await sync_to_async(self.sample)(target + target // 10)
        before = await sync_to_async(self.rows)()
        state_before = store.client().hgetall(store.key(self.match.pk, "state"))
        oracle, tally = Oracle(), budget.Tally("frames (real consumer)")
        sockets = {}
        try:
            for role, cookie in (("player", self.ann_cookie), ("spectator", None)):
                comm = sockets[role] = socket(self.match.public_id, cookie=cookie)
                connected, _ = await comm.connect()
                self.assertTrue(connected)
                await comm.receive_from(5)  # welcome
                await comm.receive_from(5)  # the snapshot
            store.client().delete(self.inputs)  # the player's presence, queued by the connect
            for index, text in enumerate(frames_):
                if tally.cases >= target:
                    break
                role = "spectator" if index % 5 == 4 else "player"
                try:
                    expected = oracle.answer(text, titles=["pong"], role=role)
                except Exception as exc:  # still sent: what does the consumer make of it?
                    tally.fail(text, f"in process: {type(exc).__name__}: {exc}")
                    expected = ("crash",)
                if expected == ("leave",):
                    continue  # a valid leave forfeits the seat: tests/realtime/gateway has it
                tally.cases += 1
                why = await self.exchange(sockets[role], text, expected)
                if why:
                    tally.fail(text, why)
        finally:
            tally.record()
            for comm in sockets.values():
                await comm.disconnect()
        self.assertEqual(tally.failures, 0, tally.examples)
        self.assertEqual(tally.cases, target)
        self.assertEqual(await sync_to_async(self.rows)(), before)
        self.assertEqual(store.client().hgetall(store.key(self.match.pk, "state")), state_before)

    async def test_the_real_consumer_answers_what_the_fuzzer_found_with_an_error_frame(self):
        comm = socket(self.match.public_id, cookie=self.ann_cookie)
        try:
            self.assertTrue((await comm.connect())[0])
            await comm.receive_from(5)  # welcome
            await comm.receive_from(5)  # the snapshot
            store.client().delete(self.inputs)
            pong_found = '{"type":"ping","t":18446744073709551616}'
            self.assertIsNone(await self.exchange(comm, pong_found, ("pong",)))
            for text, expected in FOUND.items():
                if text != pong_found:  # Pong's input has no aim: its own bad_input
                    with self.subTest(text[:60]):
                        self.assertIsNone(await self.exchange(comm, text, expected))
        finally:
            await comm.disconnect()

    async def exchange(self, comm, text: str | None, expected: tuple) -> str | None:
        """Send one frame, then a ping as a barrier: the replies before its pong are the
        frame's. None when they, and the queued inputs, are what ``expected`` says."""
        # send_input, not send_to: the communicator's helper refuses an empty text frame.
        frame = {"bytes": b"\x00\x01"} if text is None else {"text": text}
        await comm.send_input({"type": "websocket.receive", **frame})
        await comm.send_to(text_data=json.dumps({"type": "ping", "t": BARRIER}))
        replies = []
        while True:
            out = await comm.receive_output(5)
            if out["type"] == "websocket.close":
                return f"closed {out.get('code')} after {replies}"
            reply = json.loads(out["text"])
            if reply.get("type") == "pong" and reply.get("t") == BARRIER:
                break
            replies.append(reply)
        kinds = [(r["type"], r["code"]) if r["type"] == "error" else (r["type"],) for r in replies]
        want = [] if expected == ("silent",) else [expected]
        if kinds != want:
            return f"replies {kinds}, expected {want}"
        queued = store.client().llen(self.inputs)
        accepted = expected in (("ack",), ("silent",))
        if queued != int(accepted):
            return f"{queued} inputs queued after a frame answered {expected}"
        if queued:
            store.client().delete(self.inputs)
        return None
