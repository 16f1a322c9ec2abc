#!/usr/bin/env bash
# lm-eval's own task contract tests (BaseTasks in tests/test_tasks.py of its sdist) over every conj_* task.
#
#   .ci/lmeval_task_tests.sh [PYTHON]      # default: .venv/bin/python
#
# The sdist on the package index carries tests/test_tasks.py but not the tests/utils.py it imports; our stand-in
# (tests/lmeval/upstream/utils.py) lists the conj_* tasks, and conftest.py there installs our TaskManager.
# The file is fetched for the installed lm-eval version, so an upgrade runs the new release's checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
version=$("$PY" -c 'import importlib.metadata as m; print(m.version("lm-eval"))')
dest=tests/lmeval/upstream/test_tasks.py
if ! grep -q "^# lm-eval $version" "$dest" 2>/dev/null; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$PY" -m pip download --disable-pip-version-check -q --no-binary :all: --no-deps "lm-eval==$version" -d "$tmp"
    tar -xzf "$tmp"/lm_eval-"$version".tar.gz -C "$tmp" "lm_eval-$version/tests/test_tasks.py"
    { echo "# lm-eval $version: tests/test_tasks.py from its sdist, fetched by .ci/lmeval_task_tests.sh (not committed)"
      cat "$tmp/lm_eval-$version/tests/test_tasks.py"; } > "$dest"
fi
# Only its BaseTasks checks run (tests/lmeval/upstream/conftest.py deselects the rest, which need the hub).
CONJ_DATA_DIR=${CONJ_DATA_DIR:-../shared/data} "$PY" -m pytest -q -p no:cacheprovider "$dest"
