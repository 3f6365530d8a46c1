"""Every Redis key and every Lua script of the system, and the sync client.

Whoever reads or writes Redis (the tick worker, the gateway, the lobby, ops) takes its key
names and scripts from here, so the whole layout is on one page. Keys of one match share the
hash tag ``{m:<id>}`` (one slot on a Redis Cluster).

    m:{id}:meta      hash   title, public_id, tick_hz, players, bots (set once, at begin)
    m:{id}:state     hash   state (JSON), tick, epoch, status, result, snapshot (the last
                            state's group message as published: realtime.groups.snapshot_text
                            reads its text), acks (per slot, the last input seq applied),
                            absent (slots whose socket dropped)
    m:{id}:lease     string the runner's token, with a TTL the runner renews every tick
    m:{id}:epoch     int    fencing epoch, +1 at every lease acquisition
    m:{id}:inputs    list   pending inputs and presence changes, JSON, pushed by the gateway
                            and taken by the runner with one LPOP (a count) a tick
    m:{id}:stats     hash   tick statistics (written about once a second)
    m:{id}:spark     list   the last SPARK_SAMPLES stats flushes for the admin's sparklines,
                            each JSON [wall time, mean tick ms, mean jitter ms, sockets];
                            expires SPARK_TTL_S after the last flush
    m:{id}:control   string a stop request (admin action, shutdown of a match)
    m:{id}:keyframe  string a socket asked for a compact keyframe (join, resync): the commit
                            takes it and the runner's next state is one (short TTL)
    m:{id}:log       stream every applied input and forfeit, by tick (the replay's input)
    m:{id}:dispatched string a short mark: one dispatch per lease gap, not one per beat;
                            the runner that takes the lease clears it
    m:{id}:sockets   hash   slot -> channel name of the one socket playing that slot (gateway)
    m:{id}:rtt       hash   slot (or "spectator:<channel>") -> last round-trip time, ms (gateway)
    matches:finished zset   match id -> time its final state was written (for retention)
    metrics:p:<process> hash  one process's figures for /metrics: counters, histogram
                            buckets and gauges (fields in realtime.figures), added about once
                            a second (redis_reconnects:<connection> among the counters);
                            expires an hour after the process's last flush
    metrics:processes zset  process name -> time of its last flush (what /metrics scans)
    workers:ticks    zset   tick worker hostname -> time of its last heartbeat
    workers:ticks:<host> string {"pid", "at"} with a TTL (for operators reading Redis)
    mm:<title>:queue zset   quick play: player id -> last ask (ms), the live waiting players
    mm:<title>:since hash   quick play: player id -> first ask (ms), for the bot timeout
                            and the rating window
    mm:<title>:rating zset  quick play: player id -> rating (Elo, or OpenSkill's mu)
    mm:placed:<player> str  quick play: "pending" while the partner creates the match, then
                            its public id
    login:fail:user:<hash> int  failed log-ins for one username (a hash of it), TTL the window
    login:fail:addr:<addr> int  failed log-ins from one client address, TTL the window
    signup:addr:<addr>     int  accounts signed up from one client address, TTL the window

The channel layer's own keys (the group channels states are published on) are named in
``realtime.groups``.
"""

import hashlib
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass
from functools import cache

import redis

from realtime import redisconn

FINISHED_INDEX = "matches:finished"
DISPATCH_MARK_MS = 3000
MATCH_KEY_PARTS = ("meta", "state", "lease", "epoch", "inputs", "stats", "control",
                   "dispatched", "log", "sockets", "rtt", "spark", "keyframe")  # fmt: skip
KEYFRAME_ASK_TTL_MS = 5000
# Sparkline history: five minutes of once-a-second samples, kept a while after the match.
SPARK_SAMPLES = 300
SPARK_TTL_S = 600

PROCESSES = "metrics:processes"
PROCESS_TTL_S = 3600
REFUSED = "inputs_refused:"  # + reason
BROADCASTS = "broadcasts:"  # + kind
RECONNECTS = "redis_reconnects:"  # + connection: hub, inputs, ticks

TICK_WORKERS = "workers:ticks"


def key(match_id: int, part: str) -> str:
    return f"m:{{{match_id}}}:{part}"


def process_key(name: str) -> str:
    return f"metrics:p:{name}"


def tick_worker_key(hostname: str) -> str:
    return f"{TICK_WORKERS}:{hostname}"


def quickplay_keys(title: str) -> tuple[str, str, str]:
    """The queue, the first-ask hash and the ratings of a title's quick play."""
    return f"mm:{title}:queue", f"mm:{title}:since", f"mm:{title}:rating"


def quickplay_placed_key(player_id: int | str) -> str:
    return f"mm:placed:{player_id}"


def login_failure_keys(username: str, address: str) -> tuple[str, str]:
    """Failure counters of a log-in: the username (hashed: any text fits) and the address."""
    digest = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    return f"login:fail:user:{digest}", f"login:fail:addr:{address}"


def signup_key(address: str) -> str:
    """The counter of accounts made from one client address (LOGIN_GATE / LOGIN_FAILED)."""
    return f"signup:addr:{address}"


@cache
def client() -> redis.Redis:
    """One client (and connection pool) per process, shared by every match it runs.

    A blocking pool: when a worker takes on a burst of matches (a restart hands it hundreds),
    every acquisition and every hand-back runs at once; past the pool's size they wait for a
    connection instead of failing with "Too many connections".
    """
    return redisconn.sync_client(
        "store", blocking=True, max_connections=100, timeout=10,
        socket_connect_timeout=2, socket_timeout=5, health_check_interval=10,
    )  # fmt: skip


def new_token() -> str:
    """A lease token that also says who holds it (for operators reading Redis)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


# --- scripts of the tick worker --------------------------------------------------------------

# Take the lease if it is free; each acquisition moves the fencing epoch forward, and clears
# the dispatch mark (KEYS[3]): that dispatch was taken, so the next lease gap, however soon,
# is dispatched at once.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('DEL', KEYS[3])
  return redis.call('INCR', KEYS[2])
end
return 0
"""

# The fenced write of one tick: only the lease holder of the current epoch may write, and
# the same call renews the lease and publishes the tick's message (one round trip per tick),
# which it also keeps as the snapshot: the state's text crosses to Redis once.
# Returns 1 written, 0 lease lost, -1 stale epoch, -2 stop requested (state not written), 2
# written and a keyframe asked for (KEYS[7], taken).
COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
if redis.call('EXISTS', KEYS[4]) == 1 then return -2 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[3], 'state', ARGV[4], 'tick', ARGV[5], 'epoch', ARGV[2],
           'status', ARGV[6], 'snapshot', ARGV[8], 'acks', ARGV[9], 'absent', ARGV[13])
if ARGV[6] == 'finished' then
  redis.call('HSET', KEYS[3], 'result', ARGV[10])
  redis.call('ZADD', KEYS[5], ARGV[11], ARGV[12])
  redis.call('DEL', KEYS[1])  -- nothing left to run: the lease goes with the last tick
end
if ARGV[14] ~= '' then redis.call('XADD', KEYS[6], '*', 't', ARGV[15], 'e', ARGV[14]) end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
if redis.call('DEL', KEYS[7]) == 1 then return 2 end
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# A runner's stats flush (once a second per match): its histograms, its increments to its
# process's figures (KEYS[2]), and a sparkline sample (KEYS[3]) closed with the sockets open
# now (players in KEYS[4], spectators with an RTT in KEYS[5]), as one script call that rides
# the tick batches. ARGV: stats JSON, now, rate, sample head ('' for none), cap, TTL, the
# runner's epoch, pairs. The match's keys are fenced by the epoch (KEYS[6]), as COMMIT is: a
# cut-off runner's late flush cannot overwrite its successor's figures (returns 0); its
# process's own counts still count. Not by the lease: the last flush follows its release.
FLUSH_STATS = """
local current = redis.call('GET', KEYS[6]) == ARGV[7]
if current then
  redis.call('HSET', KEYS[1], 'json', ARGV[1], 'updated', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'rate', ARGV[3]) end
  if ARGV[4] ~= '' then
    local sockets = redis.call('HLEN', KEYS[4])
    for _, field in ipairs(redis.call('HKEYS', KEYS[5])) do
      if string.sub(field, 1, 10) == 'spectator:' then sockets = sockets + 1 end
    end
    redis.call('RPUSH', KEYS[3], ARGV[4] .. sockets .. ']')
    redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
    redis.call('EXPIRE', KEYS[3], ARGV[6])
  end
end
for i = 8, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
return current and 1 or 0
"""


def flush_stats_keys(match_id: int, process: str) -> list[str]:
    """KEYS of FLUSH_STATS for one match's runner."""
    return [key(match_id, "stats"), process_key(process), key(match_id, "spark"),
            key(match_id, "sockets"), key(match_id, "rtt"), key(match_id, "epoch")]  # fmt: skip


def spark_head(*, at: float, tick_ms: float, jitter_ms: float) -> str:
    """A sparkline sample but its last field, the socket count FLUSH_STATS appends."""
    return f"[{at:.1f},{tick_ms:.3f},{jitter_ms:.3f},"


def load_spark(match_id: int, r: redis.Redis | None = None) -> list[list]:
    """The sparkline samples, oldest first: ``[wall time, tick ms, jitter ms, sockets]``."""
    return [json.loads(raw) for raw in (r or client()).lrange(key(match_id, "spark"), 0, -1)]


# A process's own flush (about once a second): its increments, its gauges, its place in the
# index. KEYS: its hash, the index. ARGV: now, TTL s, its name, number of increment pairs,
# the increments, then the gauges (field, value pairs).
FLUSH_PROCESS = """
local n = tonumber(ARGV[4])
for i = 5, 4 + 2 * n, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 5 + 2 * n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
return 1
"""


def flush_process_args(name: str, increments: list, gauges: list, now: float) -> tuple:
    """KEYS and ARGV of FLUSH_PROCESS for one process."""
    keys = [process_key(name), PROCESSES]
    return keys, [now, PROCESS_TTL_S, name, len(increments) // 2, *increments, *gauges]


# The supervisor's pass: the positions (1-based) of the lease keys in KEYS that do not exist.
LEASE_GAPS = """
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 0 then out[#out + 1] = i end
end
return out
"""
GAPS_BATCH = 5000  # ids per LEASE_GAPS call: a few ms of Redis at most


# --- scripts of the gateway (run through redis.asyncio or its input pipe) --------------------

# The tick the input arrives at and the push, in one round trip; refused before the match
# runs, after it ends, and when the runner is too far behind to take more. ARGV: slot, input
# JSON, the queue's bound, seq, the tick asked for (`at`) or ''.
PUSH_INPUT = """
local st = redis.call('HMGET', KEYS[1], 'tick', 'status')
if not st[1] then return -1 end
if st[2] == 'finished' then return -2 end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -3 end
local at = ''
if ARGV[5] ~= '' then at = ',"at":' .. ARGV[5] end
redis.call('RPUSH', KEYS[2], '{"slot":' .. ARGV[1] .. ',"tick":' .. st[1] .. ',"seq":' .. ARGV[4]
  .. at .. ',"input":' .. ARGV[2] .. '}')
return tonumber(st[1])
"""
# Take a slot for this socket; the previous holder (if any) is returned, to be told.
CLAIM_SLOT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return old
"""
# Give a slot back only if this socket still holds it (a newer one may have taken over).
RELEASE_SLOT = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# --- scripts of quick play (realtime.lobby.matchmaking) -----------------------------------------

# KEYS: queue, since, placed key of the asking player, ratings. ARGV: player id, now ms,
# stale ms, bot-after ms, placed TTL s, prefix of placed keys, the player's rating, window
# base, window growth per s, seats, by rating (1) or first come (0), gather ms.
# Returns {kind, value}: placed <public id> | pending | waiting <ms waited> | bots |
# paired <comma-separated ids of the others>. By rating, the others are the waiting players
# closest in rating whose gap is within the wider of the two windows (base + growth x wait),
# up to seats - 1 of them, once they fill the seats or one of them has waited the gather time;
# first come, the one who waited longest. The others' placed keys
# are built here rather than passed in KEYS, because who they are gets decided inside the
# script (fine on a single Redis; the project does not run on Redis Cluster).
QUICKPLAY_STEP = """
local placed = redis.call('GET', KEYS[3])
if placed then
  if placed == 'pending' then return {'pending', ''} end
  redis.call('DEL', KEYS[3])
  return {'placed', placed}
end
local me, now = ARGV[1], tonumber(ARGV[2])
local cutoff = '(' .. (now - tonumber(ARGV[3]))
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)) do
  redis.call('HDEL', KEYS[2], gone)
  redis.call('ZREM', KEYS[4], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local since = tonumber(redis.call('HGET', KEYS[2], me) or now)
local rating = tonumber(ARGV[7])
redis.call('ZADD', KEYS[1], now, me)
redis.call('HSET', KEYS[2], me, since)
redis.call('ZADD', KEYS[4], rating, me)
local waited, bots_after = now - since, tonumber(ARGV[4])
local base, growth = tonumber(ARGV[8]), tonumber(ARGV[9]) / 1000
local function window(ms) return base + growth * ms end
local found = {}
if ARGV[11] == '1' then
  local reach, mine = window(bots_after), window(waited)
  local near = redis.call('ZRANGEBYSCORE', KEYS[4], rating - reach, rating + reach, 'WITHSCORES')
  local fits = {}
  for i = 1, #near, 2 do
    local other = near[i]
    if other ~= me then
      local gap = math.abs(tonumber(near[i + 1]) - rating)
      local theirs = window(now - tonumber(redis.call('HGET', KEYS[2], other) or now))
      if gap <= math.max(mine, theirs) then fits[#fits + 1] = {other, gap} end
    end
  end
  table.sort(fits, function(a, b)
    if a[2] == b[2] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for i = 1, math.min(#fits, tonumber(ARGV[10]) - 1) do found[i] = fits[i][1] end
  -- A band short of the seats gathers until one of it has waited the gather time.
  local oldest = waited
  for _, other in ipairs(found) do
    oldest = math.max(oldest, now - tonumber(redis.call('HGET', KEYS[2], other)))
  end
  if #found < tonumber(ARGV[10]) - 1 and oldest < tonumber(ARGV[12]) then found = {} end
else
  for _, other in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if other ~= me then found[1] = other break end
  end
end
if #found > 0 or waited >= bots_after then
  found[#found + 1] = me
  for _, who in ipairs(found) do
    redis.call('ZREM', KEYS[1], who)
    redis.call('HDEL', KEYS[2], who)
    redis.call('ZREM', KEYS[4], who)
    if who ~= me then redis.call('SET', ARGV[6] .. who, 'pending', 'EX', ARGV[5]) end
  end
  if #found == 1 then return {'bots', ''} end
  found[#found] = nil
  return {'paired', table.concat(found, ',')}
end
return {'waiting', tostring(waited)}
"""

QUICKPLAY_CANCEL = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
"""


# --- scripts of the log-in and sign-up limiters (realtime.lobby.accounts) ---------------------

# KEYS: username counter, address counter (the sign-up: its address counter alone). ARGV: the
# most per key. Returns 0 (go on) or the ms until the fuller counter's window ends (refused).
LOGIN_GATE = """
local wait = 0
for i = 1, #KEYS do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[i]) then wait = math.max(wait, redis.call('PTTL', KEYS[i]), 1) end
end
return wait
"""

# A failed log-in (a sign-up): its counters go up; the first of a window starts its clock.
LOGIN_FAILED = """
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
"""


class Scripts:
    """The tick worker's scripts, registered on the sync client."""

    def __init__(self, r: redis.Redis) -> None:
        self.flush_stats = r.register_script(FLUSH_STATS)
        self.acquire = r.register_script(ACQUIRE)
        self.commit = r.register_script(COMMIT)
        self.release = r.register_script(RELEASE)
        self.flush_process = r.register_script(FLUSH_PROCESS)
        self.lease_gaps = r.register_script(LEASE_GAPS)


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


def init_match(*, meta: Meta, state: dict, snapshot: bytes) -> bool:
    """Write a match's metadata and initial state once; False if it was there already.
    ``snapshot``: its state message as the commits keep it (``groups.first_snapshot``)."""
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
                 "snapshot": snapshot, "acks": json.dumps([0] * meta.players)},
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
        # per slot, the last input seq applied (as the last state message says)
        "acks": json.loads(out["acks"]) if "acks" in out else _acks_of_old(out),
    }


def _acks_of_old(saved: dict) -> list:
    """The acks of a state an earlier release's runner kept: in its snapshot text only."""
    snapshot = saved.get("snapshot", b"")
    return json.loads(snapshot).get("acks", []) if snapshot[:1] == b"{" else []


def push_presence(*, match_id: int, slot: int, connected: bool, at: float | None = None) -> None:
    """A player's socket came or went; the runner pauses or starts the forfeit clock."""
    item = {"slot": slot, "presence": "on" if connected else "off", "at": at or time.time()}
    client().rpush(key(match_id, "inputs"), json.dumps(item))


def lease_holder(match_id: int) -> str | None:
    value = client().get(key(match_id, "lease"))
    return value.decode() if value else None


def lease_gaps(match_ids: list[int]) -> list[tuple[int, str | None]]:
    """Of these matches, those without a lease, each with its state's status ("running" while
    it is being written; None: Redis has no state for it). One LEASE_GAPS call per GAPS_BATCH
    matches (an EXISTS each in Redis), then two reads per match without a lease (rare)."""
    unleased = []
    for start in range(0, len(match_ids), GAPS_BATCH):
        chunk = match_ids[start : start + GAPS_BATCH]
        found = scripts().lease_gaps(keys=[key(m, "lease") for m in chunk])
        unleased += [chunk[i - 1] for i in found]
    if not unleased:
        return []
    pipe = client().pipeline(transaction=False)
    for match_id in unleased:
        pipe.exists(key(match_id, "state"))
        pipe.hget(key(match_id, "state"), "status")
    replies = pipe.execute()
    return [
        (match_id, (status or b"running").decode() if exists else None)
        for match_id, exists, status in zip(unleased, replies[::2], replies[1::2], strict=True)
    ]


def request_stop(match_id: int, reason: str) -> None:
    client().set(key(match_id, "control"), reason)


def mark_dispatched(match_id: int) -> bool:
    """True for the first caller in a short window: one dispatch per lease gap, not one per beat."""
    return bool(client().set(key(match_id, "dispatched"), "1", nx=True, px=DISPATCH_MARK_MS))


def load_log(match_id: int) -> list[list]:
    """The input log: ``[[tick, [[\"i\", slot, input(, late)] | [\"f\", slot], ...]], ...]`` in
    order."""
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
        "spark", "keyframe",
    )))  # fmt: skip
    r.zrem(FINISHED_INDEX, match_id)
