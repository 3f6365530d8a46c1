"""A message flood against one match socket, as a separate process (no Django):

    python -m tests.chaos.flood <origin> <public_id> <total> <rate> <budget_s>

Pings at ``rate`` a second, ``total`` in all; a socket the server cuts off is replaced at once.
Prints one JSON line with what it saw; close codes as the client saw them (1006 where the
server's reset, after its close, beat the close frame to the client). The abuse scenario runs
it at the lowest CPU priority, so that on a shared test machine the attacker's own CPU does
not count against the server."""

import asyncio
import json
import sys
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PING = '{"type":"ping","t":1}'


async def flood(origin: str, public_id: str, *, total: int, rate: float,
                budget_s: float) -> dict:  # fmt: skip
    url = f"ws://{origin.removeprefix('http://')}/ws/matches/{public_id}/"
    sent = connections = answered_max = 0
    close_codes, errors = Counter(), set()
    start = time.monotonic()
    while sent < total and time.monotonic() - start < budget_s:
        ws = await connect(url, additional_headers={"Origin": origin}, ping_interval=None)
        connections += 1
        answers = []

        async def drain(ws=ws, answers=answers) -> None:
            try:
                async for raw in ws:
                    answers.append(json.loads(raw))
            except ConnectionClosed:
                pass

        reader = asyncio.ensure_future(drain())
        cut = False
        try:
            while sent < total and time.monotonic() - start < budget_s:
                ahead = start + sent / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
                for _ in range(50):
                    await ws.send(PING)
                    sent += 1
                await asyncio.sleep(0)  # let the reader see the close
        except ConnectionClosed:
            cut = True
        if not cut:  # the budget ran out on this socket before the server cut it
            await ws.close()
        await asyncio.wait_for(reader, 5)
        if cut:
            close_codes[int(ws.close_code or 0)] += 1
        errors |= {m["code"] for m in answers if m["type"] == "error"}
        answered_max = max(answered_max, sum(m["type"] == "pong" for m in answers))
    return {"sent": sent, "connections": connections, "seconds": round(time.monotonic() - start, 2),
            "close_codes": dict(close_codes), "errors": sorted(errors),
            "answered_max": answered_max}  # fmt: skip


if __name__ == "__main__":
    origin, public_id, total, rate, budget_s = sys.argv[1:6]
    result = asyncio.run(
        flood(origin, public_id, total=int(total), rate=float(rate), budget_s=float(budget_s))
    )
    print(json.dumps(result))
