"""Pong: two paddles, one ball, first to ``score_to`` points wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from . import bot, rules, wire

TITLE = rules.Pong(bot=bot.decide, wire_schema=wire.SCHEMA)

__all__ = ["TITLE"]
