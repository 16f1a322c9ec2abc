"""lm-eval's model types as this project treats them: the one table the spec, the checks and the workers read.

A backend (lm-eval's ``--model``) either loads the weights in the worker's process (``hf``, ``vllm`` and lm-eval's
other in-process engines) or is a client of a server or an API. That decides the model argument's key
(``pretrained=`` / ``model=``), whether a LoRA adapter can be attached per role (``peft=`` / ``lora_local_path=``),
whether paper mode's BOS policy applies, whether the model's folders are checked before it loads, the default batch
size, and what an executor asks a cluster for (a GPU for a local engine, nothing for a client). lm-eval registers
several names for one engine (``hf``, ``hf-auto``, ``huggingface``); they share one entry, so ``--backend
huggingface`` is the ``hf`` engine everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from conj_harness.errors import ConjError

__all__ = ["Backend", "Engine", "backend", "known", "names_of"]

#: hf / vllm: the two engines this project drives fully (adapters, BOS policy, folder checks); local: another
#: engine that loads weights in-process; served: a client of a server or an API.
Engine = Literal["hf", "vllm", "local", "served"]


@dataclass(frozen=True)
class Backend:
    """What one lm-eval model type needs from a compare."""

    name: str
    engine: Engine
    #: the model argument that names the model: a folder or hub id (local engines), or the served model's name
    model_key: str
    #: the model argument that attaches a LoRA adapter (None: no adapter here)
    adapter_key: str | None
    #: ``--batch_size`` when the user gives none
    default_batch: str
    #: paper mode's BOS policy applies (the engine tokenizes with the checkpoint's Hugging Face tokenizer here)
    bos_policy: bool
    #: the packages lm-eval's module for it imports are checked, and the model folders it names, before it loads
    checks_sources: bool

    @property
    def local(self) -> bool:
        """The weights load in the worker's process (an executor gives it a GPU when the cluster has them)."""
        return self.engine != "served"

    @property
    def served(self) -> bool:
        return self.engine == "served"


_HF = Backend("hf", "hf", "pretrained", "peft", "8", bos_policy=True, checks_sources=True)
_VLLM = Backend("vllm", "vllm", "pretrained", "lora_local_path", "auto", bos_policy=True, checks_sources=True)
_LOCAL = Backend("local", "local", "pretrained", None, "1", bos_policy=False, checks_sources=False)
_SERVED = Backend("served", "served", "model", None, "1", bos_policy=False, checks_sources=False)

#: lm-eval 0.4.13's model types (``lm_eval.api.registry``). A type lm-eval registers later and this table lacks is
#: treated as a served client (no folder checks, no adapter, no BOS policy), which is what most new types are.
_TABLE: dict[str, Backend] = {
    **{n: replace(_HF, name=n) for n in ("hf", "hf-auto", "huggingface")},
    "hf-multimodal": replace(_HF, name="hf-multimodal", engine="local", adapter_key=None, bos_policy=False),
    **{n: replace(_VLLM, name=n) for n in ("vllm", "vllm-vlm")},
    **{n: replace(_LOCAL, name=n) for n in (
        "hf-mistral3", "hf-audiolm-qwen", "steered", "habana", "ipex", "openvino", "neuronx", "mamba_ssm",
        "onnxruntime", "onnxruntime-genai", "winml", "sglang")},
    # in-process engines whose model argument has another name (their lm-eval class's first argument)
    "trtllm": replace(_LOCAL, name="trtllm", model_key="model"),
    "nemo_lm": replace(_LOCAL, name="nemo_lm", model_key="path"),
    "megatron_lm": replace(_LOCAL, name="megatron_lm", model_key="load"),
    **{n: replace(_SERVED, name=n) for n in (
        "local-completions", "local-chat-completions", "openai-completions", "openai-chat-completions",
        "anthropic-chat", "anthropic-chat-completions", "anthropic-completions", "litellm", "litellm-chat",
        "litellm-chat-completions", "sglang-generate", "textsynth", "watsonx_llm", "gguf", "ggml", "dummy")},
}


def known(name: str) -> Backend | None:
    """The table's entry, or None for a name it lacks (no lm-eval import)."""
    return _TABLE.get((name or "hf").strip())


def backend(name: str, registered: Callable[[], list[str]]) -> Backend:
    """The entry for lm-eval model type ``name``; a name lm-eval does not register (``registered()``: the ones it
    does, :func:`conj_harness.lmeval.compat.model_types`) is one line listing them."""
    entry = known(name)
    if entry is not None:
        return entry
    types = registered()
    if name not in types:
        raise ConjError(f"unknown backend {name!r}: lm-eval's model types are {', '.join(types)}")
    return replace(_SERVED, name=name)


def names_of(engine: Engine) -> frozenset[str]:
    """Every model type of one engine (``names_of("hf")``: hf, hf-auto, huggingface)."""
    return frozenset(n for n, entry in _TABLE.items() if entry.engine == engine)
