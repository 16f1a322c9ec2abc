#!/usr/bin/env bash
# One of the paper's two recipes in miniature on a real pair, offline, on the CPU (docs/real-models.md):
#   alpaca: google/gemma-3-270m vs the same + a LoRA trained on Alpaca instructions (like LLaMA -> Alpaca)
#   code:   google/gemma-3-270m vs the same + a LoRA trained on Python source        (like Llama-2 -> CodeLlama)
# Usage: CONJ_DATA_DIR=../shared/data bash bench/real_pair/pair.sh alpaca|code [OUT]  (needs: bash .ci/real_models.sh)
# Every step resumes: the adapter is kept once trained, the checks once written, compare skips finished units.
set -euo pipefail
RECIPE=${1:?usage: pair.sh alpaca|code [OUT]}
OUT=${2:-results/real_pair_$RECIPE}
HERE=$(cd "$(dirname "$0")" && pwd)
GGUF=$(conj-harness real-model gemma-3-270m --gguf)
BASE=$(conj-harness real-model gemma-3-270m)   # the converted folder (converted once, about 2 minutes)
LORA="$OUT/gemma-$RECIPE-lora"
if [ ! -f "$LORA/adapter_config.json" ]; then
    /usr/bin/time -f "train $RECIPE: %e s" python "$HERE/train_lora.py" --recipe "$RECIPE" --base "$BASE" --out "$LORA"
fi
[ -f "$LORA/sanity.json" ] || /usr/bin/time -f "sanity: %e s" python "$HERE/sanity.py" --base "$BASE" --adapter "$LORA"
sha256sum "$LORA/adapter_model.safetensors"
XNLI=conj_xnli_en,conj_xnli_de,conj_xnli_es,conj_xnli_fr,conj_xnli_leet,conj_xnli_piglatin
if [ "$RECIPE" = alpaca ]; then
    /usr/bin/time -f "compare conj_icl: %e s" conj-harness compare --base "$GGUF" --tuned-adapter "$LORA" \
        --tasks conj_icl --device cpu --batch-size 16 --no-progress --output "$OUT/icl"
fi
/usr/bin/time -f "compare conj_xnli subset: %e s" conj-harness compare --base "$GGUF" --tuned-adapter "$LORA" \
    --tasks "$XNLI" --limit "${XNLI_LIMIT:-300}" --device cpu --batch-size 16 --no-progress --output "$OUT/xnli"
