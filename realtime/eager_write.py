"""Daphne's sockets write at once when nothing is queued ahead (an eager write).

Twisted buffers every `transport.write` and sends it on the reactor's next turn: under the
asyncio reactor that is an epoll registration, a loop iteration, a `send` and an epoll
de-registration per write. The tick fan-out writes one small frame per socket per tick, so
that path was the largest part of Daphne's remaining cost per update (py-spy,
docs/benchmarks.md). When a socket has nothing buffered, trying `send` first is what most
event loops do (asyncio's own transports included); whatever the kernel does not take, and
any error, goes the usual buffered way, so ordering and error handling are Twisted's.
"""

from twisted.internet import tcp

_buffered_write = tcp.Connection.write


def _eager_write(self, data: bytes) -> None:
    if (
        self.TLS
        or not data
        or not self.connected
        or self._writeDisconnected
        or self._tempDataLen
        or len(self.dataBuffer) != self.offset
    ):
        _buffered_write(self, data)
        return
    try:
        sent = self.socket.send(data)
    except OSError:
        sent = 0  # EAGAIN, or a broken socket: doWrite meets it and reports it as usual
    if sent < len(data):
        _buffered_write(self, data[sent:])


def install() -> None:
    tcp.Connection.write = _eager_write
