"""Train the embedded demo pair: a tiny "pretrained" LM that does in-context learning (ICL) in three forms of
text, and an "instruction-tuned" copy that loses it in English much more than in the other two.

``python -m conj_harness.demo.train --out DIR [--seed 0]`` writes ``DIR/base`` and ``DIR/tuned`` (each a
``save_pretrained`` Llama with its tokenizer, float32 safetensors, about 5.8 MB) and ``DIR/manifest.json`` (seed,
config, data recipe, sha256 of every saved file, timings, and the ICL / IF rates measured at the end on the held-out
and on the paper's prompts). CPU only, fixed seeds, one torch thread, deterministic; about six minutes on two busy
cores. Design, recipe and measured results: ``docs/demo.md``.

Toy design:

* Three forms of the same 500 sentences: English (``en``), Leetspeak (``leet``, the paper's ``ls`` file) and Pig
  Latin (``piglatin``, the paper's ``pl`` file), each with the paper's own prompt strings.
* Only sentences 0-399 are used for training (tokenizer, pretraining, tuning); 400-499 are held out. The real
  ``conj_icl_*`` tasks sample their 400 prompts per form from all 500 sentences, so most of their sentences were
  seen in training (as parts of other, randomly drawn prompts).
* Training prompts come from :func:`icl_doc`, which draws exactly as ``conj_harness.families.icl.build_docs`` does
  (checked
  byte for byte at start-up), so the training format is the evaluation format.
* Pretraining, the three forms in equal shares: ICL prompts (repeat or capitalize; query a plain sentence, a math
  question or a blanked sentence; target the in-context answer, loss on the first tokens of every demonstration
  output and of the answer) plus plain question-answer lines (``What is 19 plus 4? 23``, a blanked sentence and
  its missing word) and runs of sentences.
* Instruction tuning, English only, loss on the answer: ICL prompts whose math / blank query now gets the real
  answer, bare ``Input:/Output:`` questions, English ICL prompts with sentence queries that keep the in-context
  answer, and 20% rehearsal of the pretraining mixture (all three forms).
* The tuning length and rate are fixed in the config (64 steps at 5e-4), not chosen per run on test prompts; the
  manifest records held-out ICL along the way (``heldout_curve``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.families import icl
from conj_harness.files.digest import sha256_file
from conj_harness.report import stats

FORMS: dict[str, str] = {"en": "en", "leet": "ls", "piglatin": "pl"}  # demo conjugate -> paper file/strings code
TRAIN_SENTENCES = range(400)
HELDOUT_SENTENCES = range(400, 500)
QUERY_KINDS = ("sentence", "math", "blank")
SPECIALS = ["<s>", "</s>", "<unk>", "<pad>"]
CURVE_STEPS = (4, 8, 16, 24, 32, 48, 64, 96, 128)


@dataclass
class TrainConfig:
    seed: int = 0
    threads: int = 1  # one thread: reproducible, and 2 OpenMP threads on 2 busy cores ran ~4x slower
    # tokenizer
    vocab_size: int = 4096
    # model (Llama)
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 384
    max_positions: int = 1024
    # pretraining
    pre_steps: int = 400
    pre_batch: int = 16
    pre_lr: float = 6e-3
    pre_warmup: int = 30
    pre_icl_frac: float = 0.85  # the rest: plain question-answer lines and sentences
    pre_query_mix: tuple[float, float, float] = (0.1, 0.4, 0.5)  # sentence, math, blank
    pre_loss_tokens: int = 3  # loss on the first k tokens of each ICL output (0: all of it)
    pre_form_weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    # instruction tuning (English only)
    tune_steps: int = 64
    tune_batch: int = 16
    tune_lr: float = 5e-4
    tune_warmup: int = 10
    tune_if_frac: float = 0.5  # English ICL prompts with math/blank query -> real answer
    tune_bare_frac: float = 0.15  # bare Input:/Output: questions
    tune_sentence_frac: float = 0.15  # English ICL prompts with a sentence query -> in-context answer
    tune_replay_frac: float = 0.2  # replay of the pretraining mixture, every form (the four fractions sum to 1)
    tune_replay_icl: float = 0.5  # share of the replay that is ICL prompts (the rest: general text)
    tune_replay_queries: str = "all"  # their queries: "all" (as in pretraining) or "sentence" only
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # evaluation
    eval_batch: int = 50
    eval_new_tokens: int = 10
    save_dtype: str = "float32"
    forms: tuple[str, ...] = ("en", "leet", "piglatin")


# ------------------------------------------------------------------------------------------------------------ data
@dataclass
class Form:
    name: str
    code: str
    strings: icl.IclStrings
    sentences: list[str]  # all 500

    @property
    def train(self) -> list[str]:
        return [self.sentences[i] for i in TRAIN_SENTENCES]

    @property
    def heldout(self) -> list[str]:
        return [self.sentences[i] for i in HELDOUT_SENTENCES]


def load_forms(names=tuple(FORMS)) -> dict[str, Form]:
    from conj_harness.data import sources

    return {n: Form(n, FORMS[n], icl.PAPER_STRINGS[FORMS[n]], sources.icl_sentences(FORMS[n])) for n in names}


def icl_doc(rng: random.Random, sentences: list[str], s: icl.IclStrings, icl_task: str, query_kind: str,
            k_shot: int = icl.K_SHOT) -> dict:
    """One prompt in the paper's format, drawn exactly as ``icl.build_docs`` draws it (same RNG calls).

    ``query_kind`` ``math`` / ``blank`` give the paper's queries; ``sentence`` (training only) a plain sentence.
    Returns prompt, the full in-context continuation (``icl_out``), ``icl_ans`` and ``if_ans`` as in build_docs.
    """
    instruction = s.capslock_instruction if icl_task == "capslock" else s.repeat_instruction
    *demos, source = rng.sample(sentences, k_shot + 1)
    if query_kind == "sentence":
        query, icl_ans, if_ans = source, source, None
    else:
        query, icl_ans, if_ans = icl._query("math" if query_kind == "math" else "startblank", source, s, rng)
    shots = [f"{s.input_prefix}{d}\n{s.output_prefix}{icl._icl(icl_task, d)}" for d in demos]
    final = f"{s.input_prefix}{query}\n{s.output_prefix[:-1]}"
    return {
        "prompt": f"{instruction}\n\n" + "\n\n".join([*shots, final]),
        "icl_out": " " + icl._icl(icl_task, query),
        "icl_ans": " " + icl._icl(icl_task, icl_ans),
        "if_ans": None if if_ans is None else " " + icl._icl(icl_task, if_ans),
        "query": query, "source": source, "icl_task": icl_task,
    }


def check_format(form: Form) -> None:
    """Self-check: :func:`icl_doc` rebuilds ``icl.build_docs`` byte for byte, so train format == eval format."""
    ref = icl.build_docs(form.sentences, form.strings, form.code)
    mine = []
    for icl_task, if_task in icl.CONFIGS:
        rng = random.Random(icl.SEED)
        kind = "math" if if_task == "math" else "blank"
        mine += [icl_doc(rng, list(form.sentences), form.strings, icl_task, kind)
                 for _ in range(icl.SAMPLES_PER_CONFIG)]
    for r, m in zip(ref, mine, strict=True):
        if (r["prompt"], r["icl_ans"], r["if_ans"]) != (m["prompt"], m["icl_ans"], m["if_ans"]):
            raise AssertionError(f"training prompt format drifted from icl.build_docs ({form.name}, {r['id']})")


def qa_line(rng: random.Random, form: Form) -> tuple[str, str]:
    """Plain knowledge in one form: a math question and its answer, or a blanked sentence and its missing word."""
    s = form.strings
    if rng.random() < 0.5:
        n1, n2, op = rng.randint(4, 20), rng.randint(4, 20), rng.randint(0, 2)
        q = s.math_question.format(n1=n1, op=(s.plus, s.minus, s.times)[op], n2=n2)
        return q, " " + str((n1 + n2, n1 - n2, n1 * n2)[op])
    first, *rest = rng.choice(form.train).split(" ")
    return " ".join(["_" * len(first), *rest]), " " + first


# An example is a list of (text, loss) segments; loss is False (context), True (every token) or k (the first k
# tokens). Every segment after the first starts with whitespace, so tokenizing the segments one by one gives the
# tokens of the whole text (``check_segmentation``).
Segments = list[tuple[str, bool | int]]


def icl_segments(d: dict, s: icl.IclStrings, target: str, demo_loss: bool | int) -> Segments:
    """The prompt of ``d`` split so that each demonstration's output (and the final target) can carry the loss."""
    head, *blocks = d["prompt"].split(s.output_prefix)
    segs: Segments = [(head + s.output_prefix[:-1], False)]
    for block in blocks:  # " <demo output>\n\n<input prefix> ... \n<output prefix>" (the last one ends the prompt)
        out, rest = block.split("\n\n", 1)
        end = "" if rest.endswith(s.output_prefix[:-1]) else s.output_prefix[:-1]
        segs += [(" " + out, demo_loss), ("\n\n" + rest + end, False)]
    segs.append((target, demo_loss))
    if "".join(t for t, _ in segs[:-1]) != d["prompt"]:
        raise AssertionError("icl_segments: segments do not rebuild the prompt")
    return segs


def check_segmentation(tokenizer, examples: list[Segments]) -> None:
    """Tokenizing segment by segment must give the tokens of the whole text (else training != evaluation)."""
    for ex in examples:
        whole = tokenizer("".join(t for t, _ in ex), add_special_tokens=False)["input_ids"]
        parts = [i for t, _ in ex for i in tokenizer(t, add_special_tokens=False)["input_ids"]]
        if whole != parts:
            raise AssertionError(f"segment tokenization differs from whole-text tokenization: {ex!r}")


def pretrain_example(rng: random.Random, forms: list[Form], cfg: TrainConfig) -> Segments:
    form = rng.choices(forms, weights=cfg.pre_form_weights)[0]
    if rng.random() < cfg.pre_icl_frac:
        kind = rng.choices(QUERY_KINDS, weights=cfg.pre_query_mix)[0]
        d = icl_doc(rng, form.train, form.strings, rng.choice(("repeat", "capslock")), kind)
        return icl_segments(d, form.strings, d["icl_out"] + "\n", cfg.pre_loss_tokens or True)
    return replay_example(rng, form)


def replay_example(rng: random.Random, form: Form) -> Segments:
    """General text in one form: a few question-answer lines or a few sentences (never an ICL prompt)."""
    if rng.random() < 0.5:
        segs: Segments = []
        for i in range(6):
            q, a = qa_line(rng, form)
            segs += [(("\n" if i else "") + q, False), (a, True)]
        return segs
    sents = rng.sample(form.train, 3)
    return [(sents[0], True), *((" " + x, True) for x in sents[1:])]


def tune_example(rng: random.Random, en: Form, forms: list[Form], cfg: TrainConfig) -> Segments:
    """English instruction following (loss on the answer only), or replay of the pretraining mixture."""
    fracs = (cfg.tune_if_frac, cfg.tune_bare_frac, cfg.tune_sentence_frac, cfg.tune_replay_frac)
    if abs(sum(fracs) - 1) > 1e-9:
        raise ValueError(f"tuning fractions must sum to 1, got {fracs}")
    u = rng.random()
    task = rng.choice(("repeat", "capslock"))
    if u < cfg.tune_if_frac:
        d = icl_doc(rng, en.train, en.strings, task, rng.choice(("math", "blank")))
        return [(d["prompt"], False), (d["if_ans"] + "\n", True)]
    u -= cfg.tune_if_frac
    if u < cfg.tune_bare_frac:
        q, a = qa_line(rng, en)
        return [(f"{en.strings.input_prefix}{q}\n{en.strings.output_prefix[:-1]}", False), (a + "\n", True)]
    u -= cfg.tune_bare_frac
    if u < cfg.tune_sentence_frac:
        d = icl_doc(rng, en.train, en.strings, task, "sentence")
        return [(d["prompt"], False), (d["icl_out"] + "\n", True)]
    form = rng.choice(forms)
    if rng.random() < cfg.tune_replay_icl:
        kind = "sentence" if cfg.tune_replay_queries == "sentence" \
            else rng.choices(QUERY_KINDS, weights=cfg.pre_query_mix)[0]
        d = icl_doc(rng, form.train, form.strings, task, kind)
        return icl_segments(d, form.strings, d["icl_out"] + "\n", cfg.pre_loss_tokens or True)
    return replay_example(rng, form)


def tokenizer_corpus(forms: list[Form], cfg: TrainConfig) -> list[str]:
    """Text drawn like the training data (training sentences only), so the merges cover the prompt strings."""
    rng = random.Random(cfg.seed + 7)
    texts = ["".join(t for t, _ in pretrain_example(rng, forms, cfg)) for _ in range(3000)]
    for f in forms:
        texts += f.train + [x.upper() for x in f.train]
    texts += [" " + "_" * k for k in range(1, 25) for _ in range(50)]  # every blank is one token
    texts += [" " + str(n) for n in range(-20, 401) for _ in range(30)]  # every answer number is one token
    return texts


# ------------------------------------------------------------------------------------------------------- tokenizer
def build_tokenizer(forms: list[Form], cfg: TrainConfig):
    """Byte-level BPE whose words are whitespace-delimited (so Leetspeak words stay whole, digits included)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" ?[^\s]+|\n+|\s"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=cfg.vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(tokenizer_corpus(forms, cfg), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>")


# ----------------------------------------------------------------------------------------------------------- model
def build_model(cfg: TrainConfig, tokenizer):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden, intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.heads,
        max_position_embeddings=cfg.max_positions, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(cfg.seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(do_sample=False, bos_token_id=tokenizer.bos_token_id,
                                               eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    return model


def encode_batch(tokenizer, examples: list[Segments]):
    """Right-padded input ids, attention mask and labels (-100 where no loss: padding and context segments)."""
    import torch

    flat = [t for ex in examples for t, _ in ex]
    enc = iter(tokenizer(flat, add_special_tokens=False)["input_ids"])
    seqs: list[list[int]] = []
    masks: list[list[int]] = []
    for ex in examples:
        row: list[int] = []
        lab: list[int] = []
        for _, loss in ex:
            piece = next(enc)
            row += piece
            k = len(piece) if loss is True else int(loss)
            lab += piece[:k] + [-100] * (len(piece) - k)
        seqs.append(row)
        masks.append(lab)
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full((len(seqs), width), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, (s, lab) in enumerate(zip(seqs, masks)):
        ids[i, : len(s)] = torch.tensor(s)
        labels[i, : len(s)] = torch.tensor(lab)
        mask[i, : len(s)] = 1
    return ids, mask, labels


def lm_loss(model, ids, mask, labels):
    """Next-token cross-entropy computed only where a label exists (the LM head runs on those positions only)."""
    import torch

    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    target = labels[:, 1:]
    keep = target != -100
    logits = model.lm_head(hidden[keep])
    return torch.nn.functional.cross_entropy(logits, target[keep])


def batches(make_example, n: int, pool: int = 4):
    """Batches of ``n`` examples; ``pool`` batches at a time are drawn and grouped by length to cut padding."""
    while True:
        exs = [make_example() for _ in range(n * pool)]
        lens = [sum(len(t) for t, _ in ex) for ex in exs]
        order = sorted(range(len(exs)), key=lambda i: lens[i])
        groups = [[exs[i] for i in order[k * n:(k + 1) * n]] for k in range(pool)]
        yield from groups


def train_phase(model, tokenizer, batch_iter, steps: int, lr: float, warmup: int, cfg: TrainConfig,
                log, on_step=None) -> list[float]:
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:  # linear warm-up, cosine decay to 10%
        if step < warmup:
            return lr * (step + 1) / warmup
        p = (step - warmup) / max(1, steps - warmup)
        return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    losses = []
    model.train()
    for step in range(steps):
        ids, mask, labels = encode_batch(tokenizer, next(batch_iter))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = lm_loss(model, ids, mask, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        losses.append(loss.item())
        if (step + 1) % 50 == 0 or step == 0:
            log(f"  step {step + 1}/{steps} loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
        if on_step is not None:
            on_step(step + 1)
    model.eval()
    return losses


# ------------------------------------------------------------------------------------------------------ evaluation
def generate(model, tokenizer, prompts: list[str], new_tokens: int, batch: int) -> list[str]:
    """Greedy continuations (left-padded batches, no BOS), decoded without special tokens."""
    import torch

    tokenizer.padding_side = "left"
    outs = []
    with torch.no_grad():
        for i in range(0, len(prompts), batch):
            enc = tokenizer(prompts[i : i + batch], add_special_tokens=False, return_tensors="pt", padding=True)
            gen = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False)
            outs += tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return outs


def evaluate(model, tokenizer, docs_by_form: dict[str, list[dict]], cfg: TrainConfig) -> dict[str, dict]:
    """Per form: icl_acc, if_rate (the paper's rule) and the 0/1 outcomes per doc (for paired tests)."""
    res = {}
    for name, docs in docs_by_form.items():
        outs = generate(model, tokenizer, [d["prompt"] for d in docs], cfg.eval_new_tokens, cfg.eval_batch)
        scores = [icl.score(d, o) for d, o in zip(docs, outs)]
        iclv = [int(s["icl_acc"]) for s in scores]
        res[name] = {"icl_acc": sum(iclv) / len(iclv), "if_rate": sum(s["if_rate"] for s in scores) / len(scores),
                     "n": len(docs), "icl": iclv, "outputs": outs}
    return res


def eval_sets(forms: dict[str, Form]) -> dict[str, dict[str, list[dict]]]:
    """``paper``: the real tasks' 400 prompts per form (all 500 sentences); ``heldout``: the same construction on
    sentences 400-499 only."""
    return {
        "paper": {n: icl.build_docs(f.sentences, f.strings, f.code) for n, f in forms.items()},
        "heldout": {n: icl.build_docs(f.heldout, f.strings, f.code) for n, f in forms.items()},
    }


def mcnemar_p(a: list[int], b: list[int]) -> float:
    """Exact two-sided McNemar p-value for paired 0/1 outcomes (the report's test: :mod:`conj_harness.report.stats`)."""
    return float(stats.mcnemar_exact(a, b)["p_value"])


def summarize(base: dict, tuned: dict, docs_by_form: dict[str, list[dict]] | None = None) -> dict:
    """Per form: base/tuned ICL and IF, drop, exact McNemar base vs tuned; for the conjugates also McNemar of the
    tuned conjugate vs tuned English on the parallel prompts (same sentence indices and numbers) and the recovery
    (English drop minus this form's drop); with ``docs_by_form`` the ICL accuracies per IF task (math, startblank).
    """
    out = {}
    for name in base:
        b, t = base[name], tuned[name]
        row = {"n": b["n"], "base_icl": b["icl_acc"], "tuned_icl": t["icl_acc"], "drop": b["icl_acc"] - t["icl_acc"],
               "base_if": b["if_rate"], "tuned_if": t["if_rate"], "p_base_vs_tuned": mcnemar_p(b["icl"], t["icl"])}
        if name != "en" and "en" in base:
            row["p_tuned_vs_tuned_en"] = mcnemar_p(t["icl"], tuned["en"]["icl"])
            row["recovery"] = (base["en"]["icl_acc"] - tuned["en"]["icl_acc"]) - row["drop"]
        if docs_by_form is not None:
            for task in ("math", "startblank"):
                idx = [i for i, d in enumerate(docs_by_form[name]) if d["if_task"] == task]
                row[f"{task}_base_icl"] = sum(b["icl"][i] for i in idx) / len(idx)
                row[f"{task}_tuned_icl"] = sum(t["icl"][i] for i in idx) / len(idx)
        out[name] = {k: round(v, 4) if isinstance(v, float) and k[:2] != "p_" else v for k, v in row.items()}
    return out


# ------------------------------------------------------------------------------------------------------------ main
def save_model(model, path: Path, dtype: str) -> None:
    import torch

    model.to(getattr(torch, dtype)).save_pretrained(path)
    model.to(torch.float32)


def _rows(summary: dict) -> list[str]:
    return [f"{n:9s} base {r['base_icl']:.3f} tuned {r['tuned_icl']:.3f} drop {r['drop']:+.3f}  "
            f"IF {r['base_if']:.3f}->{r['tuned_if']:.3f}"
            + (f"  p(tuned {n} = tuned en) {r['p_tuned_vs_tuned_en']:.2g}" if "p_tuned_vs_tuned_en" in r else "")
            for n, r in summary.items()]


@dataclass
class _Build:
    """What one build is made of, passed between its steps."""

    forms: dict[str, Form]
    stage: Path
    tokenizer: Any
    model: Any
    n_params: int
    timings: dict[str, float] = field(default_factory=dict)
    losses: dict[str, list[float]] = field(default_factory=dict)
    curve: list[dict] = field(default_factory=list)
    base_state: dict[str, Any] = field(default_factory=dict)


def _start(out: Path, cfg: TrainConfig, log: Callable[[str], None]) -> _Build:
    """Seeds, the sentence files, an empty staging folder, the tokenizer (saved for both roles) and the model."""
    import shutil

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True)
    forms = load_forms(cfg.forms)  # the sentence files first: a data problem leaves nothing behind
    for f in forms.values():
        check_format(f)
    stage = Path(out) / ".build"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    flist = list(forms.values())
    tokenizer = build_tokenizer(flist, cfg)
    for role in ("base", "tuned"):  # saved before any use, so both copies are identical
        tokenizer.save_pretrained(stage / role)
    check_rng = random.Random(12345)
    check_segmentation(tokenizer, [pretrain_example(check_rng, flist, cfg) for _ in range(200)]
                       + [tune_example(check_rng, forms["en"], flist, cfg) for _ in range(200)])
    model = build_model(cfg, tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: Llama, {n_params / 1e6:.2f}M parameters, vocabulary {len(tokenizer)}, forms {', '.join(forms)}")
    return _Build(forms, stage, tokenizer, model, n_params)


def _train(b: _Build, cfg: TrainConfig, log: Callable[[str], None], eval_curve: bool,
           heldout: dict[str, list[dict]]) -> None:
    """Pretrain (save ``base``), then instruction-tune on English (save ``tuned``), measuring the held-out curve."""
    model, tokenizer, flist = b.model, b.tokenizer, list(b.forms.values())
    rng = random.Random(cfg.seed)
    log(f"pretraining: {cfg.pre_steps} steps x {cfg.pre_batch} at lr {cfg.pre_lr}")
    t_pre = time.time()
    b.losses["pretrain"] = train_phase(model, tokenizer,
                                       batches(lambda: pretrain_example(rng, flist, cfg), cfg.pre_batch),
                                       cfg.pre_steps, cfg.pre_lr, cfg.pre_warmup, cfg, log)
    b.timings["pretrain"] = time.time() - t_pre
    b.base_state = {k: v.clone() for k, v in model.state_dict().items()}
    save_model(model, b.stage / "base", cfg.save_dtype)
    curve_docs = {n: docs[::4] for n, docs in heldout.items()}  # 25 per config and form

    def on_step(step: int) -> None:
        if eval_curve and (step in CURVE_STEPS or step == cfg.tune_steps):
            model.eval()
            r = evaluate(model, tokenizer, curve_docs, cfg)
            b.curve.append({"step": step, **{n: {"icl_acc": round(v["icl_acc"], 3), "if_rate": round(v["if_rate"], 3)}
                                             for n, v in r.items()}})
            log(f"    held-out ICL at step {step}: " + ", ".join(f"{n} {v['icl_acc']:.2f}" for n, v in r.items()))
            model.train()

    log(f"instruction tuning (English): {cfg.tune_steps} steps x {cfg.tune_batch} at lr {cfg.tune_lr}")
    t_tune = time.time()
    rng_tune = random.Random(cfg.seed + 1)
    b.losses["tune"] = train_phase(model, tokenizer,
                                   batches(lambda: tune_example(rng_tune, b.forms["en"], flist, cfg), cfg.tune_batch),
                                   cfg.tune_steps, cfg.tune_lr, cfg.tune_warmup, cfg, log, on_step)
    b.timings["tune"] = time.time() - t_tune
    save_model(model, b.stage / "tuned", cfg.save_dtype)


def _evaluate_pair(b: _Build, cfg: TrainConfig, sets: dict[str, dict], which_sets: tuple[str, ...],
                   log: Callable[[str], None]) -> dict[str, dict]:
    """Base and tuned ICL / IF rates on each prompt set, and their comparison."""
    tuned_state = {k: v.clone() for k, v in b.model.state_dict().items()}
    results = {}
    for which in which_sets:
        b.model.load_state_dict(b.base_state)
        base = evaluate(b.model, b.tokenizer, sets[which], cfg)
        b.model.load_state_dict(tuned_state)
        tuned = evaluate(b.model, b.tokenizer, sets[which], cfg)
        results[which] = summarize(base, tuned, sets[which])
        log(f"{which} prompts ({'sentences 400-499' if which == 'heldout' else 'the real tasks, all 500 sentences'}):")
        for line in _rows(results[which]):
            log("  " + line)
    return results


def _manifest(b: _Build, cfg: TrainConfig, results: dict[str, dict], t0: float) -> dict:
    import torch

    forms, flist, stage, n_params, curve = b.forms, list(b.forms.values()), b.stage, b.n_params, b.curve
    t_pre, t_tune, train_s, eval_s = (b.timings[k] for k in ("pretrain", "tune", "train_total", "eval"))
    pre_losses, tune_losses = b.losses["pretrain"], b.losses["tune"]
    files = {f"{role}/{p.name}": sha256_file(p) for role in ("base", "tuned") for p in sorted((stage / role).iterdir())}
    manifest = {
        "schema": 1,
        "what": "conj-harness demo pair: a tiny Llama pretrained on ICL prompts in " + ", ".join(forms)
                + " and a copy instruction-tuned on English only",
        "rebuild": f"python -m conj_harness.demo.train --out <this folder> --seed {cfg.seed}",
        "seed": cfg.seed,
        "config": asdict(cfg),
        "parameters": n_params,
        "data": {
            "sentences": "the paper's icl_sentences files: " + ", ".join(f"{f.name}={f.code}" for f in flist),
            "train_sentences": [TRAIN_SENTENCES.start, TRAIN_SENTENCES.stop - 1],
            "heldout_sentences": [HELDOUT_SENTENCES.start, HELDOUT_SENTENCES.stop - 1],
            "tokenizer": "byte-level BPE over whitespace-delimited words, trained on generated pretraining text "
                         "(training sentences only), every underscore run one token",
            "pretraining": "forms weighted pre_form_weights; pre_icl_frac ICL prompts in the paper's format (query "
                           "sentence/math/blank weighted pre_query_mix, 2 demonstrations, repeat or capslock), loss "
                           "on the first pre_loss_tokens tokens of every demonstration output and of the in-context "
                           "answer; the rest question-answer lines (math, blanked sentence -> missing word, loss on "
                           "the answers) or runs of sentences (loss on all tokens)",
            "tuning": "English only, loss on the answer: tune_if_frac ICL prompts with a math/blank query -> the "
                      "real answer; tune_bare_frac bare Input:/Output: questions; tune_sentence_frac ICL prompts "
                      "with a sentence query -> in-context answer; tune_replay_frac replay in every form "
                      "(tune_replay_icl of it ICL prompts with tune_replay_queries queries, the rest "
                      "question-answer lines and sentences)",
            "evaluation": "greedy, 10 new tokens, no BOS, the paper's prefix rule (conj_harness.families.icl.score); "
                          "'paper' = the conj_icl_* tasks' 400 prompts per form (sentences 0-499, so mostly "
                          "sentences seen in training, never the same prompt); 'heldout' = icl.build_docs on "
                          "sentences 400-499 only",
        },
        "files": files,
        "time_s": {"pretrain": round(t_pre, 1), "tune": round(t_tune, 1), "train_total": round(train_s, 1),
                   "eval": round(eval_s, 1), "total": round(time.time() - t0, 1)},
        "final_loss": {"pretrain": round(sum(pre_losses[-50:]) / len(pre_losses[-50:]), 4),
                       "tune": round(sum(tune_losses[-20:]) / len(tune_losses[-20:]), 4)},
        "results": results,
        "heldout_curve": curve,
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "threads": cfg.threads, "machine": platform.machine()},
    }
    return manifest


def _publish(stage: Path, out: Path, manifest: dict) -> None:
    """Move the staged checkpoint into place, the manifest last."""
    import shutil

    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for role in ("base", "tuned"):
        if (out / role).exists():
            shutil.rmtree(out / role)
        (stage / role).rename(out / role)
    os.replace(stage / "manifest.json", out / "manifest.json")
    stage.rmdir()


def run(out: Path, cfg: TrainConfig, log: Callable[[str], None] = print, eval_curve: bool = True,
        eval_paper: bool = True) -> dict:
    """Build the pair into ``out`` (``base/``, ``tuned/``, ``manifest.json``); returns the manifest.

    Everything is written to ``out/.build`` first and moved into place at the end (manifest last), so an
    interrupted run leaves the previous checkpoint untouched.
    """
    t0 = time.time()
    out = Path(out)
    b = _start(out, cfg, log)
    sets = eval_sets(b.forms)
    _train(b, cfg, log, eval_curve, sets["heldout"])
    b.timings["train_total"] = time.time() - t0
    t_eval = time.time()
    results = _evaluate_pair(b, cfg, sets, ("heldout", "paper") if eval_paper else ("heldout",), log)
    b.timings["eval"] = time.time() - t_eval
    manifest = _manifest(b, cfg, results, t0)
    _publish(b.stage, out, manifest)
    log(f"wrote {out}/base, {out}/tuned, {out}/manifest.json in {time.time() - t0:.0f} s")
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m conj_harness.demo.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path, help="output folder (base/, tuned/, manifest.json)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-curve", action="store_true", help="skip the held-out ICL measurements during tuning")
    p.add_argument("--no-paper-eval", action="store_true", help="measure the held-out prompts only")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a TrainConfig field")
    args = p.parse_args(argv)
    cfg = TrainConfig(seed=args.seed)
    for kv in args.set:
        k, v = kv.split("=", 1)
        cur = getattr(cfg, k)
        setattr(cfg, k, type(cur)(json.loads(v)) if not isinstance(cur, str) else v)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from conj_harness.errors import ConjError

    try:
        run(args.out, cfg, log=lambda m: print(m, flush=True), eval_curve=not args.no_curve,
            eval_paper=not args.no_paper_eval)
    except ConjError as e:  # e.g. no sentence files: say how to get them, no stack trace
        print(f"demo_train: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
