"""Zombie Siege's wire schema: every frame of bot-played matches decodes to the v1 message
(the round trips every title gets, tests/matches/titles/test_wire.py)."""

from matches.titles.zombie import TITLE
from tests.matches.titles import test_wire

ZombieWireTest = test_wire.title_round_trips(TITLE, players=(1, 4), ticks=150)
