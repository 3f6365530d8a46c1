"""Re-simulate a finished match from its seed and input log and check the result."""

import time

from django.core.management import BaseCommand, CommandError

from matches import replay, selectors
from matches.errors import MatchNotFound, ReplayOutdated
from matches.models import Replay


class Command(BaseCommand):
    help = "Re-simulate a finished match (public id) and compare with the recorded result."

    def add_arguments(self, parser):
        parser.add_argument("match", help="the match's public id")

    def handle(self, *args, match: str, **options):
        try:
            record = selectors.match_get(public_id=match)
        except MatchNotFound as exc:
            raise CommandError(exc.reason) from None
        try:
            kept = record.replay
        except Replay.DoesNotExist:
            raise CommandError(
                f"match {match} has no replay (status {record.status}; only matches that "
                "finished on the engine have one)"
            ) from None
        try:
            selectors.replay_check(match=record)
        except ReplayOutdated as exc:
            raise CommandError(exc.reason) from None
        participations = list(record.participations.order_by("slot"))
        started = time.perf_counter()
        result = replay.final_result(
            title=record.title,
            players=len(participations),
            bots=tuple(p.slot for p in participations if p.is_bot),
            seed=record.seed,
            settings=record.settings,
            log=replay.unpack_log(kept.log),
            max_ticks=kept.ticks,
        )
        took = time.perf_counter() - started
        self.stdout.write(f"{record}: {kept.ticks} ticks, {kept.inputs} logged inputs, "
                          f"re-simulated in {took * 1000:.0f} ms")  # fmt: skip
        self.stdout.write(f"  recorded:     {kept.result}")
        self.stdout.write(f"  re-simulated: {result}")
        if result != kept.result:
            raise CommandError("MISMATCH: the re-simulation does not reproduce the result")
        self.stdout.write(self.style.SUCCESS("OK: the replay reproduces the recorded result"))
