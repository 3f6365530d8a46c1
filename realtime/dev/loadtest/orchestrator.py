"""Drive the load processes: add matches, measure windows, hold or ramp until the bar breaks."""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from matches.titles import get_title
from realtime.dev.loadtest import fleet
from realtime.dev.loadtest.client import Window


def add_nice_argument(parser, flag: str, *, default: int) -> None:
    """The load processes' niceness, for the commands that start them."""
    parser.add_argument(
        flag, type=int, default=default, choices=range(0, 20), metavar="0-19",
        help="niceness of the load processes: on the server's own machine a positive one lets "
        "the server have the CPU first (delays only make the tool's figures worse)",
    )  # fmt: skip


def add_encoding_argument(parser, flag: str = "--encoding") -> None:
    """How the load's players take states, for the commands that start them."""
    parser.add_argument(flag, choices=["v1", "compact"], default="v1",
                        help="how the players take states: v1 text, or compact frames as the "
                             "browser does (docs/protocol.md)")  # fmt: skip


@dataclass(frozen=True)
class Bar:
    """What "held" means: every player connected, every update on time and (almost) every
    tick delivered. Gaps and delivery are measured over the clients that are connected, so a
    step where some could not connect (or were dropped) must not count however good those
    figures look."""

    p99_gap_ms: float = 50.0
    delivered_ratio: float = 0.99

    def holds(self, summary: dict) -> bool:
        return (
            summary["states"] > 0
            and summary["clients_connected"] >= summary["players"]
            and summary["gap_p99_ms"] <= self.p99_gap_ms
            and summary["delivered_ratio"] >= self.delivered_ratio
            and not summary["closes"]
            and not summary["errors"]
        )


class LoadTest:
    def __init__(
        self, *, base_url: str, title: str = "pong", players_per_match: int = 2,
        input_hz: float = 10.0, settings: dict | None = None, processes: int = 2,
        log: Callable[[str], None] = print, nice: int = 0, encoding: str = "v1",
        ws_base: str | None = None, source_hosts: int = 0,
    ) -> None:  # fmt: skip
        """``ws_base``: the players' sockets go there (a proxy) from ``source_hosts`` local
        addresses (``fleet.source_host``), their lobby calls to ``base_url``."""
        self.tick_hz = get_title(title).tick_hz
        self.players_per_match = players_per_match
        self.log = log
        self.matches = 0
        self.workers = fleet.spawn(
            processes, nice=nice, base_url=base_url, title=title, players=players_per_match,
            input_hz=input_hz, settings=settings or {}, encoding=encoding, ws_base=ws_base,
            source_hosts=source_hosts,
        )  # fmt: skip

    def __enter__(self) -> "LoadTest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, matches: int) -> None:
        shares = [matches // len(self.workers)] * len(self.workers)
        for i in range(matches % len(self.workers)):
            shares[(self.matches + i) % len(self.workers)] += 1
        busy = [(proc, conn) for (proc, conn), share in zip(self.workers, shares, strict=True)
                if share]  # fmt: skip
        for (_, conn), share in zip(self.workers, shares, strict=True):
            if share:
                conn.send(("add", share))
        for _, conn in busy:
            conn.recv()
        self.matches += matches

    def measure(self, seconds: float) -> dict:
        """Reset the clients' windows, wait, and summarise what they saw meanwhile."""
        self._collect()
        cpu_before = [fleet.cpu_seconds(proc.pid) for proc, _ in self.workers]
        started = time.monotonic()
        time.sleep(seconds)
        window, clients, played = self._collect()
        elapsed = time.monotonic() - started
        load_cpu = [
            round(100 * (fleet.cpu_seconds(proc.pid) - before) / elapsed, 1)
            for (proc, _), before in zip(self.workers, cpu_before, strict=True)
        ]
        return {
            "matches": self.matches,
            "players": self.matches * self.players_per_match,
            "clients_connected": clients,
            "matches_played": played,
            "seconds": round(elapsed, 2),
            **window.summary(tick_hz=self.tick_hz),
            "load_cpu_percent": load_cpu,
        }

    def _collect(self) -> tuple[Window, int, int]:
        """The window of every client, how many clients are in a match now, and how many
        matches the fleet has started in all (a match that ended is replaced by another)."""
        total, clients, played = Window(), 0, 0
        for _, conn in self.workers:
            conn.send(("report", None))
        for _, conn in self.workers:
            _, window, connected, started = conn.recv()
            total.merge(window)
            clients += connected
            played += started
        return total, clients, played

    def hold(self, *, matches: int, seconds: float, settle: float, batch: int = 10) -> dict:
        while self.matches < matches:
            self.add(min(batch, matches - self.matches))
        time.sleep(settle)
        row = self.measure(seconds)
        self._progress(row)
        return row

    def ramp(self, *, step: int, max_matches: int, seconds: float, settle: float,
             bar: Bar) -> tuple[list[dict], dict | None]:  # fmt: skip
        """Add ``step`` matches at a time until the bar breaks; the last row that held is the
        capacity."""
        rows, best = [], None
        while self.matches + step <= max_matches:
            self.add(step)
            time.sleep(settle)
            row = self.measure(seconds)
            row["held"] = bar.holds(row)
            rows.append(row)
            self._progress(row)
            if not row["held"]:
                break
            best = row
        return rows, best

    def _progress(self, row: dict) -> None:
        saturated = [p for p in row["load_cpu_percent"] if p > 90]
        self.log(
            f"{row['players']:>5} players  gap p50 {row['gap_p50_ms']:>6} ms  "
            f"p99 {row['gap_p99_ms']:>7} ms  delivered {row['delivered_ratio']:.4f}  "
            f"input p99 {row['input_latency_p99_ms']:>6} ms  load CPU {row['load_cpu_percent']}"
            + ("  held" if row.get("held") else "  BROKE" if "held" in row else "")
            + (f"  errors {row['errors']}" if row["errors"] else "")
            + (f"  closes {row['closes']}" if row["closes"] else "")
            + ("  WARNING: a load process saturates a core" if saturated else "")
        )

    def close(self) -> None:
        for _, conn in self.workers:
            with contextlib.suppress(OSError):
                conn.send(("stop", None))
        for proc, conn in self.workers:
            try:
                if conn.poll(15):
                    conn.recv()
            except (EOFError, OSError):
                pass
            proc.join(5)
            if proc.is_alive():
                proc.kill()
