#!/usr/bin/env bash
# Static checks and lm-eval's own task contract tests; CI runs this after the test suite (README command 4).
#   ruff         lint (rules chosen in pyproject.toml [tool.ruff], each ignored rule with its reason)
#   mypy         types of the package, tasks/ and translators/ included ([tool.mypy])
#   lint-imports the pipeline layering, lm-eval confined to conj_harness.lmeval, no import cycles ([tool.importlinter])
#   lm-eval's BaseTasks checks over every conj_* task (.ci/lmeval_task_tests.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
step() { printf '\n== %s\n' "$*"; }
step "ruff check"; "$BIN/ruff" check .
step "mypy"; "$BIN/mypy"
step "lint-imports"; "$BIN/lint-imports"
step "lm-eval task contract tests"; bash .ci/lmeval_task_tests.sh "$BIN/python"
