# Kundenportal – the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev
# The address in invitation and e-mail links (portal/settings/base.py reads it).
export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test install migrate demo schedules lint check bench messages clean lock e2e

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(PY) requirements.lock pyproject.toml
	$(PIP) install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py seed_demo

schedules: migrate
	$(PY) manage.py setup_schedules

## make run: venv, install, migrate, demo data, schedules; serve with a django-q2 worker beside it
## (manage.py serve: Ctrl-C stops both). E-mail links follow HOST and PORT unless PORTAL_BASE_URL is set.
run: demo schedules
	@echo "Portal: http://$(HOST):$(PORT)/   (admin: http://$(HOST):$(PORT)/admin/, links in e-mails: $(PORTAL_BASE_URL)/)"
	PORTAL_BASE_URL="$(PORTAL_BASE_URL)" $(PY) manage.py serve --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite; with DATABASE_URL set, on PostgreSQL
test: install
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## make bench: benchmarks, reported as ratios against a baseline measured in the same run
## (BENCH=bench_load runs one; the load benchmark needs PostgreSQL, Redis and wrk)
bench: install
	@case "$(BENCH)" in ""|*bench_load*) command -v wrk >/dev/null 2>&1 || { \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || { \
	  echo "The load benchmark needs wrk (apt-get install wrk)."; exit 1; } ;; esac
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m tests.perf.run $(BENCH)

## make messages: refresh locale/*/django.po and the committed .mo files (needs GNU gettext)
messages: install
	$(PY) manage.py makemessages -l de -l en --ignore=.venv --ignore=var --ignore=tests --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

## make lock: refresh requirements.lock from pyproject.toml (needs network to PyPI)
lock:
	rm -rf /tmp/portal-lock && $(PYTHON) -m venv /tmp/portal-lock
	/tmp/portal-lock/bin/pip install --quiet --upgrade pip
	/tmp/portal-lock/bin/pip install --quiet ".[dev]"
	/tmp/portal-lock/bin/pip freeze --exclude managed-it-portal > requirements.lock

clean:
	rm -rf var/static var/mail .pytest_cache
