"""The match state store in Redis: keys, the lease, the fenced commit.

Everything a running match needs lives here, never only in a worker's memory, so any tick
worker on any host can resume any match. Keys of one match share the hash tag ``{m:<id>}``
(one slot on a Redis Cluster).

    m:{id}:meta     hash   title, public_id, tick_hz, players, bots (set once, at begin)
    m:{id}:state    hash   state (JSON), tick, epoch, status, result, snapshot (the last
                           encoded state message), absent (slots whose socket dropped)
    m:{id}:lease    string the runner's token, with a TTL the runner renews every tick
    m:{id}:epoch    int    fencing epoch, +1 at every lease acquisition
    m:{id}:inputs   list   pending inputs and presence changes, JSON, pushed by the gateway
                           and taken by the runner with one LPOP (a count) a tick
    m:{id}:stats    hash   tick statistics (written about once a second)
    m:{id}:control  string a stop request (admin action, shutdown of a match)
    m:{id}:log      stream every applied input and forfeit, by tick (the replay's input)
    matches:finished zset  match id -> time its final state was written (for retention)
"""

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

from realtime import protocol

FINISHED_INDEX = "matches:finished"
DISPATCH_MARK_MS = 3000


def key(match_id: int, part: str) -> str:
    return f"m:{{{match_id}}}:{part}"


@cache
def client() -> redis.Redis:
    """One client (and connection pool) per process, shared by every match it runs.

    A blocking pool: when a worker takes on a burst of matches (a restart hands it hundreds),
    every acquisition and every hand-back runs at once; past the pool's size they wait for a
    connection instead of failing with "Too many connections".
    """
    pool = redis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=100, timeout=10,
        socket_connect_timeout=2, socket_timeout=5, health_check_interval=10,
    )  # fmt: skip
    return redis.Redis(connection_pool=pool)


def group_name(public_id: str) -> str:
    return f"match.{public_id}"


def new_token() -> str:
    """A lease token that also says who holds it (for operators reading Redis)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


# Take the lease if it is free; each acquisition moves the fencing epoch forward.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""

# The fenced write of one tick: only the lease holder of the current epoch may write, and
# the same call renews the lease and publishes the tick's message (one round trip per tick).
# Returns 1 written, 0 lease lost, -1 stale epoch, -2 stop requested (state not written).
_COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
if redis.call('EXISTS', KEYS[4]) == 1 then return -2 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[3], 'state', ARGV[4], 'tick', ARGV[5], 'epoch', ARGV[2],
           'status', ARGV[6], 'snapshot', ARGV[9], 'absent', ARGV[13])
if ARGV[6] == 'finished' then
  redis.call('HSET', KEYS[3], 'result', ARGV[10])
  redis.call('ZADD', KEYS[5], ARGV[11], ARGV[12])
  redis.call('DEL', KEYS[1])  -- nothing left to run: the lease goes with the last tick
end
if ARGV[14] ~= '' then redis.call('XADD', KEYS[6], '*', 't', ARGV[15], 'e', ARGV[14]) end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# A runner's stats flush (once a second per match): its histograms and the shared counters,
# as one script call that rides the tick batches instead of a round trip of its own.
_FLUSH_STATS = """
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'updated', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'rate', ARGV[3]) end
for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""


class Scripts:
    def __init__(self, r: redis.Redis) -> None:
        self.flush_stats = r.register_script(_FLUSH_STATS)
        self.acquire = r.register_script(_ACQUIRE)
        self.commit = r.register_script(_COMMIT)
        self.release = r.register_script(_RELEASE)


@cache
def scripts() -> Scripts:
    return Scripts(client())


@dataclass(frozen=True)
class Meta:
    match_id: int
    public_id: str
    title: str
    tick_hz: int
    players: int
    bots: tuple[int, ...]

    @classmethod
    def load(cls, match_id: int, r: redis.Redis | None = None) -> "Meta | None":
        raw = (r or client()).hgetall(key(match_id, "meta"))
        if not raw:
            return None
        return cls(
            match_id=match_id,
            public_id=raw[b"public_id"].decode(),
            title=raw[b"title"].decode(),
            tick_hz=int(raw[b"tick_hz"]),
            players=int(raw[b"players"]),
            bots=tuple(json.loads(raw[b"bots"])),
        )


def init_match(*, meta: Meta, state: dict, snapshot: dict) -> bool:
    """Write a match's metadata and initial state once; False if it was there already."""
    r = client()
    written = r.hsetnx(key(meta.match_id, "state"), "state", json.dumps(state))
    if not written:
        return False
    pipe = r.pipeline()
    pipe.hset(
        key(meta.match_id, "meta"),
        mapping={
            "public_id": meta.public_id,
            "title": meta.title,
            "tick_hz": meta.tick_hz,
            "players": meta.players,
            "bots": json.dumps(list(meta.bots)),
        },
    )
    pipe.hset(
        key(meta.match_id, "state"),
        mapping={"tick": state.get("tick", 0), "epoch": 0, "status": "running",
                 # Encoded as the runner encodes every tick: the gateway sends it verbatim.
                 "snapshot": protocol.encode_state(tick=state.get("tick", 0), snapshot=snapshot)},
    )  # fmt: skip
    pipe.execute()
    return True


def load_state(match_id: int) -> dict | None:
    raw = client().hgetall(key(match_id, "state"))
    if not raw:
        return None
    out = {k.decode(): v for k, v in raw.items()}
    return {
        "state": json.loads(out["state"]),
        "tick": int(out.get("tick", 0)),
        "epoch": int(out.get("epoch", 0)),
        "status": out.get("status", b"running").decode(),
        "result": json.loads(out["result"]) if "result" in out else None,
        # slot -> wall time its socket dropped (JSON keys are strings)
        "absent": {int(k): v for k, v in json.loads(out.get("absent", b"{}")).items()},
    }


def push_input(*, match_id: int, slot: int, tick: int, payload: dict) -> None:
    client().rpush(
        key(match_id, "inputs"), json.dumps({"slot": slot, "tick": tick, "input": payload})
    )


def push_presence(*, match_id: int, slot: int, connected: bool, at: float | None = None) -> None:
    """A player's socket came or went; the runner pauses or starts the forfeit clock."""
    item = {"slot": slot, "presence": "on" if connected else "off", "at": at or time.time()}
    client().rpush(key(match_id, "inputs"), json.dumps(item))


def lease_holder(match_id: int) -> str | None:
    value = client().get(key(match_id, "lease"))
    return value.decode() if value else None


def request_stop(match_id: int, reason: str) -> None:
    client().set(key(match_id, "control"), reason)


def mark_dispatched(match_id: int) -> bool:
    """True for the first caller in a short window: one dispatch per lease gap, not one per beat."""
    return bool(client().set(key(match_id, "dispatched"), "1", nx=True, px=DISPATCH_MARK_MS))


def load_log(match_id: int) -> list[list]:
    """The input log: ``[[tick, [[\"i\", slot, input] | [\"f\", slot], ...]], ...]`` in order."""
    return [
        [int(fields[b"t"]), json.loads(fields[b"e"])]
        for _, fields in client().xrange(key(match_id, "log"))
    ]


def push_forfeit(*, match_id: int, slot: int, reason: str) -> None:
    """Make a player forfeit at the next tick (staff kicked them, or they gave up)."""
    item = {"slot": slot, "forfeit": True, "reason": reason}
    client().rpush(key(match_id, "inputs"), json.dumps(item))


def load_stats(match_id: int) -> dict:
    raw = client().hget(key(match_id, "stats"), "json")
    return json.loads(raw) if raw else {}


def drop_match(match_id: int) -> None:
    r = client()
    r.delete(*(key(match_id, part) for part in (
        "meta", "state", "lease", "epoch", "inputs", "stats", "control", "dispatched", "log",
        "sockets", "rtt",  # the gateway's (realtime.gateway.seats)
    )))  # fmt: skip
    r.zrem(FINISHED_INDEX, match_id)
