# hopscreen — the two commands a user needs are `make screen` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install screen test test-fast test-slow bench lint lock clean

install: $(STAMP)

# torch first, with pip, so that the CPU wheel is used (uv/poetry would fetch a CUDA build).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

screen: $(STAMP)
	$(BIN)/hopscreen screen --demo --results results/demo
	$(BIN)/hopscreen report --results results/demo --out results/demo/report.html

# pytest exits 5 when a selection collects no test: not a failure of the code
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m slow -q || [ $$? -eq 5 ]

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

bench: $(STAMP)
	$(BIN)/hopscreen bench --out BENCHMARKS.md

lint: $(STAMP)
	$(BIN)/ruff check src tests flows
	$(BIN)/ruff format --check src tests flows

# Regenerate the lock file from the current environment (torch is pinned first, separately).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^torch==' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
