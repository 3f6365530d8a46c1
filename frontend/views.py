"""Pages for players. They read through the selectors and never write models themselves."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from matches import selectors
from matches.games import TITLES


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/home.html",
        {
            "titles": list(TITLES.values()),
            "matches": selectors.lobby_matches(),
            "results": selectors.recent_results(limit=10),
        },
    )
