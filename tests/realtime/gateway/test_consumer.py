import asyncio
import json
from unittest import mock

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import TransactionTestCase, override_settings

from matches import services
from matches.models import Match, Participation
from realtime import figures, groups, store
from realtime.engine import supervisor
from realtime.engine.match import MatchRunner, Outcome
from realtime.gateway import relay, stats
from realtime.gateway.hub import hub
from tests.support.sockets import begin, receive, receive_until_close, session_for, socket
from tests.support.stack import flush_redis, free_port


@override_settings(SPECTATOR_DELAY_S=0)
class GatewayCase(TransactionTestCase):
    """Two seated players, ann (slot 0) and bob (slot 1), and a visitor without a seat.
    Spectators watch live here; DelayedSpectatorTests covers the delay."""

    def setUp(self):
        flush_redis()
        self.ann, self.ann_cookie = session_for("ann")
        self.bob, self.bob_cookie = session_for("bob")
        self.visitor, self.visitor_cookie = session_for("eve")
        self.match = services.match_create(title="pong")
        for player in (self.ann, self.bob):
            services.match_join(match_id=self.match.pk, player=player)
        self.public_id = self.match.public_id

    def start(self) -> MatchRunner:
        begin(self.match)
        runner = MatchRunner(self.match.pk)
        assert runner.acquire() is Outcome.CONTINUE
        return runner

    async def connect(self, cookie=None, **kwargs):
        comm = socket(self.public_id, cookie=cookie, **kwargs)
        connected, _ = await comm.connect()
        self.assertTrue(connected)
        welcome = await receive(comm)
        self.assertEqual(welcome["type"], "welcome", welcome)
        return comm, welcome

    async def send(self, comm, message) -> dict:
        await comm.send_to(text_data=message if isinstance(message, str) else json.dumps(message))
        return await receive(comm)

    def inputs(self) -> list[dict]:
        raw = store.client().lrange(store.key(self.match.pk, "inputs"), 0, -1)
        return [json.loads(item) for item in raw]


class WelcomeTests(GatewayCase):
    async def test_a_player_is_welcomed_into_their_slot_with_a_full_snapshot(self):
        await database_sync_to_async(self.start)()
        comm, welcome = await self.connect(self.bob_cookie)
        self.assertEqual((welcome["v"], welcome["role"], welcome["slot"]), (1, "player", 1))
        self.assertEqual((welcome["title"], welcome["tick_hz"], welcome["tick"]), ("pong", 30, 0))
        self.assertEqual(welcome["settings"]["score_to"], 11)
        self.assertEqual(welcome["ping_interval_ms"], 2000)
        snapshot = await receive(comm)
        self.assertEqual((snapshot["type"], snapshot["tick"]), ("state", 0))
        self.assertIn("paddles", snapshot["state"])
        await comm.disconnect()

    async def test_the_welcome_gives_the_runners_catch_up_of_late_inputs_in_ticks(self):
        await database_sync_to_async(self.start)()
        comm, welcome = await self.connect(self.ann_cookie)
        self.assertEqual(welcome["catch_up_ticks"], 8)  # 250 ms at 30 Hz
        await comm.disconnect()
        with override_settings(INPUT_CATCH_UP_MS=100):
            comm, welcome = await self.connect(self.ann_cookie)
        self.assertEqual(welcome["catch_up_ticks"], 3)
        await comm.disconnect()

    async def test_a_visitor_without_a_seat_is_welcomed_as_a_spectator(self):
        await database_sync_to_async(self.start)()
        for cookie in (self.visitor_cookie, None):
            comm, welcome = await self.connect(cookie)
            self.assertEqual((welcome["role"], welcome["slot"]), ("spectator", None))
            self.assertEqual((await receive(comm))["type"], "state")
            await comm.disconnect()

    async def test_before_the_match_runs_the_welcome_tells_the_status_and_countdown(self):
        comm, welcome = await self.connect(self.ann_cookie)
        self.assertEqual(welcome["status"], "countdown")
        self.assertIsNotNone(welcome["starts_at"])
        self.assertIsNone(welcome["tick"])
        self.assertEqual([p["name"] for p in welcome["players"]], ["ann", "bob"])
        self.assertTrue(await comm.receive_nothing(0.1))
        await comm.disconnect()

    async def test_an_unknown_match_is_closed_4404_after_an_error_frame(self):
        comm = socket("nosuchmatch", cookie=self.ann_cookie)
        connected, _ = await comm.connect()
        self.assertTrue(connected)
        error = await receive(comm)
        self.assertEqual((error["type"], error["code"]), ("error", "unknown_match"))
        self.assertEqual((await receive(comm))["code"], 4404)
        await comm.disconnect()

    async def test_a_finished_match_sends_its_result_then_closes_4410(self):
        runner = await database_sync_to_async(self.start)()
        store.push_presence(match_id=self.match.pk, slot=0, connected=False, at=1.0)
        self.assertIs(runner.advance(), Outcome.FINISHED)
        self.assertTrue(await database_sync_to_async(supervisor.finish)(self.match.pk))
        comm = socket(self.public_id, cookie=self.ann_cookie)
        await comm.connect()
        over = await receive(comm)
        self.assertEqual((over["type"], over["status"]), ("over", "finished"))
        self.assertEqual((over["result"]["winner"], over["result"]["forfeited"]), (1, [0]))
        self.assertEqual((await receive(comm))["code"], 4410)
        await comm.disconnect()

    async def test_a_foreign_origin_is_refused_at_the_handshake(self):
        comm = socket(self.public_id, cookie=self.ann_cookie, origin="http://evil.example")
        connected, _ = await comm.connect()
        self.assertFalse(connected)

    async def test_a_missing_origin_is_refused_at_the_handshake(self):
        comm = socket(self.public_id, cookie=self.ann_cookie, origin=None)
        connected, _ = await comm.connect()
        self.assertFalse(connected)


class RelayTests(GatewayCase):
    async def test_a_state_published_by_the_runner_is_relayed_verbatim(self):
        runner = await database_sync_to_async(self.start)()
        player, _ = await self.connect(self.ann_cookie)
        watcher, _ = await self.connect()
        for comm in (player, watcher):
            await receive(comm)  # the snapshot
        runner.advance()
        text = groups.snapshot_text(store.client().hget(store.key(self.match.pk, "state"),
                                                        "snapshot"))  # fmt: skip
        for comm in (player, watcher):
            self.assertEqual(await comm.receive_from(3), text)
            await comm.disconnect()

    async def test_the_final_result_is_relayed_when_the_supervisor_finishes_the_match(self):
        runner = await database_sync_to_async(self.start)()
        comm, _ = await self.connect()
        await receive(comm)
        store.push_presence(match_id=self.match.pk, slot=1, connected=False, at=1.0)
        self.assertIs(runner.advance(), Outcome.FINISHED)
        await database_sync_to_async(supervisor.finish)(self.match.pk)
        seen = await receive_until_close(comm)
        over = next(m for m in seen if m.get("type") == "over")
        self.assertEqual(over["result"]["winner"], 0)
        self.assertEqual(over["tick"], store.load_state(self.match.pk)["tick"])
        self.assertEqual(seen[-1]["code"], 4410)
        await comm.disconnect()

    async def test_an_over_published_while_the_hub_reconnected_is_not_lost(self):
        comm, _ = await self.connect(self.ann_cookie)

        def abort_unannounced():
            services.match_abort(match_id=self.match.pk, reason="staff")  # its `over` lost

        await database_sync_to_async(abort_unannounced)()
        self.assertTrue(await comm.receive_nothing(0.3))
        reconnects = hub().reconnects
        hub()._writer.transport.abort()  # the hub's Redis connection lost: it subscribes again
        seen = await receive_until_close(comm, timeout=10)
        self.assertEqual(hub().reconnects, reconnects + 1)
        self.assertEqual((seen[-2]["type"], seen[-2]["status"]), ("over", "aborted"))
        self.assertEqual(seen[-1]["code"], 4410)
        await comm.disconnect()

    async def test_an_abort_is_relayed_as_over_and_closes_4410(self):
        from realtime import groups

        comm, _ = await self.connect(self.ann_cookie)

        def abort():
            groups.match_over(services.match_abort(match_id=self.match.pk, reason="staff"))

        await database_sync_to_async(abort)()
        seen = await receive_until_close(comm)
        self.assertEqual((seen[-2]["type"], seen[-2]["status"]), ("over", "aborted"))
        self.assertEqual((seen[-2]["reason"], seen[-2]["result"]), ("staff", None))
        self.assertEqual(seen[-1]["code"], 4410)
        await comm.disconnect()


class DelayedSpectatorTests(GatewayCase):
    @override_settings(SPECTATOR_DELAY_S=0.5)
    async def test_a_spectator_sees_the_running_match_late_and_a_player_sees_it_live(self):
        runner = await database_sync_to_async(self.start)()
        player, _ = await self.connect(self.ann_cookie)
        watcher, welcome = await self.connect()
        self.assertEqual((welcome["role"], welcome["delay_s"]), ("spectator", 0.5))
        await receive(player)  # the live snapshot; the spectator's is held back
        self.assertTrue(await watcher.receive_nothing(0.2))
        runner.advance()
        text = groups.snapshot_text(store.client().hget(store.key(self.match.pk, "state"),
                                                        "snapshot"))  # fmt: skip
        self.assertEqual(await player.receive_from(1), text)
        self.assertTrue(await watcher.receive_nothing(0.2))
        await asyncio.sleep(0.4)
        runner.advance()  # a later tick releases what is due
        self.assertEqual(json.loads(await watcher.receive_from(1))["tick"], 0)
        self.assertEqual(await watcher.receive_from(1), text)
        for comm in (player, watcher):
            await comm.disconnect()

    @override_settings(SPECTATOR_DELAY_S=0.3)
    async def test_the_result_reaches_a_delayed_spectator_after_the_last_ticks(self):
        runner = await database_sync_to_async(self.start)()
        watcher, _ = await self.connect()
        runner.advance()
        store.push_presence(match_id=self.match.pk, slot=1, connected=False, at=1.0)
        self.assertIs(runner.advance(), Outcome.FINISHED)
        await database_sync_to_async(supervisor.finish)(self.match.pk)
        seen = await receive_until_close(watcher)
        kinds = [m.get("type") for m in seen[:-1]]
        self.assertEqual(kinds, ["state", "state", "state", "over"])
        self.assertEqual(seen[-1]["code"], 4410)
        await watcher.disconnect()

    @override_settings(SPECTATOR_DELAY_S=4)
    async def test_a_delayed_spectators_result_holds_up_no_other_match_of_this_daphne(self):
        # The hub's one reader hands `over` to the consumers; a spectator's waits out its
        # delay elsewhere, or every match here stalled with it (the hub then took its silent
        # Redis connection for dead and lost what was published meanwhile: make soak).
        runner = await database_sync_to_async(self.start)()

        def other_match():
            match = services.match_create(title="pong")
            for player in (self.ann, self.bob):
                services.match_join(match_id=match.pk, player=player)
            begin(match)
            other = MatchRunner(match.pk)
            assert other.acquire() is Outcome.CONTINUE
            return match, other

        match, other = await database_sync_to_async(other_match)()
        watcher, _ = await self.connect()
        player = socket(match.public_id, cookie=self.ann_cookie)
        self.assertTrue((await player.connect())[0])
        self.assertEqual((await receive(player))["type"], "welcome")
        self.assertEqual((await receive(player))["type"], "state")  # the snapshot
        runner.advance()
        store.push_presence(match_id=self.match.pk, slot=1, connected=False, at=1.0)
        self.assertIs(runner.advance(), Outcome.FINISHED)
        await database_sync_to_async(supervisor.finish)(self.match.pk)  # publishes `over`
        other.advance()  # published after that `over`
        state = await receive(player, timeout=2)  # well before the spectator's 4 s are up
        self.assertEqual((state["type"], state["tick"]), ("state", 1))
        seen = await receive_until_close(watcher, timeout=8)
        self.assertEqual([m.get("type") for m in seen[-2:-1]], ["over"])
        self.assertEqual(seen[-1]["code"], 4410)
        for comm in (player, watcher):
            await comm.disconnect()


class InputTests(GatewayCase):
    async def test_an_input_is_queued_in_redis_with_the_server_tick_and_its_seq(self):
        runner = await database_sync_to_async(self.start)()
        for _ in range(3):
            runner.advance()
        comm, _ = await self.connect(self.bob_cookie)
        await receive(comm)
        ack = await self.send(comm, {"type": "input", "v": 1, "seq": 7, "input": {"dir": -1},
                                     "ack": True})  # fmt: skip
        self.assertEqual(ack, {"type": "ack", "v": 1, "seq": 7, "tick": 3})
        self.assertEqual(self.inputs()[-1], {"slot": 1, "tick": 3, "seq": 7, "input": {"dir": -1}})
        runner.advance()
        self.assertEqual(runner.state["paddles"][1]["dir"], -1)
        stored = store.client().hget(store.key(self.match.pk, "state"), "snapshot")
        self.assertEqual(json.loads(groups.snapshot_text(stored))["acks"], [0, 7])
        self.assertEqual(store.load_state(self.match.pk)["acks"], [0, 7])
        await comm.disconnect()

    async def test_an_input_asking_for_a_tick_carries_it_to_the_runner_which_holds_it(self):
        runner = await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.bob_cookie)
        await receive(comm)
        ack = await self.send(comm, {"type": "input", "seq": 3, "input": {"dir": 1}, "at": 2,
                                     "ack": True})  # fmt: skip
        self.assertEqual(ack["tick"], 0)
        self.assertEqual(self.inputs()[-1], {"slot": 1, "tick": 0, "seq": 3, "at": 2,
                                             "input": {"dir": 1}})  # fmt: skip
        runner.advance()
        self.assertEqual(runner.state["paddles"][1]["dir"], 0)  # held for tick 2
        runner.advance()
        self.assertEqual(runner.state["paddles"][1]["dir"], 1)
        await comm.disconnect()

    async def test_an_input_without_ack_gets_no_reply(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        await comm.send_json_to({"type": "input", "seq": 1, "input": {"dir": 1}})
        # A ping answered with a pong: the input before it was handled, and got no reply.
        pong = await self.send(comm, {"type": "ping", "t": 1})
        self.assertEqual(pong["type"], "pong")
        self.assertEqual(self.inputs()[-1]["input"], {"dir": 1})
        await comm.disconnect()

    async def test_an_input_the_title_refuses_is_answered_with_its_code_and_seq(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        error = await self.send(comm, {"type": "input", "seq": 4, "input": {"dir": 9}})
        self.assertEqual((error["type"], error["code"], error["ref"]), ("error", "bad_input", 4))
        self.assertEqual([i for i in self.inputs() if "input" in i], [])
        await comm.disconnect()

    async def test_an_input_naming_a_slot_is_refused(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        error = await self.send(comm, {"type": "input", "seq": 1, "slot": 1, "input": {"dir": 1}})
        self.assertEqual((error["code"], error["ref"]), ("bad_message", 1))
        self.assertIn("slot", error["reason"])
        self.assertEqual([i for i in self.inputs() if "input" in i], [])
        await comm.disconnect()

    async def test_a_spectator_input_is_refused_with_not_a_player(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.visitor_cookie)
        await receive(comm)
        stats.FIGURES.take()  # what earlier tests of this process counted
        error = await self.send(comm, {"type": "input", "seq": 2, "input": {"dir": 1}})
        self.assertEqual((error["code"], error["ref"]), ("not_a_player", 2))
        self.assertEqual(self.inputs(), [])
        # Counted for /metrics next to the runner's refusals, in this process's figures.
        await stats.flush(hub())
        fields = store.client().hgetall(store.process_key(figures.process_name()))
        self.assertEqual(int(fields[f"c:{store.REFUSED}not_a_player".encode()]), 1)
        await comm.disconnect()

    async def test_an_input_before_the_match_runs_is_refused_as_not_running(self):
        comm, _ = await self.connect(self.ann_cookie)
        error = await self.send(comm, {"type": "input", "seq": 1, "input": {"dir": 1}})
        self.assertEqual(error["code"], "not_running")
        await comm.disconnect()

    async def test_an_input_while_redis_is_unreachable_gets_unavailable_and_the_socket_stays(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        relay._redis().pipe.close()  # the next input opens a connection, to nowhere
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
            error = await self.send(comm, {"type": "input", "seq": 5, "input": {"dir": 1}})
        self.assertEqual((error["type"], error["code"], error["ref"]), ("error", "unavailable", 5))
        ack = await self.send(comm, {"type": "input", "seq": 6, "input": {"dir": 1}, "ack": True})
        self.assertEqual((ack["type"], ack["seq"]), ("ack", 6))
        await comm.disconnect()


class MalformedMessageTests(GatewayCase):
    """Each bad frame gets an error frame with a code; the socket stays open for the next."""

    async def assert_refused(self, comm, frame: str, code: str) -> dict:
        error = await self.send(comm, frame)
        self.assertEqual((error["type"], error["code"]), ("error", code), frame[:80])
        return error

    async def test_every_kind_of_bad_frame_gets_its_error_code_and_the_socket_stays_open(self):
        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        cases = [
            ("{not json", "bad_json"),
            ('{"type": "ping", "t": NaN}', "bad_json"),
            ('{"type": "ping", "t": Infinity}', "bad_json"),
            ("[" * 3000 + "]" * 3000, "too_large"),
            ("[" * 2000 + "]" * 2000, "bad_json"),  # deeper than the parser recurses
            ("[1, 2]", "bad_message"),
            ('"ping"', "bad_message"),
            ('{"t": 1}', "bad_message"),
            ('{"type": 5}', "bad_message"),
            ('{"type": "shout"}', "unknown_type"),
            ('{"type": "ping", "t": "now"}', "bad_message"),
            ('{"type": "ping", "t": true}', "bad_message"),
            ('{"type": "ping"}', "bad_message"),
            ('{"type": "ping", "t": 1, "v": 2}', "bad_version"),
            ('{"type": "input", "seq": -1, "input": {"dir": 1}}', "bad_message"),
            ('{"type": "input", "seq": 1.5, "input": {"dir": 1}}', "bad_message"),
            ('{"type": "input", "seq": 1, "input": [1]}', "bad_message"),
            ('{"type": "input", "seq": 1, "input": {"dir": 1}, "ack": "yes"}', "bad_message"),
            ('{"type": "input", "seq": 1, "input": {"dir": 1}, "at": -3}', "bad_message"),
            ('{"type": "input", "seq": 1, "input": {"dir": 1}, "at": "next"}', "bad_message"),
            ('{"type": "pong", "id": 99}', "unexpected_pong"),
            (json.dumps({"type": "ping", "t": 1, "pad": "x" * 5000}), "too_large"),
            (json.dumps({"type": "ping", "t": 1, "pad": "é" * 2100}), "too_large"),
        ]
        for frame, code in cases:
            await self.assert_refused(comm, frame, code)
        await comm.send_to(bytes_data=b"\x00\x01")
        self.assertEqual((await receive(comm))["code"], "binary_unsupported")
        pong = await self.send(comm, {"type": "ping", "t": 12.5})
        self.assertEqual((pong["type"], pong["t"]), ("pong", 12.5))
        await comm.disconnect()

    async def test_the_error_names_the_offending_type(self):
        comm, _ = await self.connect(self.ann_cookie)
        error = await self.send(comm, {"type": "shout"})
        self.assertEqual(error["ref"], "shout")
        await comm.disconnect()

    @override_settings(GATEWAY_RATE_PER_S=10, GATEWAY_RATE_BURST=20)
    async def test_a_flood_gets_rate_limited_then_the_socket_is_closed_4429(self):
        comm, _ = await self.connect(self.ann_cookie)
        for i in range(40):
            await comm.send_json_to({"type": "ping", "t": i})
        seen = await receive_until_close(comm)
        pongs = [m for m in seen if m.get("type") == "pong"]
        self.assertEqual(len(pongs), 20)
        self.assertEqual(seen[-2]["code"], "rate_limited")
        self.assertEqual(seen[-1]["code"], 4429)
        await comm.disconnect()


class PresenceTests(GatewayCase):
    def presence(self) -> list[tuple[int, str]]:
        return [(i["slot"], i["presence"]) for i in self.inputs() if "presence" in i]

    def connected(self) -> list[bool]:
        return list(
            Participation.objects.filter(match=self.match).order_by("slot")
            .values_list("connected", flat=True)
        )  # fmt: skip

    async def test_a_player_who_drops_and_reconnects_resumes_in_the_same_slot(self):
        runner = await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.bob_cookie)
        self.assertEqual(await database_sync_to_async(self.connected)(), [False, True])
        await comm.disconnect()
        self.assertEqual(await database_sync_to_async(self.connected)(), [False, False])
        self.assertEqual(self.presence(), [(1, "on"), (1, "off")])
        runner.advance()
        self.assertEqual(runner.absent.keys(), {1})
        comm, welcome = await self.connect(self.bob_cookie)
        self.assertEqual((welcome["role"], welcome["slot"]), ("player", 1))
        snapshot = await receive(comm)
        self.assertEqual(snapshot["paused"], [1])
        self.assertEqual(self.presence(), [(1, "on")])
        runner.advance()
        self.assertEqual(runner.absent, {})
        self.assertEqual(await database_sync_to_async(self.connected)(), [False, True])
        await comm.disconnect()

    async def test_a_second_socket_for_the_same_seat_replaces_the_first_4409(self):
        await database_sync_to_async(self.start)()
        first, _ = await self.connect(self.ann_cookie)
        await receive(first)
        second, welcome = await self.connect(self.ann_cookie)
        self.assertEqual(welcome["slot"], 0)
        seen = await receive_until_close(first)
        self.assertEqual((seen[-2]["code"], seen[-1]["code"]), ("replaced", 4409))
        await first.disconnect()
        # The replaced socket going away does not mark the seat as empty.
        self.assertEqual(self.presence(), [(0, "on"), (0, "on")])
        self.assertEqual(await database_sync_to_async(self.connected)(), [True, False])
        await second.disconnect()
        self.assertEqual(self.presence()[-1], (0, "off"))

    async def test_sockets_subscribe_no_channel_of_their_own_only_their_matchs_group(self):
        # One SUBSCRIBE and one lock per socket in the channel layer paced a restarted
        # Daphne's handshakes (docs/operations.md, "Reconnect stampede").
        await database_sync_to_async(self.start)()
        ann, _ = await self.connect(self.ann_cookie)
        bob, _ = await self.connect(self.bob_cookie)
        watcher, _ = await self.connect(self.visitor_cookie)
        channels = {c.decode() for c in store.client().pubsub_channels()}
        self.assertEqual(channels, {groups.channel(groups.group_name(self.public_id))})
        for comm in (ann, bob, watcher):
            await comm.disconnect()

    async def test_only_the_replaced_socket_closes_on_seat_taken(self):
        # The notice goes to the match's group: every socket of it sees it, one closes.
        runner = await database_sync_to_async(self.start)()
        ann, _ = await self.connect(self.ann_cookie)
        bob, _ = await self.connect(self.bob_cookie)
        second, _ = await self.connect(self.ann_cookie)
        for comm in (ann, bob, second):
            self.assertEqual((await receive(comm))["type"], "state")  # the snapshot
        seen = await receive_until_close(ann)
        self.assertEqual((seen[-2]["code"], seen[-1]["code"]), ("replaced", 4409))
        await database_sync_to_async(runner.advance)()
        for comm in (bob, second):
            self.assertEqual((await receive(comm))["type"], "state")
        self.assertEqual(
            sorted(store.client().hkeys(store.key(self.match.pk, "sockets"))), [b"0", b"1"]
        )
        for comm in (ann, bob, second):
            await comm.disconnect()

    async def test_a_player_who_leaves_forfeits_and_the_socket_closes(self):
        runner = await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        await receive(comm)
        await comm.send_json_to({"type": "leave"})
        self.assertEqual((await receive(comm))["code"], 1000)
        await comm.disconnect()
        self.assertIs(runner.advance(), Outcome.FINISHED)
        self.assertEqual(store.load_state(self.match.pk)["result"]["forfeited"], [0])
        participation = await database_sync_to_async(
            Participation.objects.get
        )(match=self.match, slot=0)  # fmt: skip
        self.assertIsNotNone(participation.left_at)

    async def test_a_player_who_hangs_up_while_a_reply_is_owed_is_still_seen_as_gone(self):
        # Daphne raises on a send to a socket whose close frame it already read; the consumer
        # must still run its disconnect (chaos scenario "abuse", hang_up_with_replies_owed).
        from autobahn.exception import Disconnected
        from channels.generic.websocket import AsyncWebsocketConsumer

        await database_sync_to_async(self.start)()
        comm, _ = await self.connect(self.ann_cookie)
        with mock.patch.object(AsyncWebsocketConsumer, "send", side_effect=Disconnected):
            await comm.send_json_to({"type": "ping", "t": 1})
            await asyncio.sleep(0.1)
        await comm.disconnect()
        self.assertEqual(self.presence(), [(0, "on"), (0, "off")])
        self.assertEqual(await database_sync_to_async(self.connected)(), [False, False])

    async def test_a_spectator_cannot_leave(self):
        comm, _ = await self.connect(self.visitor_cookie)
        error = await self.send(comm, {"type": "leave"})
        self.assertEqual(error["code"], "not_a_player")
        await comm.disconnect()


class StatusTests(GatewayCase):
    async def test_a_status_published_to_the_group_reaches_lobby_sockets(self):
        from realtime import groups

        comm, _ = await self.connect(self.visitor_cookie)
        match = await database_sync_to_async(Match.objects.get)(pk=self.match.pk)
        await sync_to_async(groups.match_status)(match)
        status = await receive(comm)
        self.assertEqual((status["type"], status["status"]), ("status", "countdown"))
        self.assertEqual(len(status["players"]), 2)
        await comm.disconnect()
