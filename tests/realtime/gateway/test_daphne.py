from functools import partial

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from channels.sessions import InstanceSessionWrapper
from daphne.server import Server
from django.test import SimpleTestCase, override_settings
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


class TextFrameTests(SimpleTestCase):
    def test_a_frame_is_byte_for_byte_what_autobahn_sends_for_every_length_class(self):
        for size in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            payload = b"x" * size
            protocol, transport = open_socket()
            protocol.sendMessage(payload)
            with self.subTest(size=size):
                self.assertEqual(direct.text_frame(payload), transport.value())


class SocketOfTests(SimpleTestCase):
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


class WriteTests(SimpleTestCase):
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
