import io

from django.core.management import CommandError, call_command
from django.test import TestCase

from matches import replay, services
from matches.titles import get_title
from tests.support.matches import counting_down


def finished_with_replay(log, **kwargs):
    """A Pong match whose recorded result is what re-simulating ``log`` gives."""
    match = services.match_begin(match_id=counting_down(**kwargs).pk)
    game = get_title("pong")
    settings = game.validate_settings({})
    ticks = 90
    states = replay.states(title="pong", players=2, bots=(), seed=match.seed,
                           settings=settings, log=log, max_ticks=ticks)  # fmt: skip
    for state in states:
        if state["tick"] == ticks:
            break
    game.forfeit(state, 1)
    log = [*log, [ticks, [["f", 1]]]]
    return services.match_finish(
        match_id=match.pk, result=game.result(state), replay_log=log, final_tick=ticks
    )


class VerifyReplayTests(TestCase):
    def test_a_faithful_replay_is_confirmed(self):
        match = finished_with_replay([[0, [["i", 0, {"dir": 1}]]], [30, [["i", 1, {"dir": -1}]]]])
        out = io.StringIO()
        call_command("verify_replay", match.public_id, stdout=out)
        self.assertIn("OK", out.getvalue())

    def test_a_tampered_log_is_reported_as_a_mismatch(self):
        match = finished_with_replay([[0, [["i", 0, {"dir": 1}]]]])
        match.replay.log = replay.pack_log([[0, [["f", 0]]]])
        match.replay.save()
        with self.assertRaisesMessage(CommandError, "MISMATCH"):
            call_command("verify_replay", match.public_id, stdout=io.StringIO())

    def test_an_unknown_match_or_one_without_replay_is_a_clear_error(self):
        with self.assertRaisesMessage(CommandError, "no match"):
            call_command("verify_replay", "nope")
        match = services.match_create(title="pong")
        with self.assertRaisesMessage(CommandError, "has no replay"):
            call_command("verify_replay", match.public_id)
