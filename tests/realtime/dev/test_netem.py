import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

from django.core.management import CommandError, call_command
from django.test import SimpleTestCase

from realtime.dev import netem


async def echo_server():
    """An upstream that answers every chunk with the same bytes."""

    async def serve(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


class Proxied:
    """An echo server behind an ImpairedProxy with ``profile``, and a client connected to it."""

    def __init__(self, profile: netem.Profile, seed: int = 1):
        self.profile = profile
        self.seed = seed

    async def __aenter__(self):
        self.server, port = await echo_server()
        self.proxy = netem.ImpairedProxy(
            upstream=("127.0.0.1", port), profile=self.profile, seed=self.seed
        )
        await self.proxy.start()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.proxy.port)
        return self

    async def __aexit__(self, *exc):
        self.writer.close()
        await self.proxy.close()
        self.server.close()
        await self.server.wait_closed()

    async def round_trip(self, data: bytes) -> float:
        started = time.monotonic()
        self.writer.write(data)
        await self.writer.drain()
        await self.reader.readexactly(len(data))
        return (time.monotonic() - started) * 1000


def custom(**fields) -> netem.Profile:
    return netem.Profile("test", **fields)


class ProxyTests(SimpleTestCase):
    async def test_bytes_cross_both_ways_unchanged_and_in_order_under_jitter(self):
        async with Proxied(custom(delay_ms=5, jitter_ms=20)) as p:
            sent = b"".join(b"%05d;" % i for i in range(400))
            for i in range(0, len(sent), 30):  # small chunks spaced closer than the jitter
                p.writer.write(sent[i : i + 30])
                await p.writer.drain()
                await asyncio.sleep(0.001)
            got = await asyncio.wait_for(p.reader.readexactly(len(sent)), 10)
            self.assertEqual(got, sent)
            self.assertEqual(p.proxy.up.bytes, len(sent))
            self.assertEqual(p.proxy.down.bytes, len(sent))

    async def test_a_round_trip_takes_the_delay_of_both_directions(self):
        async with Proxied(custom(delay_ms=40)) as p:
            trips = [await p.round_trip(b"x") for _ in range(5)]
        self.assertGreaterEqual(min(trips), 79)
        self.assertLess(sorted(trips)[2], 80 + 150)  # the median, with room for a busy machine

    async def test_jitter_spreads_the_delay_either_side_of_it(self):
        async with Proxied(custom(delay_ms=30, jitter_ms=25), seed=3) as p:
            trips = [await p.round_trip(b"x") for _ in range(40)]
        # Two directions of ±25 ms each: the round trips span well over a single jitter.
        self.assertGreaterEqual(min(trips), 10)
        self.assertLess(min(trips), 50)
        self.assertGreater(max(trips) - min(trips), 30)

    async def test_the_bandwidth_cap_spaces_the_bytes_out(self):
        async with Proxied(custom(rate_kbps=1024)) as p:
            # 64 KiB each way at 1 Mbit/s: half a second per direction (the two overlap).
            elapsed = await asyncio.wait_for(p.round_trip(os.urandom(64 * 1024)), 20)
        self.assertGreaterEqual(elapsed, 64 * 1024 * 8 / 1024e3 * 1000 * 0.95)

    async def test_a_loss_stalls_the_stream_for_the_retransmission_time(self):
        async with Proxied(custom(delay_ms=1, loss=1.0, stall_ms=150)) as p:
            elapsed = await p.round_trip(b"x")
        self.assertGreaterEqual(elapsed, 2 * 150)
        self.assertEqual((p.proxy.up.stalls, p.proxy.down.stalls), (1, 1))

    async def test_without_loss_nothing_stalls(self):
        async with Proxied(custom(delay_ms=1, stall_ms=500)) as p:
            trips = [await p.round_trip(b"x") for _ in range(20)]
        self.assertLess(max(trips), 400)
        self.assertEqual(p.proxy.up.stalls + p.proxy.down.stalls, 0)

    async def test_a_closed_upstream_closes_the_client_side_after_the_last_bytes(self):
        async def hang_up(reader, writer):
            writer.write(b"bye")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        proxy = netem.ImpairedProxy(upstream=("127.0.0.1", port), profile=custom(delay_ms=20))
        await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            self.assertEqual(await asyncio.wait_for(reader.read(), 5), b"bye")
            writer.close()
        finally:
            await proxy.close()
            server.close()
            await server.wait_closed()

    async def test_an_unreachable_upstream_closes_the_client_at_once(self):
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        proxy = netem.ImpairedProxy(upstream=("127.0.0.1", port), profile=custom())
        await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            self.assertEqual(await asyncio.wait_for(reader.read(), 5), b"")
            writer.close()
        finally:
            await proxy.close()


class ProfileTests(SimpleTestCase):
    def test_the_named_profiles_are_those_of_the_issue(self):
        described = {name: p.describe() for name, p in netem.PROFILES.items()}
        self.assertEqual(described, {
            "lan": "1 ms RTT",
            "broadband": "40 ms RTT, ± 5 ms per direction",
            "mobile": "120 ms RTT, ± 30 ms per direction, 1% stalls of 200 ms",
            "bad": "250 ms RTT, ± 60 ms per direction, 3% stalls of 200 ms",
        })  # fmt: skip

    def test_a_profile_field_can_be_overridden_and_an_unknown_name_is_refused(self):
        self.assertEqual(netem.profile("mobile", loss=0.05, jitter_ms=None).loss, 0.05)
        self.assertEqual(netem.profile("mobile", jitter_ms=None).jitter_ms, 30)
        with self.assertRaisesRegex(ValueError, "unknown profile 'wifi'"):
            netem.profile("wifi")

    def test_an_impaired_url_points_at_a_proxy_in_front_of_the_original(self):
        with socket.socket() as upstream:
            upstream.bind(("127.0.0.1", 0))
            upstream.listen()
            port = upstream.getsockname()[1]
            url = f"http://127.0.0.1:{port}/api"
            with netem.impaired_url(url, "broadband") as through:
                self.assertRegex(through, r"^http://127\.0\.0\.1:\d+/api$")
                self.assertNotEqual(through, url)
                proxy_port = int(through.split(":")[2].split("/")[0])
                with socket.create_connection(("127.0.0.1", proxy_port), timeout=5) as client:
                    accepted, _ = upstream.accept()
                    with accepted:
                        client.sendall(b"ping")
                        accepted.settimeout(5)
                        self.assertEqual(accepted.recv(4), b"ping")
            with netem.impaired_url(url, None) as direct:
                self.assertEqual(direct, url)


class CommandTests(SimpleTestCase):
    def test_the_command_refuses_a_bad_address_and_bad_figures(self):
        with self.assertRaisesRegex(CommandError, "is not host:port"):
            call_command("netem", "--upstream", "nowhere")
        with self.assertRaisesRegex(CommandError, "--loss must be 0..1"):
            call_command("netem", "--loss", "2")

    def test_the_command_serves_through_the_profile_until_it_is_stopped(self):
        async def upstream_and_client():
            server, port = await echo_server()
            command = await asyncio.create_subprocess_exec(
                sys.executable, "manage.py", "netem", "--profile", "broadband",
                "--listen", "127.0.0.1:0", "--upstream", f"127.0.0.1:{port}",
                stdout=subprocess.PIPE,
            )  # fmt: skip
            try:
                banner = (await asyncio.wait_for(command.stdout.readline(), 30)).decode()
                self.assertIn("netem broadband (40 ms RTT", banner)
                proxy_port = int(banner.split(": 127.0.0.1:")[1].split(" ")[0])
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
                started = time.monotonic()
                writer.write(b"hello")
                self.assertEqual(await asyncio.wait_for(reader.readexactly(5), 5), b"hello")
                self.assertGreaterEqual(time.monotonic() - started, 0.025)
                writer.close()
                command.send_signal(signal.SIGTERM)
                self.assertEqual(await asyncio.wait_for(command.wait(), 10), 0)
            finally:
                if command.returncode is None:
                    command.kill()
                    await command.wait()
                server.close()
                await server.wait_closed()

        asyncio.run(upstream_and_client())
