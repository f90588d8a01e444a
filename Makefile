# Two commands for a fresh machine (see README):
#   make demo   installs everything, loads the synthetic demo and serves it
#   make test   installs everything (Chromium too) and runs lint, types and the whole suite
# Everything is installed from the project's own files; re-running reuses what is installed.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test install assets chromium lint typecheck pytest clean

demo: install assets
	$(BIN)/accord demo --port $(PORT)

test: install assets chromium lint typecheck pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

assets: node_modules/.installed accord/web/static/vendor/.built

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

accord/web/static/vendor/.built: node_modules/.installed scripts/build-assets.mjs $(wildcard accord/web/assets_src/*.scss)
	npm run --silent build
	touch $@

# Browser tests use Debian's Chromium, never a downloaded browser build.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-liberation; }

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy accord

pytest:
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules accord/web/static/vendor
