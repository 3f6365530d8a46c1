# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make run   the whole system (Redis, Daphne, tick worker, default worker, beat)
#   make test  linters and the Django test suite against real Redis and the configured database
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format deps clean

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

test: lint
	$(BIN)/python manage.py test --noinput $(TESTS)

clean:
	rm -rf $(VENV) var
