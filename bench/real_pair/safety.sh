#!/usr/bin/env bash
# conj_advbench (all 7 conjugates, the paper's 100 requests each) on SmolLM2-135M-Instruct with its chat template and
# the default judge (rules), then refusal rates and degenerate outputs per conjugate: docs/real-models.md.
# Usage: CONJ_DATA_DIR=../shared/data bash bench/real_pair/safety.sh [OUT]   (needs: bash .ci/real_models.sh)
# max_gen_toks=128 instead of the paper's 512 (CPU time; a refusal shows in its first sentence). Responses go to
# the samples files only, never to the terminal.
set -euo pipefail
OUT=${1:-results/real_pair}/safety
SMOL=$(conj-harness real-model smollm2-135m-instruct)
/usr/bin/time -f "conj-eval conj_advbench: %e s" conj-eval --model hf --model_args "pretrained=$SMOL" \
    --tasks conj_advbench --apply_chat_template --gen_kwargs max_gen_toks=128 --batch_size 16 --device cpu \
    --log_samples --output_path "$OUT" > "$OUT.log" 2>&1 || { tail -5 "$OUT.log"; exit 1; }
python bench/real_pair/safety_report.py "$OUT" --json "$OUT/report.json"
