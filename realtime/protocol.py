"""Server → client messages that the tick runner produces (see docs/protocol.md).

A tick's state message is encoded here once and the same bytes go to every client.
"""

import orjson

PROTOCOL_VERSION = 1


def _dumps(message: dict) -> str:
    return orjson.dumps(message).decode()


def encode_state(*, tick: int, snapshot: dict, paused: list[int] | None = None) -> str:
    message = {"type": "state", "v": PROTOCOL_VERSION, "tick": tick, "state": snapshot}
    if paused:
        message["paused"] = paused  # slots whose players are away; the title waits for them
    return _dumps(message)


def encode_over(*, tick: int, result: dict) -> str:
    return _dumps({"type": "over", "v": PROTOCOL_VERSION, "tick": tick, "result": result})
