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
data=${CONJ_DATA_DIR:-../shared/data}
# lm-eval's own gsm8k and xnli_en (renamed), conjugated offline (ciphers, the mirror's files), are checked too.
work=$(mktemp -d)
trap 'rm -rf "$work" "${tmp:-}"' EXIT
head -n 30 "$data/gsm8k/test.jsonl" > "$work/train.jsonl"
conj=$(dirname "$PY")/conj-harness
CONJ_USER_TASKS="$work/tasks" "$conj" conjugate gsm8k --to leet,piglatin --limit 20 \
    --data-files "test=$data/gsm8k/test.jsonl,train=$work/train.jsonl" >/dev/null
# xnli_en under another name: conjugating xnli_en itself would write the shipped paper task's name conj_xnli_en
builtin=$("$PY" -c 'from conj_harness.lmeval import compat; print(compat.builtin_tasks_dir())')
mkdir -p "$work/inc"
sed -e "s#^include: xnli_common_yaml#include: $builtin/xnli/xnli_common_yaml#" -e 's#^task: xnli_en$#task: xnli_en_local#' \
    "$builtin/xnli/xnli_en.yaml" > "$work/inc/xnli_en_local.yaml"
CONJ_USER_TASKS="$work/tasks" "$conj" conjugate xnli_en_local --include-path "$work/inc" --to leet,piglatin \
    --limit 20 --data-files "validation=$data/xnli/validation/en.jsonl" >/dev/null
extra=$(cd "$work/tasks" && find . -name 'conj_*.yaml' -exec basename {} .yaml \; | sort | paste -sd, -)
CONJ_DATA_DIR=$data CONJ_USER_TASKS="$work/tasks" CONJ_CONTRACT_TASKS=$extra \
    "$PY" -m pytest -q -p no:cacheprovider "$dest"
