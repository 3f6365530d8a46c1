"""A TCP proxy in front of Redis that can black-hole connections without closing them: the
half-open connection a NAT or a proxy leaves behind when it silently drops a flow.

``freeze()`` stops forwarding on the connections open now (``new_too``: also on those opened
later); nothing is closed and what arrives meanwhile is held. ``thaw()`` forwards what was
held and carries on, so writes sent during the cut reach Redis late (stale).
"""

import contextlib
import socket
import threading


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket, frozen: bool) -> None:
        self.sockets = (client, upstream)
        self.flowing = threading.Event()
        if not frozen:
            self.flowing.set()
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self.flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Blackhole:
    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[_Pair] = []
        self.frozen_new = False
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.pairs.append(_Pair(client, upstream, self.frozen_new))

    def freeze(self, *, new_too: bool = False) -> int:
        """Black-hole the open connections (and later ones with `new_too`); how many."""
        with self._lock:
            self.frozen_new = new_too
            for pair in self.pairs:
                pair.flowing.clear()
            return len(self.pairs)

    def thaw(self) -> None:
        with self._lock:
            self.frozen_new = False
            for pair in self.pairs:
                pair.flowing.set()

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for pair in self.pairs:
                pair.flowing.set()
                pair.close()
