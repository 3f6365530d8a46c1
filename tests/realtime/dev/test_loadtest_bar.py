from django.test import SimpleTestCase

from realtime.dev.loadtest.orchestrator import Bar


def step(**changes) -> dict:
    """A measured step as LoadTest.measure() returns it: 300 players, all well."""
    row = {"players": 300, "clients_connected": 300, "states": 180_000, "gap_p99_ms": 40.0,
           "delivered_ratio": 1.0, "closes": {}, "errors": {}}  # fmt: skip
    return {**row, **changes}


class BarTests(SimpleTestCase):
    def test_a_step_with_every_player_on_time_holds(self):
        self.assertTrue(Bar().holds(step()))

    def test_a_step_where_some_players_never_connected_does_not_hold(self):
        # Gaps and delivery of the 238 that did connect looked fine (seen in a real run).
        self.assertFalse(Bar().holds(step(players=450, clients_connected=238)))

    def test_a_step_where_clients_met_errors_does_not_hold(self):
        self.assertFalse(Bar().holds(step(errors={"ConnectionResetError": 30})))

    def test_late_updates_or_lost_ticks_or_closed_sockets_break_the_bar(self):
        self.assertFalse(Bar().holds(step(gap_p99_ms=50.5)))
        self.assertFalse(Bar().holds(step(delivered_ratio=0.98)))
        self.assertFalse(Bar().holds(step(closes={"4408": 1})))
        self.assertFalse(Bar().holds(step(states=0)))
