"""The BOS policy: does a prompt start with the tokenizer's beginning-of-sequence token?

The paper ran LLaMA-1/2, Code Llama and OPT with ``add_special_tokens=False`` (no BOS), and paper mode keeps that for
those families. Other models were trained with their tokenizer's BOS, and some break without it: google/gemma-3-270m
(base), greedy, on "The capital of France is" gives " the capital of the country of France. It is the largest" with
its BOS and " France. The The The The..." without (docs/real-models.md). So the rule, per family:

* ``gemma*`` - BOS (``add_bos_token=True``);
* ``llama`` / ``opt`` whose BOS is the paper models' ``<s>`` / ``</s>`` - no BOS (paper mode);
* anything else (Llama 3, SmolLM2, Qwen, Mistral, ...) - the tokenizer's own default (``add_bos_token`` unset);
* a checkpoint whose config cannot be read - no BOS, as before this policy, with a line saying why.

An explicit ``add_bos_token=`` in the model args always wins. The facts are read from files (``config.json`` and
``tokenizer_config.json``, a GGUF header, or the hub cache), never by loading the model.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Families trained with a BOS that degrade without one (measured on gemma-3-270m; lm-eval's docs say the same).
NEEDS_BOS_PREFIXES = ("gemma",)
#: The paper's families, run without a BOS by the authors: paper mode keeps that when the BOS is theirs.
PAPER_FAMILIES = {"llama": "<s>", "opt": "</s>"}


@dataclass(frozen=True)
class ModelFacts:
    """What the checkpoint's files say, before it loads."""

    family: str | None  # config.json's model_type, or the GGUF's general.architecture
    bos_token: str | None
    source: str  # where the facts were read: a file, or why nothing could be


@dataclass(frozen=True)
class BosChoice:
    add_bos_token: bool | None  # None: the tokenizer's own default
    family: str | None
    reason: str
    user_set: bool = False

    def as_metadata(self) -> dict[str, Any]:
        return {"add_bos_token": self.add_bos_token, "family": self.family, "reason": self.reason,
                "user_set": self.user_set}

    def line(self, program: str = "conj-eval") -> str:
        value = "tokenizer default" if self.add_bos_token is None else f"add_bos_token={self.add_bos_token}"
        return f"{program}: {value} ({self.reason}); pass add_bos_token=True/False in the model args to override"


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _facts_from_folder(folder: Path) -> ModelFacts:
    config = _json(folder / "config.json")
    tok = _json(folder / "tokenizer_config.json")
    bos = _token_text(tok.get("bos_token")) or _token_text(_json(folder / "special_tokens_map.json").get("bos_token"))
    family = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    return ModelFacts(family, bos, str(folder / "config.json") if config else f"no config.json in {folder}")


def _facts_from_gguf(path: Path) -> ModelFacts:
    from conj_harness.checkpoints.gguf import read_header

    header = read_header(path)
    return ModelFacts(header.get("architecture"), header.get("bos_token"), str(path))


def _facts_from_hub(repo: str) -> ModelFacts:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return ModelFacts(None, None, "huggingface_hub is not installed")
    found = {}
    for name in ("config.json", "tokenizer_config.json"):
        try:
            path = try_to_load_from_cache(repo, name)
        except Exception:  # noqa: BLE001 - an id the hub library rejects: no facts, the caller says so
            path = None
        if isinstance(path, str):
            found[name] = Path(path)
    if "config.json" not in found:
        return ModelFacts(None, None, f"{repo}: config.json is not in the Hugging Face cache yet")
    folder_like = found["config.json"].parent
    return _facts_from_folder(folder_like)


@functools.lru_cache(maxsize=64)
def model_facts(pretrained: str, gguf_file: str | None = None) -> ModelFacts:
    """The family and BOS token of a folder, a GGUF file (alone or ``gguf_file`` in a folder) or a hub id."""
    path = Path(os.path.expanduser(pretrained))
    if gguf_file:
        gguf = Path(gguf_file) if Path(gguf_file).is_absolute() else path / gguf_file
        if gguf.is_file():
            return _facts_from_gguf(gguf)
    if path.is_file() and path.suffix == ".gguf":
        return _facts_from_gguf(path)
    if path.is_dir():
        return _facts_from_folder(path)
    return _facts_from_hub(pretrained)


def decide(model_args: dict[str, Any]) -> BosChoice:
    """The BOS choice for a local hf/vllm model given as lm-eval model args (``pretrained``, ``gguf_file``)."""
    if "add_bos_token" in model_args:
        value = model_args["add_bos_token"]
        chosen = value if isinstance(value, bool) else str(value).strip().lower() == "true"
        return BosChoice(chosen, None, "set in the model args", user_set=True)
    pretrained = str(model_args.get("pretrained") or "")
    facts = model_facts(pretrained, model_args.get("gguf_file")) if pretrained else \
        ModelFacts(None, None, "no pretrained= in the model args")
    return decide_for(facts)


def decide_for(facts: ModelFacts) -> BosChoice:
    family = (facts.family or "").lower() or None
    if family and family.startswith(NEEDS_BOS_PREFIXES):
        return BosChoice(True, family, f"{family} models need their BOS token; without it output degenerates")
    if family in PAPER_FAMILIES and facts.bos_token in (PAPER_FAMILIES[family], None):
        return BosChoice(False, family, f"paper mode: no BOS token, as the authors ran {family} checkpoints")
    if family:
        return BosChoice(None, family, f"{family} is not one of the paper's families: the tokenizer decides")
    return BosChoice(False, None, f"paper mode: no BOS token (model family unknown: {facts.source})")
