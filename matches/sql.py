"""The few statements that run in plain SQL, and the values they read back.

Every match socket's handshake reads its session, its match with the seats and writes its
presence. Through the ORM each of those cost 0.5-1.6 ms of Python (building and compiling
the query, then the model instances) against 50-100 µs for the statement itself, and after a
Daphne restart a thousand handshakes make them at once (docs/operations.md, "Reconnect
stampede"). The tables and columns are taken from the models' ``_meta``, so a renamed field
follows; tests/matches/test_sql.py holds each statement to the ORM query it replaces, on
SQLite and PostgreSQL.
"""

import functools
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connections
from django.utils import timezone

from matches.models import Match, Participation, Player

PRESENT_STATUSES = (Match.Status.WAITING, Match.Status.COUNTDOWN, Match.Status.RUNNING)


def _table(model) -> str:
    return model._meta.db_table


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


@functools.cache
def match_seats() -> str:
    """The match (by public id) joined with its seats, their players and accounts; a match
    without seats gives one row whose seat columns are NULL."""
    m, p, pl, u = Match, Participation, Player, get_user_model()
    match_cols = ", ".join(
        f"m.{_col(m, f)}"
        for f in ("id", "public_id", "title", "status", "rules_version", "settings", "tick_hz",
                  "starts_at")
    )  # fmt: skip
    seat_cols = ", ".join(
        [f"p.{_col(p, f)}" for f in ("slot", "is_bot", "connected", "left_at", "player")]
        + [f"pl.{_col(pl, 'display_name')}", f"pl.{_col(pl, 'user')}"]
        + [f"u.{_col(u, 'is_active')}", f"u.{_col(u, 'password')}"]
    )
    return (
        f"SELECT {match_cols}, {seat_cols} FROM {_table(m)} m"
        f" LEFT JOIN {_table(p)} p ON p.{_col(p, 'match')} = m.{_col(m, 'id')}"
        f" LEFT JOIN {_table(pl)} pl ON pl.{_col(pl, 'id')} = p.{_col(p, 'player')}"
        f" LEFT JOIN {_table(u)} u ON u.{u._meta.pk.column} = pl.{_col(pl, 'user')}"
        f" WHERE m.{_col(m, 'public_id')} = %s ORDER BY p.{_col(p, 'slot')}"
    )


@functools.cache
def match_status() -> str:
    m = Match
    return f"SELECT {_col(m, 'status')} FROM {_table(m)} WHERE {_col(m, 'id')} = %s"


@functools.cache
def participation_set_connected() -> str:
    """Params: connected, match id, player id, then the match id again; the match must be
    one a seat can still be held in (``PRESENT_STATUSES``)."""
    m, p = Match, Participation
    statuses = ", ".join(["%s"] * len(PRESENT_STATUSES))
    return (
        f"UPDATE {_table(p)} SET {_col(p, 'connected')} = %s"
        f" WHERE {_col(p, 'match')} = %s AND {_col(p, 'player')} = %s"
        f" AND {_col(p, 'left_at')} IS NULL AND EXISTS (SELECT 1 FROM {_table(m)}"
        f" WHERE {_col(m, 'id')} = %s AND {_col(m, 'status')} IN ({statuses}))"
    )


@functools.cache
def session_data() -> str:
    s = Session
    return (
        f"SELECT {_col(s, 'session_data')} FROM {_table(s)}"
        f" WHERE {_col(s, 'session_key')} = %s AND {_col(s, 'expire_date')} > %s"
    )


def rows(statement: str, params: list, *, using: str = "default") -> list[tuple]:
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def write(statement: str, params: list, *, using: str = "default") -> int:
    """Runs one statement (committed at once unless inside ``atomic``); the rows it changed."""
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def now_param(*, using: str = "default"):
    """The current time as the database compares it with a DateTimeField's column."""
    return connections[using].ops.adapt_datetimefield_value(timezone.now())


def aware(value: datetime | None) -> datetime | None:
    """A DateTimeField's value as read here: SQLite gives naive UTC, PostgreSQL aware."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, UTC)


def json_value(model, field: str, value, *, using: str = "default"):
    """A JSONField's value as read here (the text, on either database), as the ORM gives it."""
    return model._meta.get_field(field).from_db_value(value, None, connections[using])
