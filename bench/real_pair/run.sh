#!/usr/bin/env bash
# The paper's ICL experiment (and an XNLI subset) on a real pair, offline, on the CPU: docs/real-models.md.
#   base  = google/gemma-3-270m (GGUF Q4_K_M from the package index; Gemma Terms of Use)
#   tuned = the same model + an English-only instruction-tuning LoRA trained here (train_instruct_lora.py)
# Usage: CONJ_DATA_DIR=../shared/data bash bench/real_pair/run.sh [OUT]   (needs: bash .ci/real_models.sh)
# Every step resumes: the adapter is kept once trained, and compare skips the units it finished.
set -euo pipefail
OUT=${1:-results/real_pair}
GGUF=$(conj-harness real-model gemma-3-270m --gguf)
BASE=$(conj-harness real-model gemma-3-270m)   # the converted folder (converted once, about 2 minutes)
LORA="$OUT/gemma-instruct-lora"
if [ ! -f "$LORA/adapter_config.json" ]; then
    /usr/bin/time -f "train: %e s" python bench/real_pair/train_instruct_lora.py --base "$BASE" --out "$LORA"
fi
# ICL: all 7 conjugates, the full 400 prompts each (the paper's setting: greedy, 10 new tokens, raw prompts).
/usr/bin/time -f "compare conj_icl: %e s" conj-harness compare --base "$GGUF" --tuned-adapter "$LORA" \
    --tasks conj_icl --device cpu --batch-size 16 --no-progress --output "$OUT/icl"
# XNLI: a documented subset (the full split is 2,490 prompts x 17 conjugates): the paper's four languages and the
# two ciphers, the first 300 validation documents of each.
if [ "${XNLI:-1}" = 1 ]; then
    /usr/bin/time -f "compare conj_xnli subset: %e s" conj-harness compare --base "$GGUF" --tuned-adapter "$LORA" \
        --tasks conj_xnli_en,conj_xnli_fr,conj_xnli_es,conj_xnli_de,conj_xnli_leet,conj_xnli_piglatin --limit 300 \
        --device cpu --batch-size 16 --no-progress --output "$OUT/xnli"
fi
