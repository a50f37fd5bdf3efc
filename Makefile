# LungLab: `make run` starts it, `make test` runs every test. Both install what they need first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
DEMO_DATA := $(SHARED)/data
export LUNGLAB_SHARED_DIR := $(SHARED)

.PHONY: install venv web browser run test test-fast lint bench clean audit

install: venv web

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of PyTorch (the file on this machine's disk); for a GPU build use `pip install torch` from your index first
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

web: web/dist/index.html

web/dist/index.html: $(shell find web/src web/scripts web/index.html web/package.json web/package-lock.json web/vite.config.ts -type f 2>/dev/null)
	cd web && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund) && npm run build

browser:
	@(test -x /usr/bin/chromium && test -x /usr/sbin/Orthanc && test -n "$$(ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so* 2>/dev/null)") || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium orthanc orthanc-dicomweb >/dev/null)

run: install
	$(BIN)/lunglab migrate
	$(BIN)/lunglab run --host 127.0.0.1 --port 8000 $(if $(wildcard $(DEMO_DATA)),--demo-data $(DEMO_DATA),)

test: install browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider --db sqlite -m "not e2e"

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/segment.py

clean:
	rm -rf $(VENV) web/node_modules web/dist

audit: venv
	# needs a machine that reaches PyPI's and npm's vulnerability services (see docs/reliability.md)
	$(BIN)/pip install -q pip-audit
	$(BIN)/pip-audit --skip-editable $(foreach id,$(shell grep -oE '^\| [A-Z][A-Z0-9]+-[0-9A-Za-z-]+' docs/audit-exceptions.md 2>/dev/null | cut -c3-),--ignore-vuln $(id))
	cd web && npm audit --omit=dev
