"""Thrust Arena: 2-64 ships with inertia shoot each other; most kills wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from .rules import TITLE

__all__ = ["TITLE"]
