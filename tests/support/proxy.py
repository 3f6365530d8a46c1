"""nginx from the shipped deploy/nginx.conf (rendered by realtime/dev/proxy.py) as a service
of a test, in a network namespace of its own if asked."""

from realtime.dev.proxy import SHIPPED, prepare, render  # noqa: F401 - the tests' one import
from tests.support import stack


def nginx(name: str, *, upstreams: list[str], netns: str | None = None,
          listen: str | None = None, scale_everyone: bool = False) -> stack.Service:  # fmt: skip
    """nginx from the rendered file; ``.directory`` holds it (the caller removes it)."""
    argv, directory = prepare(name, upstreams=upstreams, listen=listen,
                              scale_everyone=scale_everyone)  # fmt: skip
    service = stack.Service(name, argv, netns=netns)
    service.directory = directory
    return service
