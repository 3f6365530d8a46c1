from django.apps import AppConfig


class MatchesConfig(AppConfig):
    name = "matches"
    verbose_name = "Matches"

    def ready(self) -> None:
        from matches.titles import TITLES

        # A wrong ARCADE_TITLES fails at start-up, naming the entry, not at the first match.
        len(TITLES)
