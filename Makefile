# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make run   the whole system (Redis, Daphne, tick worker, default worker, beat)
#   make test  linters and the Django test suite against real Redis and the configured database
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format deps clean bench soak bench-net bench-supervisor chaos fuzz browser prometheus nginx postgres

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

deps: $(STAMP)

run: deps
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runstack --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Debian's Chromium for the browser tests (tests/frontend): Playwright cannot download its
# own browsers on machines without general network access. sudo only when not root.
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

# Debian's Prometheus (and promtool) for tests/deploy/test_prometheus.py, which runs it against
# the live stack; the test starts its own server on a free port.
prometheus:
	@command -v prometheus >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus; }

# Debian's nginx for tests/chaos/test_hosts.py, which runs it (from deploy/nginx.conf) in a
# network namespace of its own in front of two app hosts' Daphnes.
nginx:
	@test -x /usr/sbin/nginx || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx; }

# PostgreSQL's server binaries (initdb, pg_ctl) for tests/chaos/test_postgres_outage.py, which
# makes a private cluster on a free port; no cluster of the package's own is needed.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }

test: lint browser prometheus nginx postgres
	$(BIN)/python manage.py test --noinput $(TESTS)

# Fault injection on the real stack; every scenario writes what it measured to
# var/chaos/results.json (they are part of `make test` too). The reconnect stampede runs
# 1,000 players here (STAMPEDE_PLAYERS); `make test` runs it with its default of 200, which
# keeps it near a minute.
chaos: deps nginx postgres
	rm -f var/chaos/results.json
	STAMPEDE_PLAYERS=$${STAMPEDE_PLAYERS:-1000} \
	$(BIN)/python manage.py test --noinput tests.chaos tests.realtime.engine.test_engine_live $(CHAOS_TESTS)
	@cat var/chaos/results.json

# Every input surface fuzzed at volume (tests/fuzz; `make test` runs the same tests on a small
# budget): FUZZ_FRAMES socket frames and FUZZ_REQUESTS HTTP requests in all, the table printed
# from var/fuzz/results.json. DATABASE_URL=postgres://... runs the requests on PostgreSQL;
# FUZZ_TESTS=tests.fuzz.test_frames runs one surface's module.
fuzz: deps
	rm -f var/fuzz/results.json
	FUZZ_FRAMES=$${FUZZ_FRAMES:-1000000} FUZZ_REQUESTS=$${FUZZ_REQUESTS:-100000} \
	$(BIN)/python manage.py test --noinput $${FUZZ_TESTS:-tests.fuzz}
	@DEBUG=1 DJANGO_SETTINGS_MODULE=config.settings $(BIN)/python -m tests.fuzz.budget

# The capacity benchmark: the whole stack on its own Redis and database under var/bench/.
#   make bench ARGS="--fixed-matches 150"   CPU per delivered update at a fixed load (no ramp)
#   make bench ARGS=--with-peer              then the Colyseus peer, same load (needs node)
#   make bench ARGS="--daphnes 2"            two Daphnes behind nginx (deploy/nginx.conf)
bench: deps
	mkdir -p var/bench
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/var/bench/db.sqlite3} \
	PRIVATE_REDIS_PORT=$${BENCH_REDIS_PORT:-6393} DEBUG=1 \
	$(BIN)/python manage.py bench_capacity $(ARGS)

# The soak: the whole stack for MINUTES (30) under the whole match lifecycle, sampled every
# minute, checked at the end; var/soak/results.json, the chart in docs/benchmarks/soak.svg.
# A fresh database each run: the checks count every result and rating in it.
MINUTES ?= 30
soak: deps
	mkdir -p var/soak
	rm -f var/soak/db.sqlite3
	DATABASE_URL=$${SOAK_DATABASE_URL:-sqlite:///$(CURDIR)/var/soak/db.sqlite3} \
	PRIVATE_REDIS_PORT=$${SOAK_REDIS_PORT:-6395} DEBUG=1 \
	$(BIN)/python manage.py soak --minutes $(MINUTES) --doc $(ARGS)

# The supervisor pass with 10,000 running matches (rows and Redis state) on a Redis of its own.
# The client under a real network: Chromium through each impairment profile (docs/benchmarks.md).
bench-net: deps browser
	mkdir -p var/bench
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/var/bench/network.sqlite3} \
	PRIVATE_REDIS_PORT=$${BENCH_REDIS_PORT:-6393} DEBUG=1 \
	$(BIN)/python manage.py bench_network --json var/bench/network.json $(ARGS)

bench-supervisor: deps
	mkdir -p var/bench
	DATABASE_URL=$${BENCH_DATABASE_URL:-sqlite:///$(CURDIR)/var/bench/supervisor.sqlite3} \
	PRIVATE_REDIS_PORT=$${BENCH_REDIS_PORT:-6394} DEBUG=1 \
	$(BIN)/python manage.py bench_supervisor --matches $${MATCHES:-10000}

clean:
	rm -rf $(VENV) var
