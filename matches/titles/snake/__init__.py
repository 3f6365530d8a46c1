"""Snake: 2-8 snakes on a grid, eat food to grow, the last snake standing wins.

The rules are in rules.py, the bot in bot.py; README.md here describes them.
"""

from .rules import TITLE

__all__ = ["TITLE"]
