"""The gateway's reaches into Daphne, autobahn, Twisted and Channels internals."""

import pprint
import socket
from functools import partial
from unittest import mock

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from channels.consumer import AsyncConsumer
from channels.sessions import InstanceSessionWrapper
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
from django.test import SimpleTestCase, override_settings
from twisted.internet import tcp
from twisted.internet.testing import StringTransport

from realtime.gateway import daphne as direct

HANDSHAKE = (
    b"GET /ws/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def open_socket():
    """An autobahn server protocol after a real opening handshake, on an in-memory transport."""
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(HANDSHAKE)
    assert protocol.state == protocol.STATE_OPEN, protocol.state
    transport.clear()
    return protocol, transport


def daphne_server() -> Server:
    return Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])


class ShortcutsCase(SimpleTestCase):
    """Each test decides afresh whether the shortcuts are on (settings and versions), from
    Twisted's own write; the process's state (config.asgi may have installed the eager write)
    is put back afterwards."""

    def setUp(self):
        was_installed = direct._buffered_write is not None
        direct.uninstall()
        direct.enabled.cache_clear()
        self.addCleanup(self._restore, was_installed)

    @staticmethod
    def _restore(was_installed: bool) -> None:
        direct.uninstall()
        direct.enabled.cache_clear()
        if was_installed:
            direct.install()


class VersionCheckTests(ShortcutsCase):
    def test_the_pinned_versions_are_the_ones_the_shortcuts_were_written_for(self):
        self.assertEqual(direct.installed_versions(), direct.WRITTEN_FOR)
        self.assertIsNone(direct.why_not())
        self.assertTrue(direct.enabled())

    def test_another_version_of_any_of_them_turns_every_shortcut_off_with_a_warning(self):
        other = {**direct.WRITTEN_FOR, "autobahn": "99.0.0"}
        protocol, _ = open_socket()
        send = partial(daphne_server().handle_reply, protocol)
        with (
            mock.patch.object(direct, "installed_versions", return_value=other),
            self.assertLogs("realtime.gateway.daphne", "WARNING") as logs,
        ):
            self.assertIsNone(direct.socket_of(send))
            self.assertFalse(direct.install())
        self.assertIn("autobahn 99.0.0 (written for 26.10.2)", logs.output[0])
        self.assertIs(tcp.Connection.write, ORIGINAL_WRITE)

    def test_a_missing_package_is_a_difference_too(self):
        reason = direct.why_not({**direct.WRITTEN_FOR, "daphne": None})
        self.assertIn("daphne missing", reason)


class TextFrameTests(SimpleTestCase):
    def test_a_frame_is_byte_for_byte_what_autobahn_sends_for_every_length_class(self):
        for size in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            payload = b"x" * size
            protocol, transport = open_socket()
            protocol.sendMessage(payload)
            with self.subTest(size=size):
                self.assertEqual(direct.text_frame(payload), transport.value())


class SocketOfTests(ShortcutsCase):
    def test_daphnes_send_callable_yields_its_websocket_protocol(self):
        protocol, _ = open_socket()
        send = partial(daphne_server().handle_reply, protocol)
        self.assertIs(direct.socket_of(send), protocol)

    def test_channels_session_wrapper_is_seen_through(self):
        protocol, _ = open_socket()
        send = partial(daphne_server().handle_reply, protocol)
        wrapper = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, send)
        self.assertIs(direct.socket_of(wrapper.send), protocol)

    def test_any_other_send_callable_means_the_asgi_path(self):
        async def send(message):
            pass

        protocol, _ = open_socket()
        self.assertIsNone(direct.socket_of(send))
        self.assertIsNone(direct.socket_of(partial(print, protocol)))
        self.assertIsNone(direct.socket_of(partial(daphne_server().handle_reply, 1)))

    @override_settings(REALTIME_DIRECT_WRITE=False)
    def test_the_setting_turns_the_direct_path_off(self):
        protocol, _ = open_socket()
        send = partial(daphne_server().handle_reply, protocol)
        self.assertIsNone(direct.socket_of(send))


class WriteTests(ShortcutsCase):
    def test_an_open_idle_socket_takes_the_frame_as_is(self):
        protocol, transport = open_socket()
        frame = direct.text_frame(b'{"tick":7}')
        self.assertTrue(direct.write(protocol, frame))
        self.assertEqual(transport.value(), frame)

    def test_a_closing_socket_refuses_so_that_the_asgi_path_decides(self):
        protocol, transport = open_socket()
        protocol.sendClose(code=1000)
        transport.clear()
        self.assertFalse(direct.write(protocol, direct.text_frame(b"{}")))
        self.assertEqual(transport.value(), b"")

    def test_frames_queued_in_autobahn_are_not_overtaken(self):
        protocol, transport = open_socket()
        protocol.send_queue.append((b"queued", False))
        self.assertFalse(direct.write(protocol, direct.text_frame(b"{}")))
        self.assertEqual(transport.value(), b"")


# Twisted's own write, whether or not config.asgi installed the eager one in this process.
ORIGINAL_WRITE = direct._buffered_write or tcp.Connection.write
ORIGINAL_SERVER_SEND = direct._capped_send or DaphneProtocol.serverSend


class _Reactor:
    """What a Twisted connection asks of its reactor when it has bytes left to write."""

    def __init__(self):
        self.writers = set()

    def addWriter(self, writer):
        self.writers.add(writer)

    def removeWriter(self, writer):
        self.writers.discard(writer)


class _Protocol:
    def makeConnection(self, transport):
        pass

    def connectionLost(self, reason):
        pass


def connection_to_a_slow_reader():
    """A Twisted TCP connection over a real socket pair whose reader does not read, with a
    small send buffer that fills up; and the reading end."""
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ours.setblocking(False)
    reactor = _Reactor()
    conn = tcp.Connection(ours, _Protocol(), reactor)
    conn.connected = 1
    return conn, theirs, reactor


def drain(conn, theirs, reactor, expected: int) -> bytes:
    """Read everything while Twisted writes what it buffered, as the reactor would."""
    theirs.settimeout(2)
    got = b""
    while len(got) < expected:
        if conn in reactor.writers:
            conn.doWrite()
        got += theirs.recv(65536)
    return got


class EagerWriteTests(ShortcutsCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(direct.install())
        self.addCleanup(direct.uninstall)

    def test_a_write_to_an_idle_connection_goes_out_at_once(self):
        conn, theirs, reactor = connection_to_a_slow_reader()
        conn.write(b"tick 1")
        self.assertEqual(theirs.recv(100), b"tick 1")
        self.assertNotIn(conn, reactor.writers)  # nothing left for the reactor's next turn

    def test_with_a_full_buffer_and_a_slow_reader_bytes_arrive_whole_and_in_order(self):
        conn, theirs, reactor = connection_to_a_slow_reader()
        frames = [bytes([65 + i % 26]) * 3000 for i in range(200)]  # far beyond the buffers
        for frame in frames:
            conn.write(frame)
        self.assertIn(conn, reactor.writers)  # the kernel took part; Twisted holds the rest
        expected = b"".join(frames)
        self.assertEqual(drain(conn, theirs, reactor, len(expected)), expected)

    def test_uninstall_restores_twisteds_own_write(self):
        direct.uninstall()
        self.assertIs(tcp.Connection.write, ORIGINAL_WRITE)
        conn, theirs, reactor = connection_to_a_slow_reader()
        conn.write(b"later")
        self.assertIn(conn, reactor.writers)  # buffered until the reactor's next turn
        self.assertEqual(drain(conn, theirs, reactor, 5), b"later")

    @override_settings(REALTIME_DIRECT_WRITE=False)
    def test_the_setting_off_leaves_twisted_alone(self):
        direct.uninstall()
        direct.enabled.cache_clear()
        self.assertFalse(direct.install())
        self.assertIs(tcp.Connection.write, ORIGINAL_WRITE)
        self.assertIs(DaphneProtocol.serverSend, ORIGINAL_SERVER_SEND)

    def test_daphne_listens_with_the_settings_backlog_unless_its_endpoint_names_one(self):
        self.assertEqual(direct.with_backlog("tcp:port=8000:interface=0.0.0.0", 1024),
                         "tcp:port=8000:interface=0.0.0.0:backlog=1024")  # fmt: skip
        self.assertEqual(direct.with_backlog("unix:/run/d.sock", 7), "unix:/run/d.sock:backlog=7")
        self.assertEqual(direct.with_backlog("tcp:port=1:backlog=9", 1024), "tcp:port=1:backlog=9")
        self.assertEqual(direct.with_backlog("fd:fileno=3", 1024), "fd:fileno=3")
        self.assertIs(Server.run, direct._run_with_backlog)
        direct.uninstall()
        self.assertIsNot(Server.run, direct._run_with_backlog)

    def test_autobahns_handshake_debug_line_is_formatted_only_when_debug_is_logged(self):
        import txaio
        from autobahn.websocket import protocol as autobahn_protocol

        settings_log = [("openHandshakeTimeout", 5, "factory")] * 30
        self.assertNotIn("openHandshakeTimeout", autobahn_protocol.pformat(settings_log))
        level = txaio.get_global_log_level()
        self.addCleanup(txaio.set_global_log_level, level)
        txaio.set_global_log_level("debug")
        self.assertEqual(autobahn_protocol.pformat(settings_log), pprint.pformat(settings_log))
        txaio.set_global_log_level(level)
        direct.uninstall()
        self.assertIs(autobahn_protocol.pformat, pprint.pformat)

    def test_daphnes_send_is_uncapped_while_installed_and_its_own_after(self):
        # The send itself, past the cap, is on the real stack: test_large_states_live.
        self.assertIs(DaphneProtocol.serverSend, direct._uncapped_send)
        direct.uninstall()
        self.assertIs(DaphneProtocol.serverSend, ORIGINAL_SERVER_SEND)


class DispatchTests(ShortcutsCase):
    class Consumer:
        def __init__(self):
            self.seen = []

        async def match_state(self, message):
            self.seen.append(message)

    async def test_the_lean_dispatch_calls_the_handler_without_channels_hop(self):
        consumer = self.Consumer()
        with mock.patch.object(AsyncConsumer, "dispatch") as channels_dispatch:
            await direct.dispatch(consumer, {"type": "match.state", "text": "x"})
        channels_dispatch.assert_not_called()
        self.assertEqual(consumer.seen, [{"type": "match.state", "text": "x"}])

    async def test_an_unknown_message_type_is_an_error_as_in_channels(self):
        with self.assertRaisesMessage(ValueError, "no handler for message type match.nope"):
            await direct.dispatch(self.Consumer(), {"type": "match.nope"})

    @override_settings(REALTIME_DIRECT_WRITE=False)
    async def test_with_the_shortcuts_off_channels_own_dispatch_runs(self):
        consumer = self.Consumer()
        with mock.patch.object(AsyncConsumer, "dispatch") as channels_dispatch:
            await direct.dispatch(consumer, {"type": "match.state", "text": "x"})
        channels_dispatch.assert_awaited_once_with(consumer, {"type": "match.state", "text": "x"})
