"""Does a LoRA adapter fit the model it is applied to? Checked before any model loads.

An adapter trained on another base model fails deep inside peft or vLLM - after minutes of loading, with a shape
error naming a tensor - or, worse, when the shapes happen to agree, silently evaluates nonsense. The adapter's
``adapter_config.json`` names its base (``base_model_name_or_path``), but that name rarely matches how the user
spells the model (a hub id vs a local folder), so the check is structural: every module the adapter's weights
target must exist in the model (built from its config on the ``meta`` device: no weights, no memory) with the
input and output sizes of the adapter's ``lora_A`` / ``lora_B`` matrices.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.pairs.spec import PairSpec

_PREFIX = "base_model.model."


def check_adapter(spec: PairSpec) -> None:
    """One line (:class:`ConjError`) when ``spec.tuned_adapter`` is not a LoRA adapter for ``spec.tuned``."""
    if not spec.tuned_adapter or spec.served:
        return
    folder = Path(spec.tuned_adapter)
    if not folder.is_dir():
        return  # a hub id: peft resolves it (check_local_paths already refused a missing path)
    config = _adapter_config(folder)
    shapes = _lora_shapes(folder)
    model = _meta_model(str(spec.tuned))
    if model is None or not shapes:
        return  # the model's config is not readable here: leave the verdict to the loader
    named = config.get("base_model_name_or_path")
    trained_on = f" (it was trained on {named})" if named else ""
    for module_path, (fan_in, fan_out) in sorted(shapes.items()):
        try:
            module = model.get_submodule(module_path)
        except AttributeError:
            raise ConjError(f"--tuned-adapter {folder} does not fit {spec.tuned}{trained_on}: it adapts "
                            f"{module_path}, which that model does not have") from None
        expected = _linear_shape(module)
        if expected is not None and expected != (fan_in, fan_out):
            raise ConjError(f"--tuned-adapter {folder} does not fit {spec.tuned}{trained_on}: {module_path} takes "
                            f"{expected[0]} inputs and gives {expected[1]} outputs in the model, {fan_in} and "
                            f"{fan_out} in the adapter")


def _adapter_config(folder: Path) -> dict[str, Any]:
    path = folder / "adapter_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConjError(f"--tuned-adapter {folder} holds no adapter_config.json: not a PEFT adapter folder") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ConjError(f"--tuned-adapter {folder}: cannot read adapter_config.json ({e})") from None
    if not isinstance(config, dict):
        raise ConjError(f"--tuned-adapter {folder}: adapter_config.json is not a JSON object")
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise ConjError(f"--tuned-adapter {folder} is a {config.get('peft_type')} adapter: only LoRA adapters run "
                        "on vLLM and attach to a loaded model")
    return config


def _lora_shapes(folder: Path) -> dict[str, tuple[int, int]]:
    """Module path -> (input size, output size) of every LoRA pair in the adapter's weights (no tensors read)."""
    found: dict[str, list[int | None]] = {}
    for key, shape in _weight_shapes(folder).items():
        for part, index in ((".lora_A.", 0), (".lora_B.", 1)):
            if part in key and len(shape) == 2:
                module = key.split(part)[0]
                module = module[len(_PREFIX):] if module.startswith(_PREFIX) else module
                entry = found.setdefault(module, [None, None])
                entry[index] = shape[1] if index == 0 else shape[0]
    return {m: (a, b) for m, (a, b) in found.items() if a is not None and b is not None}


def _weight_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    safetensors_file = folder / "adapter_model.safetensors"
    if safetensors_file.is_file():
        from safetensors import safe_open

        try:
            with safe_open(str(safetensors_file), framework="pt") as f:
                return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 - not a dict
        except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
            raise ConjError(f"--tuned-adapter {folder}: adapter_model.safetensors is unreadable ({e})") from None
    bin_file = folder / "adapter_model.bin"
    if bin_file.is_file():
        import torch

        try:
            state = torch.load(bin_file, map_location="meta", weights_only=True)
        except Exception as e:  # noqa: BLE001 - a torch pickle can fail in many ways
            raise ConjError(f"--tuned-adapter {folder}: adapter_model.bin is unreadable ({e})") from None
        return {k: tuple(v.shape) for k, v in state.items()}
    raise ConjError(f"--tuned-adapter {folder} holds no adapter_model.safetensors or adapter_model.bin")


def _meta_model(name: str) -> Any:
    """The model built from its config with no weights (None when the config cannot be read here)."""
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(name)
        with torch.device("meta"):
            return AutoModelForCausalLM.from_config(config)
    except Exception:  # noqa: BLE001 - not readable offline, or not a causal LM: the loader will say why
        return None


def _linear_shape(module: Any) -> tuple[int, int] | None:
    """(inputs, outputs) of a linear layer: torch's Linear, or GPT-2's Conv1D (nx, nf)."""
    if isinstance(getattr(module, "in_features", None), int):
        return module.in_features, module.out_features
    if isinstance(getattr(module, "nx", None), int):
        return module.nx, module.nf
    return None
