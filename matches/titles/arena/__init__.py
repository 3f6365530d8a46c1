"""Thrust Arena: 2-64 ships with inertia shoot each other; most kills wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from . import bot, rules, wire

TITLE = rules.Arena(bot=bot.decide, wire_schema=wire.SCHEMA)

__all__ = ["TITLE"]
