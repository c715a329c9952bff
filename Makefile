# OpenNCII — set-up and checks. `make run` serves the app; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# What serving needs only (`make run`); the dev stamp implies it.
RUN_STAMP := $(VENV)/.installed

.PHONY: run test lint types pytest bench clean web-vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml setup.py src/openncii/index/_mih.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# libheif's WebAssembly build, from the npm registry, served by us to read HEIC photos in the
# browser (installed here, never copied into the repository). Without npm the web app still
# works and says kindly that this browser cannot read HEIC photos.
WEB_VENDOR := src/openncii/web/static/vendor
LIBHEIF := $(WEB_VENDOR)/node_modules/libheif-js/libheif-wasm/libheif-bundle.mjs
LIBHEIF_VERSION := 1.23.2

$(LIBHEIF):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --prefix $(WEB_VENDOR) --no-save --no-audit --no-fund --no-package-lock \
			libheif-js@$(LIBHEIF_VERSION); \
	else \
		echo "npm is missing: HEIC photos will not be read in the browser (apt-get install npm)"; \
	fi

web-vendor: $(LIBHEIF)

$(STAMP): pyproject.toml setup.py src/openncii/index/_mih.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@ $(RUN_STAMP)

# Create the virtual environment, install what serving needs, migrate the embedded SQLite
# database and serve the app on http://127.0.0.1:8000 (OPENNCII_HOST, OPENNCII_PORT and every
# other OPENNCII_* setting apply: `OPENNCII_PORT=8001 make run`).
run: $(RUN_STAMP) $(LIBHEIF)
	$(BIN)/openncii serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy --strict src

pytest: $(STAMP) $(LIBHEIF)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Install what the tests need and run the whole suite: lint, types, tests.
test: lint types pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/web/.node artifacts $(WEB_VENDOR)
