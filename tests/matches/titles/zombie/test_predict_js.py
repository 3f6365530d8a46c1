"""Zombie Siege's browser/predict.js, run in Node by the page's own Predictor on recorded
inputs, walks the own player exactly as the rules do (walls, doors and diagonals)."""

from django.test import SimpleTestCase

from tests.frontend import test_prediction as recorded

AHEAD = recorded.AHEAD


def walker(rng, tick, state):
    if rng.random() >= 0.3:
        return None
    return {"mx": rng.choice((-1, 0, 1)), "my": rng.choice((-1, 0, 1)),
            "aim": rng.uniform(-3.1, 3.1)}  # fmt: skip


class ZombiePredictionTests(SimpleTestCase):
    def sessions(self, *, exact: bool):
        for seed in (1, 2, 3):
            session, internal = recorded.record("zombie", players=2, slot=1, inputs_of=walker,
                                                ticks_n=300, seed=seed)  # fmt: skip
            if exact:  # the rules' own numbers instead of the snapshot's rounded ones
                for t, entry in session["states"].items():
                    for p, rules in zip(entry["state"]["team"], internal[t]["team"], strict=True):
                        p.update(x=rules["x"], y=rules["y"])
            last = max(internal)
            checks = list(range(0, last - AHEAD, 5))
            yield seed, internal, checks, recorded.predicted("zombie", session, checks)

    def test_the_predicted_player_follows_the_rules_exactly_from_exact_states(self):
        compared = 0
        for seed, internal, checks, rows in self.sessions(exact=True):
            for t, row in zip(checks, rows, strict=True):
                for k, own in zip(range(t + 1, t + 1 + AHEAD), row, strict=True):
                    rules = internal[k]["team"][1]
                    if rules["down"] or internal[k]["finished"]:
                        break  # bitten down: only the server knows ahead
                    self.assertEqual((own["x"], own["y"]), (rules["x"], rules["y"]),
                                     f"seed {seed}, from tick {t} to {k}")  # fmt: skip
                    compared += 1
        self.assertGreater(compared, 500)

    def test_from_the_snapshots_rounded_positions_nearly_every_point_is_within_a_rounding(self):
        # A rounded start can fall on the other side of a wall's edge: that walk then differs
        # by a step or more (the page fades the correction in).
        errors = []
        for _seed, internal, checks, rows in self.sessions(exact=False):
            for t, row in zip(checks, rows, strict=True):
                for k, own in zip(range(t + 1, t + 1 + AHEAD), row, strict=True):
                    rules = internal[k]["team"][1]
                    if rules["down"] or internal[k]["finished"]:
                        break
                    errors.append(abs(own["x"] - rules["x"]) + abs(own["y"] - rules["y"]))
        errors.sort()
        self.assertLess(errors[int(0.95 * len(errors))], 0.011)
        self.assertLess(errors[-1], 1.0)
