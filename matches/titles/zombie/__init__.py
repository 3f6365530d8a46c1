"""Zombie Siege: 1-4 players together against waves of zombies on a tile map with walls.

The rules are in rules.py, the bot in bot.py, the maps in maps/; README.md here describes them.
"""

from . import bot, rules, wire

TITLE = rules.ZombieSiege(bot=bot.decide, wire_schema=wire.SCHEMA)

__all__ = ["TITLE"]
