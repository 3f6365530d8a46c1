"""Domain errors: each carries a stable code and a reason a person can read.

Views turn them into HTTP 4xx responses and consumers into error frames, by code.
"""


class MatchError(Exception):
    code = "match_error"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if code is not None:
            self.code = code


class MatchNotFound(MatchError):
    code = "unknown_match"


class MatchFull(MatchError):
    code = "match_full"


class AlreadyJoined(MatchError):
    code = "already_joined"


class MatchClosed(MatchError):
    """The match is finished or aborted, or past the point where this is allowed."""

    code = "match_closed"


class NotAParticipant(MatchError):
    code = "not_a_participant"


class NotTheHost(MatchError):
    code = "not_host"


class TooFewPlayers(MatchError):
    code = "too_few_players"


class NotOver(MatchError):
    code = "match_not_over"


class RematchDeclined(MatchError):
    code = "rematch_declined"


class RematchExpired(MatchError):
    code = "rematch_expired"


class ReplayOutdated(MatchError):
    """Recorded under rules this server no longer runs: re-simulating it would show another
    match."""

    code = "replay_outdated"


class IllegalTransition(MatchError):
    code = "illegal_transition"


class InvalidMatchSettings(MatchError):
    code = "bad_settings"
