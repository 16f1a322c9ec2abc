"""Is a tuned adapter what its recipe claims, before any evaluation (docs/real-models.md)?

    python bench/real_pair/sanity.py --base MODEL_FOLDER --adapter ADAPTER_DIR [--answers 20]

Reads the adapter's ``training.json`` (its recipe and held-out set). ``alpaca``: the mean loss on the held-out
rows' responses (in the training template), base and tuned, and the tuned model's greedy answers (64 new tokens) to
the first ``--answers`` held-out instructions. ``code``: the mean loss on the held-out standard library files'
256-token windows, base and tuned. Prints one JSON object (also written to ``ADAPTER_DIR/sanity.json``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import sysconfig
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_lora import alpaca_examples, alpaca_prompt, alpaca_split, batch_loss, code_windows


def mean_loss(model, data, pad: int, batch: int = 4) -> float:
    import torch

    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(data), batch):
            chunk = data[i:i + batch]
            weight = sum(k for _ids, k in chunk)
            total += batch_loss(model, chunk, pad).item() * weight
            n += weight
    return round(total / max(n, 1), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--adapter", required=True, type=Path)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    recipe = json.loads((args.adapter / "training.json").read_text(encoding="utf-8"))
    torch.manual_seed(0)
    random.seed(0)
    tok = AutoTokenizer.from_pretrained(args.base)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    model.eval()
    if recipe["recipe"] == "alpaca":
        data_dir = args.data_dir or Path(recipe["data_dir"])
        _train, held, _digest = alpaca_split(data_dir, recipe["seed"], recipe["heldout"])
        data, dropped = alpaca_examples(tok, held, recipe["max_tokens"])
    else:
        root = Path(sysconfig.get_paths()["stdlib"])
        held_files = [root / f for f in recipe["heldout_files"]]
        data, dropped, held = code_windows(tok, held_files, recipe["max_tokens"]), 0, []
    out: dict = {"recipe": recipe["recipe"], "heldout_sequences": len(data), "heldout_left_out": dropped,
                 "loss_base": mean_loss(model, data, pad)}
    tuned = PeftModel.from_pretrained(model, str(args.adapter))
    tuned.eval()
    out["loss_tuned"] = mean_loss(tuned, data, pad)
    if recipe["recipe"] == "alpaca":
        answers = []
        for row in held[:args.answers]:
            ids = tok(alpaca_prompt(row), return_tensors="pt").input_ids
            with torch.no_grad():
                gen = tuned.generate(ids, max_new_tokens=64, do_sample=False, pad_token_id=pad)
            text = tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)
            answers.append({"instruction": row["instruction"], "input": row.get("input") or "", "answer": text})
        out["answers"] = answers
        out["empty_answers"] = sum(1 for a in answers if not a["answer"].strip())
    (args.adapter / "sanity.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k != "answers"}, indent=1))


if __name__ == "__main__":
    main()
