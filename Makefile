# The two commands: `make demo` and `make test`. Both start from nothing but python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/annexa demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# System packages some tests need, installed here when missing (CI runs as root on a fresh machine):
# Debian's chromium for the HTML report test, the PostgreSQL server the store, concurrency and
# scale-out tests start on loopback (tests/postgres.py), and systemd-analyze to verify the unit in
# deploy/. With ANNEXA_REQUIRE_SYSTEM_DEPS=1 those tests fail rather than skip.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing; installing needs root: sudo apt-get install$$missing"; fi; \
	fi

test: lint system-deps
	ANNEXA_REQUIRE_SYSTEM_DEPS=1 $(BIN)/pytest -n auto -q

bench: $(VENV)/.demo
	$(BIN)/python bench/collect_iam.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/github_org.py
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/period.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/vs_prowler.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache annexa-demo
