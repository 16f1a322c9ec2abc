"""The paper's two tuning recipes in miniature, on a real base model: a LoRA adapter trained on Alpaca instructions
(pair A, like LLaMA -> Alpaca) or on Python source (pair B, like Llama-2 -> CodeLlama).

    python bench/real_pair/train_lora.py --recipe alpaca --base MODEL_FOLDER --out ADAPTER_DIR
    python bench/real_pair/train_lora.py --recipe code --base MODEL_FOLDER --out ADAPTER_DIR

``alpaca``: ``$CONJ_DATA_DIR/alpaca/train.jsonl`` (5,000 Stanford Alpaca rows, CC BY-NC 4.0), shuffled with the
seed; the last ``--heldout`` rows are never trained on (the sanity checks use them). Each row in the Stanford Alpaca
prompt template (its two variants, with and without ``input``) and its full ``output`` followed by the end-of-sequence
token; the loss is on the response only, as Alpaca's own training masked the prompt. A row whose prompt + response
is longer than ``--max-tokens`` is left out (truncated responses would teach the model to stop mid-answer).

``code``: the standard library ``.py`` files of the interpreter running this script (``sysconfig``'s ``stdlib``;
``site-packages`` and ``test``/``tests`` folders left out; PSF licence), read as plain causal-LM text: every file's
tokens cut into ``--max-tokens`` windows; the files whose path hash falls in the last ``--heldout-percent`` are held
out. Loss on every token, as CodeLlama continued pretraining on code.

Both: LoRA on every attention and MLP projection, AdamW, fixed seed, deterministic torch, CPU. The recipe (all
arguments), the data's digest, the held-out set and the per-step losses go to ``ADAPTER_DIR/training.json``; the
recipes used and the reasons for each choice are in docs/real-models.md, written before any evaluation ran.
``--steps 2`` on a tiny model is what the tests run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import sysconfig
import time
from pathlib import Path

#: Stanford Alpaca's prompt templates (tatsu-lab/stanford_alpaca, train.py).
PROMPT_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n"
                "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n")
PROMPT_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                   "request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def alpaca_prompt(row: dict) -> str:
    template = PROMPT_INPUT if str(row.get("input") or "").strip() else PROMPT_NO_INPUT
    return template.format(instruction=row["instruction"], input=row.get("input") or "")


def alpaca_split(data_dir: Path, seed: int, heldout: int) -> tuple[list[dict], list[dict], str]:
    """(train rows, held-out rows, the file's sha256): a seeded shuffle, the last ``heldout`` rows held out."""
    path = data_dir / "alpaca" / "train.jsonl"
    raw = path.read_bytes()
    rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(rows)
    return rows[:-heldout], rows[-heldout:], hashlib.sha256(raw).hexdigest()


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py")
                  if not {"site-packages", "test", "tests", "__pycache__"} & set(p.relative_to(root).parts))


def code_split(heldout_percent: int) -> tuple[list[Path], list[Path], str]:
    """(train files, held-out files, a digest of every file's path and bytes)."""
    files = stdlib_files()
    root = Path(sysconfig.get_paths()["stdlib"])
    digest = hashlib.sha256()
    train, held = [], []
    for path in files:
        rel = str(path.relative_to(root))
        digest.update(rel.encode() + b"\0" + path.read_bytes())
        bucket = int(hashlib.sha256(rel.encode()).hexdigest(), 16) % 100
        (held if bucket >= 100 - heldout_percent else train).append(path)
    return train, held, digest.hexdigest()


def alpaca_examples(tok, rows: list[dict], max_tokens: int) -> tuple[list[tuple[list[int], int]], int]:
    """(token ids, response length) per row that fits, and how many were left out."""
    eos = tok.eos_token or ""
    out, dropped = [], 0
    for row in rows:
        prompt = tok(alpaca_prompt(row), add_special_tokens=True).input_ids  # the tokenizer's BOS (Gemma needs it)
        response = tok(str(row["output"]).strip() + eos, add_special_tokens=False).input_ids
        if len(prompt) + len(response) > max_tokens:
            dropped += 1
            continue
        out.append((prompt + response, len(response)))
    return out, dropped


def code_windows(tok, files: list[Path], max_tokens: int) -> list[tuple[list[int], int]]:
    """Every file's tokens cut into windows of ``max_tokens`` (the last, shorter one kept if 32 tokens or more)."""
    out = []
    for path in files:
        ids = tok(path.read_text(encoding="utf-8", errors="replace"), add_special_tokens=False).input_ids
        for start in range(0, len(ids), max_tokens):
            window = ids[start:start + max_tokens]
            if len(window) >= 32:
                out.append((window, len(window) - 1))
    return out


def batch_loss(model, batch: list[tuple[list[int], int]], pad: int):
    """Mean cross-entropy over each row's scored tail (left padding, so every row's scored part ends the row)."""
    import torch

    width, keep = max(len(ids) for ids, _n in batch), max(n for _ids, n in batch)
    ids = torch.tensor([[pad] * (width - len(s)) + s for s, _n in batch])
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s, _n in batch])
    targets = ids[:, -keep:].clone()
    for row, (_s, n) in enumerate(batch):
        targets[row, : keep - n] = -100
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep + 1).logits[:, :-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                             ignore_index=-100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", choices=["alpaca", "code"], required=True)
    parser.add_argument("--base", required=True, help="the base model's folder (a converted GGUF folder works)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--heldout", type=int, default=200, help="alpaca: rows held out")
    parser.add_argument("--heldout-percent", type=int, default=5, help="code: files held out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("CONJ_DATA_DIR", "../shared/data")))
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    tok = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    targets = [t for t in TARGETS if any(name.endswith(t) for name, _m in model.named_modules())]
    model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0,
                                             task_type="CAUSAL_LM", target_modules=targets))
    record: dict = {"python": platform.python_version(), "executable": sys.executable}
    if args.recipe == "alpaca":
        train_rows, held_rows, digest = alpaca_split(args.data_dir, args.seed, args.heldout)
        data, dropped = alpaca_examples(tok, train_rows, args.max_tokens)
        record.update(data="alpaca/train.jsonl", data_sha256=digest, train_rows=len(train_rows),
                      left_out_too_long=dropped, heldout_instructions=[r["instruction"] for r in held_rows])
    else:
        train_files, held_files, digest = code_split(args.heldout_percent)
        data = code_windows(tok, train_files, args.max_tokens)
        root = Path(sysconfig.get_paths()["stdlib"])
        record.update(data=f"Python {platform.python_version()} standard library ({root})", data_sha256=digest,
                      train_files=len(train_files), heldout_files=[str(p.relative_to(root)) for p in held_files])
    if not data:
        raise SystemExit(f"train_lora.py: no {args.recipe} example fits --max-tokens {args.max_tokens}")
    rng = random.Random(args.seed)
    order = [rng.randrange(len(data)) for _ in range(args.steps * args.batch)] if len(data) < args.steps * \
        args.batch else rng.sample(range(len(data)), args.steps * args.batch)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    losses: list[dict] = []
    start = time.monotonic()
    model.train()
    for step in range(args.steps):
        batch = [data[i] for i in order[step * args.batch:(step + 1) * args.batch]]
        loss = batch_loss(model, batch, pad)
        loss.backward()
        optim.step()
        optim.zero_grad()
        losses.append({"step": step + 1, "loss": round(loss.item(), 4)})
        if (step + 1) % 10 == 0 or step + 1 == args.steps:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.3f} {time.monotonic() - start:.0f}s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    recipe = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    recipe.update(record, examples=len(data), target_modules=targets, seconds=round(time.monotonic() - start, 1),
                  losses=losses)
    (args.out / "training.json").write_text(json.dumps(recipe, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
