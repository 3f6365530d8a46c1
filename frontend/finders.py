"""A staticfiles finder for the titles' browser modules: each registered title's ``browser/``
folder is served under ``titles/<name>/``, by ``collectstatic`` and by DEBUG serving alike.
The titles are read from the registry on every call, so a changed ARCADE_TITLES is seen."""

import os

from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder, searched_locations
from django.core.files.storage import FileSystemStorage
from django.utils._os import safe_join

from frontend.titles import browser_dirs


class TitleFinder(BaseFinder):
    def check(self, **kwargs) -> list:
        return []  # the registry validates ARCADE_TITLES itself, at start-up

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        found = []
        for prefix, folder in browser_dirs().items():
            searched_locations.append(str(folder))
            if not path.startswith(f"{prefix}/"):
                continue
            candidate = safe_join(folder, path.removeprefix(f"{prefix}/"))
            if os.path.exists(candidate):
                if not find_all:
                    return candidate
                found.append(candidate)
        return found

    def list(self, ignore_patterns: list[str] | None):
        for prefix, folder in browser_dirs().items():
            storage = FileSystemStorage(location=folder)
            storage.prefix = prefix  # collectstatic copies the files under it
            for path in utils.get_files(storage, ignore_patterns):
                yield path, storage
