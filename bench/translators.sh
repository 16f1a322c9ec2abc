#!/usr/bin/env bash
# The translator-layer benchmarks (issue 3), one run each; results are JSON lines on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONJ_DATA_DIR="${CONJ_DATA_DIR:-../shared/data}"
python bench/bench_cache.py
python bench/bench_google.py
python -m bench.bench_hf --threads 1
