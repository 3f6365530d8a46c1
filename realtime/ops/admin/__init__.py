"""Django admin for players, matches and the staff audit trail.

Staff with ``matches.control_match`` act on live matches (start, end, abort, kick, create
with bots) through ``realtime.ops.control``, which calls the services and writes the audit log;
nothing here holds a rule. Others with view access see read-only pages.
"""

from realtime.ops.admin import audit, match, people  # noqa: F401 (each module registers its admins)
