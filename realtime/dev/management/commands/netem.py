"""The network-impairment proxy standalone: point a browser or a tool at --listen."""

import asyncio
import signal

from django.core.management import BaseCommand, CommandError

from realtime.dev import netem


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise CommandError(f"{text!r} is not host:port")
    return host or "127.0.0.1", int(port)


class Command(BaseCommand):
    help = "A TCP proxy with delay, jitter, loss-stalls and a bandwidth cap (docs/operations.md)."

    def add_arguments(self, parser):
        parser.add_argument("--profile", default="lan", choices=list(netem.PROFILES))
        parser.add_argument("--listen", default="127.0.0.1:8100", help="host:port to accept on")
        parser.add_argument("--upstream", default="127.0.0.1:8000", help="host:port of Daphne")
        parser.add_argument("--delay-ms", type=float, help="one-way delay (half the RTT)")
        parser.add_argument("--jitter-ms", type=float, help="spread either side, per direction")
        parser.add_argument("--loss", type=float, help="share of chunks that stall, 0..1")
        parser.add_argument("--stall-ms", type=float, help="how long a loss stalls the stream")
        parser.add_argument("--rate-kbps", type=float, help="bandwidth cap per direction")
        parser.add_argument("--seed", type=int)

    def handle(self, *args, **o):
        try:
            chosen = netem.profile(o["profile"], delay_ms=o["delay_ms"], jitter_ms=o["jitter_ms"],
                                   loss=o["loss"], stall_ms=o["stall_ms"],
                                   rate_kbps=o["rate_kbps"])  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not 0 <= chosen.loss <= 1 or min(chosen.delay_ms, chosen.jitter_ms,
                                             chosen.stall_ms, chosen.rate_kbps) < 0:  # fmt: skip
            raise CommandError("--loss must be 0..1 and the times and rate at least 0")
        asyncio.run(self.serve(chosen, _address(o["listen"]), _address(o["upstream"]), o["seed"]))

    async def serve(self, chosen, listen, upstream, seed) -> None:
        proxy = netem.ImpairedProxy(upstream=upstream, profile=chosen, listen=listen, seed=seed)
        port = await proxy.start()
        self.stdout.write(f"netem {chosen.name} ({chosen.describe()}): "
                          f"{listen[0]}:{port} -> {upstream[0]}:{upstream[1]}")  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await proxy.close()
        self.stdout.write(f"netem: {proxy.figures()}")
