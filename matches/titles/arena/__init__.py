"""Thrust Arena: 2-64 ships with inertia shoot each other; most kills wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from . import bot, rules

TITLE = rules.Arena(bot=bot.decide)

__all__ = ["TITLE"]
