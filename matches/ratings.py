"""Elo ratings, generalised to N players as pairwise duels by final ranking.

Pure arithmetic; ``services.match_finish`` applies it inside the transaction that finishes
the match, so a rating moves exactly once per finished match (a retried finish is refused
by the status check before it gets here).
"""

K = 32.0


def expected(rating: float, opponent: float) -> float:
    return 1.0 / (1.0 + 10 ** ((opponent - rating) / 400.0))


def updated(ratings: dict[int, float], scores: dict[int, float]) -> dict[int, float]:
    """New ratings of the players (keys: slots). ``scores`` rank them: higher is better,
    equal is a draw. Each pair plays one duel worth K / (n - 1), so a 2-player match is
    plain Elo and the total of ratings is conserved."""
    slots = list(ratings)
    if len(slots) < 2:
        return dict(ratings)
    k = K / (len(slots) - 1)
    out = dict(ratings)
    for a in slots:
        for b in slots:
            if a == b:
                continue
            actual = 1.0 if scores[a] > scores[b] else 0.5 if scores[a] == scores[b] else 0.0
            out[a] += k * (actual - expected(ratings[a], ratings[b]))
    return out
