# Altaviz — two commands: `make run` (set up everything, run the pipeline), `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# The interpreter: Fabric Runtime 2.0 runs Python 3.13, so the venv uses 3.13 when this machine has it,
# as `python3.13` on PATH or as an installed pyenv version that is not the active one (pyenv's shim
# then exists but fails, hence the probe runs each candidate); else python3 (3.11+). PYTHON=… overrides.
PYTHON_313 := $(shell for p in python3.13 $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
PYTHON ?= $(or $(PYTHON_313),python3)
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
# A venv remembers the interpreter version it was made with: another one (an older checkout's 3.11
# venv, a new 3.13) makes the stamp missing, and the venv is rebuilt rather than silently kept.
PYTHON_STAMP := $(VENV)/.python-$(PYTHON_VERSION)
LIB_SOURCES := $(shell find lib/src sql -type f -not -name '*.pyc' 2>/dev/null) lib/pyproject.toml
# Every package Fabric Runtime 2.0 ships gets the runtime's version (lib/fabric-runtime-2.0-constraints.txt).
RUNTIME_CONSTRAINTS := lib/fabric-runtime-2.0-constraints.txt
export ALTAVIZ_HOME ?= $(CURDIR)/.altaviz
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: setup run maintain train notebook bench test test-python test-frontend lint wheel dashboard db-stop clean

$(PYTHON_STAMP):
	@if [ -z "$(PYTHON_VERSION)" ]; then echo "no working Python interpreter: '$(PYTHON)' does not run" >&2; exit 1; fi
	@echo "Python $(PYTHON_VERSION): $(PYTHON)$(if $(filter 3.13.%,$(PYTHON_VERSION)),,$(if $(PYTHON_313), (PYTHON= chose it over $(PYTHON_313)), (Fabric Runtime 2.0 runs 3.13; none found here)))"
	@if [ -e $(VENV) ]; then old=$$(ls $(VENV)/.python-* 2>/dev/null | sed 's|.*/.python-||'); echo "rebuilding $(VENV), made with Python $${old:-of unknown version}"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

# The wheel, not an editable install: tests and notebooks use exactly what Fabric would install.
$(VENV)/.altaviz-installed: $(PYTHON_STAMP) $(LIB_SOURCES) $(RUNTIME_CONSTRAINTS)
	$(BIN)/pip install --quiet -c $(RUNTIME_CONSTRAINTS) './lib[local,dev,predict]'
	$(BIN)/pip install --quiet --no-deps --force-reinstall ./lib
	touch $@

setup: $(VENV)/.altaviz-installed

run: setup
	$(BIN)/altaviz run $(RUN_ARGS)

# Weekly table maintenance (OPTIMIZE, then VACUUM with the configured retention): the Fabric
# pipeline altaviz_maintenance, run locally.
maintain: setup
	$(BIN)/altaviz run --pipeline pipelines/altaviz_maintenance.DataPipeline/pipeline-content.json $(RUN_ARGS)

# Model training (06_train: fit, evaluate, register): the Fabric pipeline altaviz_training, run locally.
# RUN_ARGS="-p training_data=lakehouse" trains on this state folder's own gold tables and work orders.
train: setup
	$(BIN)/altaviz run --pipeline pipelines/altaviz_training.DataPipeline/pipeline-content.json $(RUN_ARGS)

# The notebooks in JupyterLab (http://localhost:8888), cell by cell against this state folder's
# lakehouse: working copies in $(ALTAVIZ_HOME)/notebooks (kept if they hold unsaved edits);
# `.venv/bin/altaviz notebook save` writes edits back to notebooks/*.Notebook/notebook-content.py.
notebook: setup
	$(BIN)/pip install --quiet -c $(RUNTIME_CONSTRAINTS) './lib[notebook]'
	-$(BIN)/altaviz notebook open
	$(BIN)/jupyter lab --no-browser --ServerApp.root_dir="$(ALTAVIZ_HOME)/notebooks" $(if $(filter 0,$(shell id -u)),--allow-root)

# Fleet-scale benchmark (not part of `make test`; about 20 minutes): benchmarks/README.md.
bench: setup
	$(BIN)/pip install --quiet -c $(RUNTIME_CONSTRAINTS) './lib[local,bench]'
	$(BIN)/python benchmarks/bench.py $(SCENARIOS)

test: test-python test-frontend

# One model registry for a whole `make test`: the first pipeline run that scores trains the model on
# the simulated history fleet (a few minutes), every later run (pytest's and the browser tests') reuses
# it. Emptied before pytest, so each `make test` trains with the code under test.
TEST_MLFLOW := $(ALTAVIZ_HOME)/test-mlflow
test test-python test-frontend: export MLFLOW_TRACKING_URI = file://$(TEST_MLFLOW)

test-python: setup
	rm -rf $(TEST_MLFLOW)
	$(BIN)/pytest

test-frontend: setup
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm test; fi

lint: setup
	$(BIN)/ruff check lib tests benchmarks

wheel: setup
	$(BIN)/python -m build --wheel --outdir dist lib

# Serves the dashboard on http://localhost:3000 over the database `make run` published to.
dashboard: setup
	$(BIN)/altaviz db start
	cd frontend && npm ci --no-audit --no-fund && npm run build && npm run start

db-stop:
	-$(BIN)/altaviz db stop

clean: db-stop
	rm -rf $(ALTAVIZ_HOME) dist lib/dist

# Microsoft Fabric (AZURE_FABRIC_GUIDE.md): build the wheel, assemble the items, publish with fabric-cicd.
#   make fabric-dry-run WORKSPACE_ID=<guid> FABRIC_ENV=DEV   # prints the plan; no Azure call
#   make fabric-deploy  WORKSPACE_ID=<guid> FABRIC_ENV=PROD  # service principal env vars or `az login`
.PHONY: fabric-dry-run fabric-deploy
FABRIC_ENV ?= DEV

fabric-dry-run: setup
	$(BIN)/altaviz fabric deploy --workspace-id "$(WORKSPACE_ID)" --environment $(FABRIC_ENV) --dry-run

fabric-deploy: setup
	$(BIN)/altaviz fabric deploy --workspace-id "$(WORKSPACE_ID)" --environment $(FABRIC_ENV)
