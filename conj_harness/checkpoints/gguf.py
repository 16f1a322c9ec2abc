"""GGUF checkpoints: read the header, and convert a file once into a cached safetensors folder.

transformers loads a GGUF file by dequantising every tensor and converting the tokenizer: about 100 s for
gemma-3-270m Q4_K_M on 2 CPU cores, every time. A compare loads each model once per worker, and a researcher runs many
compares, so a GGUF given as ``pretrained=FILE.gguf`` (or ``pretrained=DIR,gguf_file=NAME``) is converted once into
``$CONJ_MODEL_CACHE`` (default ``$XDG_CACHE_HOME/conj_harness/models``), in a folder named by the file's sha256, and
every later load reads that folder (seconds; docs/real-models.md has the figures). The folder holds what
transformers loaded from the GGUF - dequantised weights, the converted tokenizer - so its outputs are the GGUF's.
``CONJ_GGUF_CONVERT=0`` keeps lm-eval's own ``gguf_file=`` loading instead (every load dequantises again).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.files import locks
from conj_harness.files.digest import sha256_file

log = logging.getLogger("conj_harness")

#: Written last into a converted folder: the folder is complete exactly when this file exists.
DONE_FILE = "conj_gguf_conversion.json"


class GGUFError(ConjError):
    pass


def cache_root() -> Path:
    env = os.environ.get("CONJ_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "conj_harness" / "models"


def read_header(path: Path) -> dict[str, Any]:
    """The architecture and BOS token a GGUF file declares (its metadata, memory-mapped; no tensor is read)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise GGUFError(f"{path}: reading a GGUF file needs the gguf package: pip install gguf") from None
    try:
        reader = GGUFReader(str(path))
    except (OSError, ValueError) as e:
        raise GGUFError(f"{path}: not a readable GGUF file ({e})") from None

    def value(key: str) -> Any:
        field = reader.fields.get(key)
        return field.contents() if field is not None else None

    header: dict[str, Any] = {"architecture": value("general.architecture"), "bos_token": None,
                              "add_bos_token": value("tokenizer.ggml.add_bos_token")}
    bos_id, tokens = value("tokenizer.ggml.bos_token_id"), reader.fields.get("tokenizer.ggml.tokens")
    if isinstance(bos_id, int) and tokens is not None and 0 <= bos_id < len(tokens.data):
        header["bos_token"] = bytes(tokens.parts[tokens.data[bos_id]]).decode("utf-8", "replace")
    return header


def gguf_path(model_args: dict[str, Any]) -> Path | None:
    """The GGUF file the model args name (``pretrained=FILE.gguf``, or ``gguf_file`` alone or in a folder)."""
    pretrained = str(model_args.get("pretrained") or "")
    gguf_file = model_args.get("gguf_file")
    if gguf_file:
        candidate = Path(os.path.expanduser(str(gguf_file)))
        return candidate if candidate.is_absolute() else Path(os.path.expanduser(pretrained)) / candidate
    if pretrained.endswith(".gguf"):
        return Path(os.path.expanduser(pretrained))
    return None


def converted_folder(path: Path, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{path.stem}-{sha256_file(path)[:16]}"


def convert(path: Path, root: Path | None = None) -> Path:
    """The cached safetensors folder of a GGUF file, converting it first if needed (under a lock, atomically)."""
    if not path.is_file():
        raise GGUFError(f"{path}: no such GGUF file")
    read_header(path)  # one line for a file that is not GGUF, before minutes of loading
    target = converted_folder(path, root)
    if (target / DONE_FILE).is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # its own advice, before the lock's generic one
        with locks.exclusive(target.with_name(target.name + ".lock")):
            if (target / DONE_FILE).is_file():
                return target  # converted by another process while this one waited
            model, tokenizer = _load(path)
            _save(model, tokenizer, path, target)
    except OSError as e:
        raise GGUFError(f"cannot write the converted model under {target.parent} ({e.strerror or e}): set "
                        "CONJ_MODEL_CACHE to a writable folder, or CONJ_GGUF_CONVERT=0 to load the GGUF file "
                        "directly at every load") from None
    return target


def _load(path: Path) -> tuple[Any, Any]:
    """transformers' GGUF loading: dequantise every tensor, convert the tokenizer (minutes for a large file)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.warning("conj-harness: converting %s once (dequantised safetensors in %s; later loads take seconds)",
                path, cache_root())
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model: Any = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                          dtype=torch.float32)
    except Exception as e:  # noqa: BLE001 - transformers raises many kinds for a file it cannot convert
        raise GGUFError(f"{path}: transformers cannot load this GGUF file ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:200] if str(e) else ''})") from None
    # The tensors are dequantised already; the GGUF "quantizer" only marks the model as not saveable.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def _save(model: Any, tokenizer: Any, path: Path, target: Path) -> None:
    """Into a temporary sibling, then renamed: a folder with :data:`DONE_FILE` is always complete."""
    start = time.monotonic()
    for stale in target.parent.glob(target.name + ".tmp*"):  # left by an interrupted conversion (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        record = {"source": str(path.resolve()), "sha256": sha256_file(path), "dtype": "float32",
                  "save_seconds": round(time.monotonic() - start, 1), "transformers": _version("transformers")}
        (tmp / DONE_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)  # an earlier, unfinished conversion
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def resolve_model_args(model_args: dict[str, Any]) -> tuple[dict[str, Any], Path | None]:
    """Model args with a GGUF replaced by its converted folder (``CONJ_GGUF_CONVERT=0``: lm-eval's ``gguf_file``).

    Returns the new args and the GGUF file (None when the args name none).
    """
    path = gguf_path(model_args)
    if path is None:
        return model_args, None
    if not path.is_file():
        raise GGUFError(f"{path}: no such GGUF file (from pretrained=/gguf_file= in the model args)")
    args = {k: v for k, v in model_args.items() if k != "gguf_file"}
    if os.environ.get("CONJ_GGUF_CONVERT", "1").strip() in ("0", "false", "no"):
        return {**args, "pretrained": str(path.parent), "gguf_file": path.name}, path
    args["pretrained"] = str(convert(path))
    return args, path
