# Aniworld — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv browser run migrate static test test-faults format bench demo demo-reset clean

help:
	@echo "make run    set up everything and start web + worker + beat (+ embedded Redis) on http://127.0.0.1:8000"
	@echo "make test   run linters and the whole test suite (says what it skipped)"
	@echo "make test-faults  run only the fault tests (killed processes, clean stops); each prints its timings"
	@echo "make demo   run against the offline fake catalog site with a demo library"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make format apply ruff formatting and fixes"

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements/base.txt requirements/dev.txt
	$(PIP) install --quiet -r requirements/dev.txt
	@touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

static: venv
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: migrate static
	$(PY) -m aniworld_site.stack

# Browser tests drive Debian's Chromium. As root (CI, containers) it is installed when missing;
# otherwise the command to run is printed and the browser tests skip (under CI=true a skip fails the run).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Chromium is missing: browser tests will be skipped. Install it with: sudo apt-get install chromium"; \
	fi

test: venv browser
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m tests.run

test-faults: venv
	$(PY) -m tests.run --faults

demo: venv
	$(PY) -m tests.fakesite.demo

demo-reset: venv
	$(PY) -m tests.fakesite.demo --reset

bench: venv
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
