"""Django's database sessions with their read in plain SQL (``SESSION_ENGINE``).

Every match socket's handshake loads its session: through the ORM that read cost ten times
the statement (matches/sql.py). Writes, expiry and everything else are Django's own.
"""

from django.contrib.sessions.backends import db
from django.db import router

from matches import sql


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        if self.session_key is None:
            return {}
        using = router.db_for_read(self.model)
        found = sql.rows(sql.session_data(), [self.session_key, sql.now_param(using=using)],
                         using=using)  # fmt: skip
        if not found:
            self._session_key = None  # as Django's: a new key is made if this one is saved
            return {}
        return self.decode(found[0][0])
