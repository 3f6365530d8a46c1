"""Browsers for live tests against a real Daphne: the lobby API over plain HTTP with a cookie
jar, and match sockets through the `websockets` client sending Origin and Cookie headers as a
browser does."""

import asyncio
import http.client
import json
import time
from collections.abc import Callable
from http.cookies import SimpleCookie

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from matches.titles import wire, wirecodec


class Browser:
    """Plain HTTP with a cookie jar that, like a browser on localhost, ignores `Secure`."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        host, _, port = origin.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if method == "POST" and "csrftoken" not in self.cookies:
            self.request("GET", "/api/csrf")
        headers = {"Origin": self.origin, "Cookie": self.cookie_header}
        data = None
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
            headers["Content-Type"] = "application/json"
            data = json.dumps(body or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def post(self, path: str, body: dict | None = None) -> dict:
        status, reply = self.request("POST", path, body)
        assert status in (200, 201), (status, reply)
        return reply


class Client:
    """One socket: answers server pings, keeps every message, may play through ``policy``."""

    def __init__(self, ws: ClientConnection, welcome: dict) -> None:
        self.ws, self.welcome = ws, welcome
        self.states: list[tuple[float, dict, str | bytes]] = []  # (arrival, message, raw)
        # A compact socket decodes binary frames as codec.js does, and asks for a keyframe
        # after a delta it cannot apply; ``drop_next`` makes it lose that many frames.
        self.decoder = (wirecodec.Decoder(wire.Schema(welcome["wire"]))
                        if welcome.get("encoding") == "compact" else None)  # fmt: skip
        self.frames: list[tuple[bool, int]] = []  # (keyframe, size) of each binary frame
        self.resyncs = 0
        self._resync_at = 0.0
        self.drop_next = 0
        self.errors: list[dict] = []
        self.policy: Callable[[dict], dict | None] | None = None
        self.seq = 0
        self.task: asyncio.Task | None = None

    @classmethod
    async def open(cls, origin: str, public_id: str, *, cookie: str = "", encoding: str = "",
                   **kwargs) -> "Client":  # fmt: skip
        headers = {"Origin": kwargs.pop("send_origin", origin)}
        if cookie:
            headers["Cookie"] = cookie
        query = f"?encoding={encoding}" if encoding else ""
        ws = await connect(f"ws://{origin.removeprefix('http://')}/ws/matches/{public_id}/{query}",
                           additional_headers=headers, ping_interval=None, **kwargs)  # fmt: skip
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        return cls(ws, welcome)

    def start(self) -> "Client":
        self.task = asyncio.ensure_future(self.run())
        return self

    async def run(self) -> None:
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    message = await self._decode(raw)
                    if message is None:
                        continue
                else:
                    message = json.loads(raw)
                kind = message["type"]
                if kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong", "id": message["id"]}))
                elif kind == "state":
                    self.states.append((time.monotonic(), message, raw))
                    if self.policy is not None:
                        move = self.policy(message)
                        if move is not None:
                            await self.send_input(move)
                elif kind == "error":
                    self.errors.append(message)
        except ConnectionClosed:
            pass

    async def _decode(self, frame: bytes) -> dict | None:
        self.frames.append((frame[0] == wirecodec.KEYFRAME, len(frame)))
        if self.drop_next:
            self.drop_next -= 1
            return None
        try:
            return self.decoder.decode(frame)
        except wire.WireError:
            self.decoder.frame = None  # only a keyframe applies now
            if not self.resyncs or time.monotonic() - self._resync_at > 0.6:
                self.resyncs += 1
                self._resync_at = time.monotonic()
                await self.ws.send(json.dumps({"type": "resync", "v": 1}))
            return None

    async def send_input(self, move: dict) -> None:
        self.seq += 1
        await self.ws.send(json.dumps({"type": "input", "v": 1, "seq": self.seq, "input": move}))

    async def until(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    def last(self) -> dict | None:
        return self.states[-1][1] if self.states else None

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            await self.task


def tracker(slot: int) -> Callable[[dict], dict | None]:
    """A scripted player: the paddle follows the ball; a move is sent when it changes, and
    again every 5 states received while the state does not show it (as a browser re-sends
    after an ``unavailable`` refusal: one lost input must not stall the paddle)."""
    current = {"dir": None, "since": 0}

    def policy(message: dict) -> dict | None:
        state = message["state"]
        paddle = state["paddles"][slot]
        diff = state["ball"]["y"] - paddle["y"]
        wanted = 0 if abs(diff) < 6 else (1 if diff > 0 else -1)
        if wanted == current["dir"]:
            current["since"] += 1
            if paddle["dir"] == wanted or current["since"] % 5:
                return None
        else:
            current["dir"], current["since"] = wanted, 0
        return {"dir": wanted}

    return policy


def signed_in(origin: str, *names: str) -> list[Browser]:
    """A browser per display name, each with its player made (``POST /api/me``)."""
    browsers = [Browser(origin) for _ in names]
    for browser, name in zip(browsers, names, strict=True):
        browser.post("/api/me", {"display_name": name})
    return browsers


async def pong_players(origin: str) -> tuple[Browser, Client, Client]:
    """ann and bob signed in, in a new Pong match over sockets: ann's browser and both sockets."""
    ann, bob = signed_in(origin, "ann", "bob")
    public_id = ann.post("/api/matches", {"title": "pong"})["match"]["id"]
    bob.post(f"/api/matches/{public_id}/join")
    a = (await Client.open(origin, public_id, cookie=ann.cookie_header)).start()
    b = (await Client.open(origin, public_id, cookie=bob.cookie_header)).start()
    return ann, a, b
