"""The load tool's websocket client against a real, independent server (`websockets`)."""

import asyncio
import http

from django.test import SimpleTestCase
from websockets.asyncio.server import serve

from realtime.dev.loadtest import wsclient


async def with_server(handler, scenario, process_request=None):
    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        return await asyncio.wait_for(scenario(f"ws://127.0.0.1:{port}/ws/x/?a=1"), 10)


class Received:
    def __init__(self) -> None:
        self.messages: list[tuple[bytes, bool]] = []
        self.arrived = asyncio.Event()

    def __call__(self, payload: bytes, binary: bool) -> None:
        self.messages.append((payload, binary))
        self.arrived.set()

    async def until(self, count: int) -> None:
        while len(self.messages) < count:
            self.arrived.clear()
            await self.arrived.wait()


class WsClientTests(SimpleTestCase):
    def test_messages_of_every_length_class_and_fragmented_ones_arrive_whole_and_in_order(self):
        big = "y" * 70000

        async def handler(ws):
            await ws.send("short")
            await ws.send("m" * 300)
            await ws.send(big)
            await ws.send(["frag", "mented"])  # three frames: text, continuation, continuation
            await ws.send(b"\x00\x01")
            await ws.wait_closed()

        async def scenario(url):
            received = Received()
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=received)
            await received.until(5)
            conn.close()
            await conn.closed
            return received.messages

        messages = asyncio.run(with_server(handler, scenario))
        self.assertEqual(
            messages,
            [(b"short", False), (b"m" * 300, False), (big.encode(), False),
             (b"fragmented", False), (b"\x00\x01", True)],
        )  # fmt: skip

    def test_frames_it_sends_are_masked_as_a_server_requires_and_read_back_intact(self):
        echoed = []

        async def handler(ws):
            async for message in ws:  # websockets fails the connection on an unmasked frame
                echoed.append(message)
                await ws.send(message)

        async def scenario(url):
            received = Received()
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=received)
            for payload in (b"", b'{"type":"input"}', b"z" * 200, b"w" * 70000):
                conn.send_text(payload)
            await received.until(4)
            conn.close()
            await conn.closed
            return [m for m, _ in received.messages]

        sent = [b"", b'{"type":"input"}', b"z" * 200, b"w" * 70000]
        self.assertEqual(asyncio.run(with_server(handler, scenario)), sent)
        self.assertEqual(echoed, [s.decode() for s in sent])

    def test_it_answers_pings_and_reports_the_servers_close_code(self):
        async def handler(ws):
            pong = await ws.ping(b"probe")
            await asyncio.wait_for(pong, 5)
            await ws.close(code=4410, reason="over")

        async def scenario(url):
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=Received())
            return await conn.closed

        self.assertEqual(asyncio.run(with_server(handler, scenario)), 4410)

    def test_a_socket_the_server_drops_without_a_close_frame_says_it_ended_by_eof(self):
        async def handler(ws):
            await ws.send("hello")
            ws.transport.close()  # TCP shut, no close frame

        async def scenario(url):
            received = Received()
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=received)
            return await conn.closed, conn.ended_by

        self.assertEqual(asyncio.run(with_server(handler, scenario)), (None, "eof"))

    def test_a_dropped_socket_still_names_both_of_its_addresses(self):
        async def handler(ws):
            ws.transport.close()

        async def scenario(url):
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=Received())
            await conn.closed
            return url, conn.addresses()

        url, addresses = asyncio.run(with_server(handler, scenario))
        port = url.rsplit(":", 1)[1].split("/")[0]
        self.assertRegex(addresses, rf"^\('127\.0\.0\.1', \d+\) -> \('127\.0\.0\.1', {port}\)$")

    def test_a_callback_that_raises_ends_the_socket_as_a_logged_client_error(self):
        async def handler(ws):
            await ws.send("boom")
            await ws.wait_closed()

        def on_message(payload, binary):
            raise KeyError("a bug of the load tool")

        async def scenario(url):
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=on_message)
            return await conn.closed, conn.ended_by

        with self.assertLogs("realtime.dev.loadtest.wsclient", "ERROR") as logs:
            self.assertEqual(asyncio.run(with_server(handler, scenario)), (None, "client_error"))
        self.assertIn("KeyError", logs.output[0])

    def test_a_close_frame_leaves_no_end_reason_beside_its_code(self):
        async def handler(ws):
            await ws.close(4409, "seat taken")

        async def scenario(url):
            conn = await wsclient.connect(url, origin="http://o", headers={}, on_message=Received())
            return await conn.closed, conn.ended_by

        self.assertEqual(asyncio.run(with_server(handler, scenario)), (4409, None))

    def test_the_handshake_carries_origin_cookie_path_and_query(self):
        seen = {}

        async def handler(ws):
            request = ws.request
            seen.update(path=request.path, origin=request.headers["Origin"],
                        cookie=request.headers["Cookie"])  # fmt: skip
            await ws.close()

        async def scenario(url):
            conn = await wsclient.connect(
                url, origin="http://site", headers={"Cookie": "sessionid=abc"},
                on_message=Received(),
            )  # fmt: skip
            return await conn.closed

        self.assertEqual(asyncio.run(with_server(handler, scenario)), 1000)
        self.assertEqual(
            seen, {"path": "/ws/x/?a=1", "origin": "http://site", "cookie": "sessionid=abc"}
        )

    def test_a_refused_handshake_raises_with_the_status_line(self):
        async def refuse(connection, request):
            return connection.respond(http.HTTPStatus.FORBIDDEN, "no\n")

        async def handler(ws):
            raise AssertionError("never reached")

        async def scenario(url):
            await wsclient.connect(url, origin="http://o", headers={}, on_message=Received())

        with self.assertRaisesRegex(wsclient.HandshakeError, "403") as refused:
            asyncio.run(with_server(handler, scenario, process_request=refuse))
        self.assertEqual(refused.exception.status, 403)

    def test_a_socket_can_come_from_a_chosen_local_address(self):
        seen = []

        async def handler(ws):
            seen.append(ws.remote_address[0])
            await ws.wait_closed()

        async def scenario(url):
            conn = await wsclient.connect(
                url, origin="http://o", headers={}, on_message=Received(), local_host="127.0.0.9"
            )
            conn.close()
            await conn.closed

        asyncio.run(with_server(handler, scenario))
        self.assertEqual(seen, ["127.0.0.9"])

    def test_masking_is_its_own_inverse_for_any_length(self):
        key = b"\x01\x80\xff\x10"
        for size in (0, 1, 3, 4, 5, 125, 1000):
            payload = bytes(range(256)) * 4
            payload = payload[:size]
            self.assertEqual(wsclient.mask(wsclient.mask(payload, key), key), payload)
            if size:
                self.assertEqual(wsclient.mask(payload, key)[0], payload[0] ^ key[0])
