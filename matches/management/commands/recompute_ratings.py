"""Recompute every rating from the match history (after a title changed its rating system)."""

from django.core.management import BaseCommand, CommandError

from matches import standings
from matches.titles import TITLES


class Command(BaseCommand):
    help = (
        "Drop the ratings of the titles (default: all) and rate their finished matches again, "
        "in the order they ended, each by its title's rating system."
    )

    def add_arguments(self, parser):
        parser.add_argument("--title", action="append", dest="titles", metavar="NAME",
                            help="only this title (repeat for more)")  # fmt: skip

    def handle(self, *args, titles: list[str] | None = None, **options):
        unknown = sorted(set(titles or ()) - set(TITLES))
        if unknown:
            raise CommandError(f"unknown titles: {', '.join(unknown)} (known: {', '.join(TITLES)})")
        counts = standings.recompute(titles=titles)
        for title in titles or TITLES:
            system = standings.system_of(title)
            self.stdout.write(f"{title}: {counts.get(title, 0)} finished matches rated ({system})")
