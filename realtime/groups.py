"""Publishing to a match's sockets from sync code (API views, Celery tasks).

One PUBLISH on the sync Redis client, as the runner does it, rather than ``async_to_sync``
around ``group_send``: that would start an event loop, and a Redis connection, per call.
"""

from channels.layers import get_channel_layer
from django.conf import settings

from matches.models import Match
from realtime import protocol as messages
from realtime import store
from realtime.gateway import seats as gateway


def publish(*, public_id: str, event: str, text: str) -> None:
    """Send ``text`` verbatim to every socket of the match; ``event`` picks the handler."""
    layer = get_channel_layer()
    channel = f"{settings.CHANNEL_LAYER_PREFIX}__group__{store.group_name(public_id)}"
    store.client().publish(channel, layer.serialize({"type": event, "text": text}))


def match_status(match: Match) -> None:
    """Seats or countdown changed (a join, a leave): lobby sockets learn it at once."""
    text = messages.encode(
        "status",
        status=match.status,
        starts_at=match.starts_at.isoformat() if match.starts_at else None,
        players=gateway.people(match),
    )
    publish(public_id=match.public_id, event="match.status", text=text)


def match_over(match: Match, *, tick: int | None = None) -> None:
    """The match is finished or aborted in the database: sockets get the result and close."""
    publish(public_id=match.public_id, event="match.over", text=gateway.over_text(match, tick=tick))
