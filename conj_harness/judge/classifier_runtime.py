"""Running a classifier over a whole batch of prompts: vLLM when it is installed, else transformers.

A judge sees all of a task's responses at once (the lm-eval filter hands it the task), so the classifier runs as
one batch: vLLM schedules it itself; transformers runs it in left-padded chunks of ``batch_size``. Decoding is
greedy. :meth:`ClassifierRuntime.digit_logits` serves StrongREJECT's grader, which reads the next-token logits of
the prompt instead of generating.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from conj_harness.errors import ConjError

log = logging.getLogger("conj_harness")


class ClassifierRuntime(Protocol):
    tokenizer: Any
    engine: str
    #: The longest prompt plus output the model takes (tokens).
    max_len: int

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]: ...

    def digit_logits(self, prompts: list[str], tokens: tuple[str, ...]) -> list[list[float]]: ...


def check_model_source(model: str) -> None:
    """One line before anything loads: a path that does not exist, or (offline) a hub id that is not cached."""
    path = Path(os.path.expanduser(model))
    if path.exists():
        return
    if model.startswith(("/", "./", "../", "~")):
        raise ConjError(f"judge model {model}: no such folder or GGUF file")
    offline = any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on")
                  for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    if offline:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            return
        cached = any(isinstance(try_to_load_from_cache(model, name), str)
                     for name in ("config.json", "adapter_config.json", "tokenizer_config.json"))
        if not cached:
            raise ConjError(f"judge model {model}: no such folder, and not in the local Hugging Face cache "
                            "(offline): give the classifier's folder")


def local_model(model: str) -> str:
    """A classifier given as a GGUF file is read from its converted folder (converted once, cached)."""
    if model.endswith(".gguf") and Path(os.path.expanduser(model)).is_file():
        from conj_harness.checkpoints.gguf import convert

        return str(convert(Path(os.path.expanduser(model))))
    return model


def load_tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    check_model_source(model)
    model = local_model(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as e:
        raise ConjError(f"judge model {model}: cannot load its tokenizer ({str(e).splitlines()[0][:200]})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def vllm_available() -> bool:
    """A real vLLM package (a folder named vllm on the path is only a namespace package and does not count)."""
    try:
        return getattr(importlib.util.find_spec("vllm"), "origin", None) is not None
    except (ImportError, ValueError):
        return False


class HFRuntime:
    """transformers: greedy ``generate`` in left-padded chunks; next-token logits from one forward pass."""

    engine = "transformers"

    def __init__(self, model: str, tokenizer: Any, device: str | None = None, batch_size: int = 16) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"
        self.batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            loaded: Any = AutoModelForCausalLM.from_pretrained(model)
            self.model = loaded.to(self.device).eval()
        except (OSError, ValueError) as e:
            raise ConjError(f"judge model {model}: cannot load it ({str(e).splitlines()[0][:200]})") from None
        self.max_len = int(getattr(self.model.config, "max_position_embeddings", 0) or 4096)

    def _encode(self, prompts: list[str]) -> Any:
        # the prompts carry their own markup; only the tokenizer's BOS is added (the classifiers' own usage)
        has_bos = bool(prompts) and bool(self.tokenizer.bos_token) and prompts[0].lstrip().startswith(
            self.tokenizer.bos_token)
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=not has_bos)
        return {k: v.to(self.device) for k, v in enc.items()}

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        import torch

        out: list[str] = []
        for i in range(0, len(prompts), self.batch_size):
            enc = self._encode(prompts[i:i + self.batch_size])
            with torch.no_grad():
                ids = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                          pad_token_id=self.tokenizer.pad_token_id)
            new = ids[:, enc["input_ids"].shape[1]:]
            out += self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return out

    def digit_logits(self, prompts: list[str], tokens: tuple[str, ...]) -> list[list[float]]:
        import torch

        ids = [self.tokenizer.convert_tokens_to_ids(t) for t in tokens]
        out: list[list[float]] = []
        for i in range(0, len(prompts), self.batch_size):
            enc = self._encode(prompts[i:i + self.batch_size])
            with torch.no_grad():
                logits = self.model(**enc).logits[:, -1, :]
            out += logits[:, ids].float().tolist()
        return out


class VLLMRuntime:
    """vLLM: one ``LLM.generate`` call for the whole batch (vLLM schedules it)."""

    engine = "vllm"

    def __init__(self, model: str, tokenizer: Any, **engine_args: Any) -> None:
        from vllm import LLM

        self.tokenizer = tokenizer
        self.llm = LLM(model=model, **engine_args)
        self.max_len = int(self.llm.llm_engine.model_config.max_model_len)

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
        return [o.outputs[0].text for o in self.llm.generate(prompts, params, use_tqdm=False)]

    def digit_logits(self, prompts: list[str], tokens: tuple[str, ...]) -> list[list[float]]:
        from vllm import SamplingParams

        ids = [self.tokenizer.convert_tokens_to_ids(t) for t in tokens]
        # restricted to the five digits; with logprobs_mode="processed_logprobs" (set by the judge) vLLM returns their
        # log-probabilities after the restriction: a softmax over the digits, which is what the grader computes
        # (log-probabilities differ from logits by a constant, which the grader's own softmax removes)
        params = SamplingParams(temperature=0.0, max_tokens=1, logprobs=len(ids), allowed_token_ids=ids)
        out = []
        for o in self.llm.generate(prompts, params, use_tqdm=False):
            first = o.outputs[0].logprobs[0] if o.outputs[0].logprobs else {}
            out.append([first[i].logprob if i in first else float("-inf") for i in ids])
        return out


#: Extra ``vllm.LLM`` arguments for the judge's engine, as JSON (e.g. ``{"gpu_memory_utilization": 0.3}`` when the
#: evaluated model's engine shares the GPU); engine settings only, never part of the judge's identity.
ENV_VLLM_ARGS = "CONJ_JUDGE_VLLM_ARGS"


def _vllm_args() -> dict[str, Any]:
    import json

    text = os.environ.get(ENV_VLLM_ARGS, "").strip()
    if not text:
        return {}
    try:
        args = json.loads(text)
    except ValueError:
        raise ConjError(f"{ENV_VLLM_ARGS} is not JSON: {text[:80]!r}") from None
    if not isinstance(args, dict):
        raise ConjError(f"{ENV_VLLM_ARGS} must be a JSON object of vllm.LLM arguments")
    return args


def load_runtime(model: str, tokenizer: Any, engine: str = "auto", device: str | None = None,
                 batch_size: int = 16, **engine_args: Any) -> ClassifierRuntime:
    """``engine``: ``auto`` (vLLM when installed), ``vllm`` or ``transformers``."""
    if engine not in ("auto", "vllm", "transformers"):
        raise ConjError(f"judge engine {engine!r}: use auto, vllm or transformers")
    model = local_model(model)
    if engine == "vllm" or (engine == "auto" and vllm_available()):
        return VLLMRuntime(model, tokenizer, **{**_vllm_args(), **engine_args})
    return HFRuntime(model, tokenizer, device=device, batch_size=batch_size)  # engine_args are vLLM's only
