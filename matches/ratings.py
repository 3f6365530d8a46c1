"""Rating math, pure: Elo for duels, Weng-Lin (OpenSkill's Plackett-Luce) for free-for-alls.

Each title names its system in its package (``Title.rating_system``, docs/titles.md);
``matches.standings`` applies the math to the rating rows, inside the transaction that
finishes a match, and again in the same order when all ratings are recomputed.

Both speak of *places*: per slot, higher is better, equal places are a tie.

* **Elo**: pairwise duels by final place, each worth K / (n - 1), so a 2-player match is plain
  Elo and the total of ratings is conserved. No uncertainty: the shown rating is the rating.
* **OpenSkill** (``openskill``, MIT): every player has a skill estimate ``mu`` and an
  uncertainty ``sigma`` that shrinks as they play; one update takes a whole many-player
  ranking. The shown rating is the conservative estimate ``mu - 3 sigma``: a new player
  starts at 0 and climbs as the system becomes sure of them. The library's defaults are
  scaled by 48 so that ``mu`` starts at 1200, Elo's start: quick play compares both on one
  scale.
"""

from dataclasses import dataclass
from functools import cache

from openskill.models import PlackettLuce

ELO, OPENSKILL = "elo", "openskill"
SYSTEMS = (ELO, OPENSKILL)

K = 32.0
ELO_INITIAL = 1200.0
MU = 1200.0
SIGMA = MU / 3
BETA = SIGMA / 2
TAU = SIGMA / 100  # sigma's floor per game: a rating never freezes for good
Z = 3.0  # the conservative estimate is this many sigmas below mu


@dataclass(frozen=True)
class Skill:
    """One player's standing: ``mu`` (Elo: the rating) and ``sigma`` (None under Elo)."""

    mu: float
    sigma: float | None = None

    @property
    def shown(self) -> float:
        """What a leaderboard ranks by: the rating, or the conservative estimate."""
        return self.mu if self.sigma is None else self.mu - Z * self.sigma


def initial(system: str) -> Skill:
    _check(system)
    return Skill(ELO_INITIAL) if system == ELO else Skill(MU, SIGMA)


def rate(system: str, skills: dict[int, Skill], places: dict[int, float]) -> dict[int, Skill]:
    """New skills of the players (keys: slots) after one match ranked by ``places``."""
    _check(system)
    if set(skills) != set(places):
        raise ValueError("skills and places must name the same slots")
    if len(skills) < 2:
        return dict(skills)
    if system == ELO:
        new = updated({slot: s.mu for slot, s in skills.items()}, places)
        return {slot: Skill(value) for slot, value in new.items()}
    return _openskill(skills, places)


def expected(rating: float, opponent: float) -> float:
    return 1.0 / (1.0 + 10 ** ((opponent - rating) / 400.0))


def updated(ratings: dict[int, float], scores: dict[int, float]) -> dict[int, float]:
    """Elo: new ratings of the players (keys: slots); ``scores`` are their places."""
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


@cache
def _model() -> PlackettLuce:
    return PlackettLuce(mu=MU, sigma=SIGMA, beta=BETA, tau=TAU)


def _openskill(skills: dict[int, Skill], places: dict[int, float]) -> dict[int, Skill]:
    model = _model()
    slots = sorted(skills)
    if any(skills[slot].sigma is None for slot in slots):
        raise ValueError("an OpenSkill rating needs a sigma")
    teams = [[model.rating(mu=skills[slot].mu, sigma=skills[slot].sigma)] for slot in slots]
    # The library's ranks: lower is better, equal is a tie.
    ranks = [-float(places[slot]) for slot in slots]
    new = model.rate(teams, ranks=ranks)
    return {slot: Skill(team[0].mu, team[0].sigma) for slot, team in zip(slots, new, strict=True)}


def _check(system: str) -> None:
    if system not in SYSTEMS:
        raise ValueError(f"unknown rating system {system!r} (one of {', '.join(SYSTEMS)})")
