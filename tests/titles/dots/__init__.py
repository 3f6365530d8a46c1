"""Dots: a test-only title. Each player steers a dot on a small grid; the first to pick up
``score_to`` stars wins. It lives only in tests/ and is enabled through ARCADE_TITLES."""

from .rules import TITLE

__all__ = ["TITLE"]
