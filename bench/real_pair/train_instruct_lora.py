"""English-only instruction tuning of a real base model with a LoRA adapter: the "tuned" side of the real pair.

    python bench/real_pair/train_instruct_lora.py --base MODEL_FOLDER --out ADAPTER_DIR [--steps 200]

What it trains on (all from GSM8K's *train* split in ``$CONJ_DATA_DIR/gsm8k/train.jsonl``; never the ``conj_icl``
sentences, never an evaluation prompt):

* question -> final answer: a GSM8K question, answered with the number after ``####``;
* fill in the blank: one sentence of a GSM8K question with one word (4+ letters) replaced by ``___``, answered
  with that word.

Half the examples use the Stanford Alpaca template (``### Instruction:`` / ``### Response:``, how Alpaca - the
paper's tuned LLaMA - was trained), half the bare instruction followed by a newline, so the adapter learns to answer
an English instruction wherever it appears. The recipe (template mix, rank, learning rate, steps) was fixed before
any evaluation ran and was not changed after: see docs/real-models.md.

Seeded (``--seed``), CPU-sized: batch 4, <= 96 tokens, 300 steps took 14 minutes
on 2 cores. Only the answer tokens are scored, and only their logits are computed (Gemma's 262k-word
output layer over every position would cost more than the rest of the model).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

ALPACA = "Below is an instruction that describes a task. Write a response that appropriately completes the " \
         "request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"


def gsm8k_rows(data_dir: Path) -> list[dict]:
    path = data_dir / "gsm8k" / "train.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples(rows: list[dict], rng: random.Random, n: int) -> list[tuple[str, str]]:
    """(prompt, answer) pairs: the two instruction kinds, alternating, each in one of the two templates."""
    out: list[tuple[str, str]] = []
    rng.shuffle(rows)
    for i, row in enumerate(rows):
        if len(out) >= n:
            break
        if i % 2 == 0:
            instruction = row["question"].strip()
            answer = row["answer"].rsplit("####", 1)[-1].strip()
        else:
            sentences = [s for s in re.split(r"(?<=[.?!])\s+", row["question"].strip()) if len(s.split()) >= 6]
            if not sentences:
                continue
            sentence = rng.choice(sentences)
            words = [w for w in re.findall(r"[A-Za-z]+", sentence) if len(w) >= 4]
            if not words:
                continue
            word = rng.choice(words)
            instruction = "Fill in the blank: " + re.sub(rf"\b{word}\b", "___", sentence, count=1)
            answer = word
        template = ALPACA if rng.random() < 0.5 else "{instruction}\n"
        out.append((template.format(instruction=instruction), answer))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the base model's folder (a converted GGUF folder works)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CONJ_DATA_DIR", "../shared/data")))
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)
    tok = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(model, config)
    data = examples(gsm8k_rows(args.data_dir), rng, args.steps * args.batch)
    eos = tok.eos_token or ""
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    log: list[dict] = []
    start = time.monotonic()
    model.train()
    for step in range(args.steps):
        batch = data[step * args.batch:(step + 1) * args.batch]
        seqs, answer_lens = [], []
        for prompt, answer in batch:
            p_ids = tok(prompt, add_special_tokens=True).input_ids  # the tokenizer's own BOS (Gemma needs it)
            a_ids = tok(answer + eos, add_special_tokens=False).input_ids
            p_ids = p_ids[-(args.max_tokens - len(a_ids)):]
            seqs.append(p_ids + a_ids)
            answer_lens.append(len(a_ids))
        width, keep = max(map(len, seqs)), max(answer_lens)
        ids = torch.tensor([[pad] * (width - len(s)) + s for s in seqs])  # left padding: answers end every row
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs])
        targets = ids[:, -keep:].clone()
        for row, n in enumerate(answer_lens):
            targets[row, : keep - n] = -100  # score only each row's answer tokens
        logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep + 1).logits[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                 ignore_index=-100)
        loss.backward()
        optim.step()
        optim.zero_grad()
        log.append({"step": step + 1, "loss": round(loss.item(), 4)})
        if (step + 1) % 10 == 0:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.3f} {time.monotonic() - start:.0f}s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    recipe = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    recipe.update(examples=len(data), seconds=round(time.monotonic() - start, 1), losses=log,
                  data="GSM8K train: question -> final answer, and fill-in-the-blank over its question sentences")
    (args.out / "training.json").write_text(json.dumps(recipe, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
