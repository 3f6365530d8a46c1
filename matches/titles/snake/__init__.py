"""Snake: 2-8 snakes on a grid, eat food to grow, the last snake standing wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from . import bot, rules, wire

TITLE = rules.Snake(bot=bot.decide, wire_schema=wire.SCHEMA)

__all__ = ["TITLE"]
