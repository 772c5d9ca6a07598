# Rightbrain developer commands.
#
#   make run     SQLite + in-process Celery + the demo login on http://127.0.0.1:8000
#   make test    the test suite (extra pytest arguments: make test ARGS="-k runs -x")
#   make lint    ruff format --check, ruff check, mypy
#
# `make run` and `make test` need only make and Python >= 3.12. The first call
# creates .venv and installs the project; later calls reinstall only when
# pyproject.toml has changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Port for `make run`; `make serve` reads $PORT from the environment (default 8000).
PORT ?= 8000
# celery beat keeps its schedule state in this file; inside .venv it is
# per-checkout, ignored by git and removed by `make clean`.
BEAT_SCHEDULE ?= $(VENV)/celerybeat-schedule
# Extra arguments for pytest: make test ARGS="tests/orgs -x".
ARGS ?=

# litellm downloads a price map on first import unless this is set.
export LITELLM_LOCAL_MODEL_COST_MAP ?= True

# pip on this machine kind prints a warning for every configured local index that
# does not exist; drop those lines. pipefail keeps pip's own exit status.
PIP_NOISE := is ignored: it is neither a file nor a directory
pip_install = $(PY) -m pip install --quiet $(1) 2>&1 | { grep -v -e '$(PIP_NOISE)' || true; }

RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: help run test lint fmt serve worker beat migrate clean venv env

help:
	@echo "make run      start Rightbrain on http://127.0.0.1:$(PORT) (SQLite, no services needed)"
	@echo "make test     run the test suite (pass pytest arguments with ARGS=...)"
	@echo "make lint     ruff format --check, ruff check, mypy"
	@echo "make fmt      ruff format + ruff check --fix"
	@echo "make migrate  apply database migrations and prepare the run-file store"
	@echo "make serve    production-style ASGI server (uvicorn; PORT, WEB_CONCURRENCY)"
	@echo "make env      create .env with a random SECRET_KEY for docker compose (never overwrites)"
	@echo "make worker   Celery worker (needs REDIS_URL or CELERY_BROKER_URL)"
	@echo "make beat     Celery beat scheduler (needs REDIS_URL or CELERY_BROKER_URL)"
	@echo "make clean    remove .venv, the SQLite database, collected static files, caches"

# --- the virtual environment -------------------------------------------------

# Django 6 needs Python >= 3.12. The machine's default python3 may be older, and
# pip there would quietly resolve an older Django, so look for a suitable one.
$(PY):
	@py=""; \
	if [ -n "$${PYTHON:-}" ]; then \
	  if "$$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    py="$$PYTHON"; \
	  else \
	    echo "PYTHON=$$PYTHON is not a Python >= 3.12 interpreter." >&2; exit 1; \
	  fi; \
	else \
	  for candidate in python3.12 python3.13 python3.14 python3 \
	      $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 \
	      /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	    if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	      py="$$candidate"; break; \
	    fi; \
	  done; \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "Rightbrain needs Python 3.12 or newer, and none was found." >&2; \
	  echo "Install Python 3.12+ (python.org, your package manager, or 'pyenv install 3.12')," >&2; \
	  echo "or point to one: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py (Python $$("$$py" -c 'import platform; print(platform.python_version())'))"; \
	if ! "$$py" -m venv $(VENV); then rm -rf $(VENV); echo "Could not create $(VENV)." >&2; exit 1; fi

venv: $(PY)

# Refuse a venv made earlier with a too-old Python instead of failing obscurely.
define check_venv_python
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "$(VENV) was made with Python $$($(PY) -c 'import platform; print(platform.python_version())'); Rightbrain needs 3.12+. Run: make clean" >&2; exit 1; }
endef

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(check_venv_python)
	@echo "Installing Rightbrain and its dependencies into $(VENV) ..."
	@$(call pip_install,-e .)
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(check_venv_python)
	@echo "Installing Rightbrain with development tools into $(VENV) ..."
	@$(call pip_install,-e '.[dev]')
	@touch $(RUNTIME_STAMP) $@

# --- everyday targets ----------------------------------------------------------

run: $(RUNTIME_STAMP)
	@echo "Applying database migrations ..."
	@$(PY) manage.py migrate --noinput -v 0
	@echo "================================================================"
	@$(PY) manage.py seed_demo
	@echo
	@echo "  Open http://127.0.0.1:$(PORT)/ and sign in with the login above."
	@echo "  Press Ctrl-C to stop."
	@echo "================================================================"
	@$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(DEV_STAMP)
	$(PY) -m pytest $(ARGS)

# Runs all three checks and fails at the end if any failed.
lint: $(DEV_STAMP)
	@status=0; \
	echo "+ ruff format --check ."; $(VENV)/bin/ruff format --check . || status=1; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || status=1; \
	echo "+ mypy rightbrain tasks_app runs_app sharing"; \
	$(VENV)/bin/mypy rightbrain tasks_app runs_app sharing || status=1; \
	exit $$status

fmt: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Once per deploy: the database, then the run-file store (creates the bucket
# when RB_S3_BUCKET names one that is missing; nothing to do on local disk).
migrate: $(RUNTIME_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py prepare_file_store

# --- production-style processes ------------------------------------------------
# The same command lines as the Dockerfile's CMD and compose.yaml's services.

serve: $(RUNTIME_STAMP)
	$(PY) manage.py collectstatic --noinput -v 0
	$(VENV)/bin/uvicorn rightbrain.asgi:application --host 0.0.0.0 --port $${PORT:-8000} --workers $${WEB_CONCURRENCY:-2} --proxy-headers

# For docker compose, which reads .env on every command. An existing .env is
# left alone: a new key would sign everyone out and make stored encrypted
# secrets unreadable.
env:
	@if [ -e .env ]; then \
	  echo ".env exists; leaving it unchanged."; \
	else \
	  key="$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  (umask 077; sed "s|^SECRET_KEY=\$$|SECRET_KEY=$$key|" .env.example > .env); \
	  echo "Created .env with a random SECRET_KEY."; \
	fi

define require_broker
	@if [ -z "$${CELERY_BROKER_URL:-}$${REDIS_URL:-}" ]; then \
	  echo "make $@ needs a broker: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) or CELERY_BROKER_URL." >&2; \
	  echo "Without one, Celery tasks run inside the web process and no $@ is needed." >&2; \
	  exit 1; \
	fi
endef

worker: $(RUNTIME_STAMP)
	$(require_broker)
	$(VENV)/bin/celery -A rightbrain worker -l info

beat: $(RUNTIME_STAMP)
	$(require_broker)
	$(VENV)/bin/celery -A rightbrain beat -l info --schedule $(BEAT_SCHEDULE)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-journal staticfiles \
	  .pytest_cache .mypy_cache .ruff_cache rightbrain.egg-info
