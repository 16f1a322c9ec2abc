"""What ``conj-eval`` does to lm-eval's own CLI so that it runs the conj_* tasks in paper mode.

Every lm_eval flag and subcommand works unchanged: the arguments are parsed by lm-eval's parser, then this
module (1) swaps in :class:`~conj_harness.lmeval.registration.ConjTaskManager`, (2) skips indexing lm-eval's built-in
tasks when every requested name resolves locally, (3) rejects an unknown ``conj_*`` name with the list of valid
ones, (4) converts a GGUF checkpoint once into a cached folder (:mod:`conj_harness.checkpoints.gguf`), and (5)
applies the BOS policy to ``hf``/``vllm`` runs of conj tasks (:mod:`conj_harness.checkpoints.bos`: no BOS for the
paper's LLaMA/OPT checkpoints, a BOS for Gemma, the tokenizer's default otherwise) unless the user set
``add_bos_token``, recording the choice in the results' metadata (``bos_policy``). Before anything loads, the
backend's packages are checked (``--model vllm`` without vLLM says which extra to install) and, for vLLM, that
prompts are never silently truncated to ``max_model_len``.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
import sys
import time
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.lmeval import backends, compat

log = logging.getLogger("conj_harness")

#: Set by ``compare --process-per task`` for its ``conj-eval`` children: the parent built and checked every task.
CHECKED_BY_PARENT = "CONJ_TASKS_CHECKED_BY_PARENT"


def _resolves_locally(specs: list[str], local: list[str]) -> bool:
    return all(spec.endswith(".yaml") or fnmatch.filter(local, spec) for spec in specs)


def _as_dict(value: Any) -> dict[str, Any]:
    """lm-eval's ``--model_args`` / ``--metadata`` value as a dict (it may still be ``k=v,...`` or JSON text)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.startswith("{"):
            try:
                loaded = json.loads(text)
            except ValueError:
                return {}
            return loaded if isinstance(loaded, dict) else {}
        return dict(kv.split("=", 1) for kv in text.split(",") if "=" in kv)
    return {}


def _unsafe_code(task: str) -> ConjError:
    return ConjError(f"{task} runs code the model writes (unsafe_code: true in its YAML): pass "
                     "--confirm_run_unsafe_code to run it, in a sandbox")


def local_tasks(specs: list[str], index: dict[str, compat.IndexEntry]) -> list[str]:
    """The tasks of ``specs`` that ``index`` (ours, the user's, --include_path) defines."""
    from conj_harness.lmeval.registration import resolve_tasks_in

    local = [s for s in specs if not s.endswith(".yaml") and fnmatch.filter(list(index), s)]
    return resolve_tasks_in(index, local) if local else []


def check_task_data(specs: list[str], index: dict[str, compat.IndexEntry], metadata: dict[str, Any]) -> bool:
    """Load the documents of every requested conj-family task now, before lm-eval loads the model.

    A missing or malformed data file then stops the run in seconds with one line, instead of after a model load
    of minutes; the documents are kept (:func:`conj_harness.families.registry.load_docs`), so lm-eval's own load
    costs nothing more. Returns whether a judged (safety) task is among them.
    """
    from conj_harness.families import registry as families

    judged = False
    for task in local_tasks(specs, index):
        config = index[task].config
        family = families.family_of_tag(config.get("tag"))
        if family is not None:
            judged = judged or family.judged
            families.load_docs(family.name, **{**(config.get("metadata") or {}), **metadata,
                                               **(config.get("dataset_kwargs") or {})})
    return judged


def record_judge(args: Any, metadata: dict[str, Any]) -> None:
    """For a run with safety tasks: resolve the judge (metadata, else ``CONJ_JUDGE_*``), check it before anything
    loads, and write it into ``--metadata`` so every results file records which judge labelled the responses."""
    from conj_harness.judge.registry import JudgeSpec, check_judge

    spec = JudgeSpec.from_metadata(metadata)
    check_judge(spec)
    args.metadata = {**metadata, **{k: v for k, v in spec.as_metadata().items() if v is not None},
                     "judge_identity": spec.identity()}


def apply_checkpoint_policy(model_args: dict[str, Any], paper_mode: bool) -> dict[str, Any]:
    """A GGUF becomes its converted folder; for conj tasks (``paper_mode``) the BOS policy sets ``add_bos_token``.

    The choice is returned under ``_bos_policy`` (popped by the caller into the results' metadata) and said in one
    line on stderr.
    """
    from conj_harness.checkpoints import bos, gguf

    model_args, _source = gguf.resolve_model_args(model_args)
    if not paper_mode:
        return model_args
    choice = bos.decide(model_args)
    if choice.add_bos_token is not None and not choice.user_set:
        model_args = {**model_args, "add_bos_token": choice.add_bos_token}
    if not choice.user_set:
        log.warning(choice.line())
    return {**model_args, "_bos_policy": choice.as_metadata()}


def prepare(args: Any, build: bool = True) -> None:
    """Adjust parsed lm-eval arguments in place and check them before anything loads (see module docstring).

    ``build``: build every requested local task and render its prompts (:mod:`conj_harness.lmeval.preflight`), so a
    task that cannot run is one line before the model loads; a compare's worker, whose parent did that, skips it.
    """
    from conj_harness.lmeval import backend_checks, registration

    command = getattr(args, "command", None)
    model = getattr(args, "model", None) or "hf"
    if command == "run":
        backend_checks.require_backend(model)  # one line naming the extra, not a deep ImportError

    compat.install_task_manager(registration.ConjTaskManager)
    tasks = getattr(args, "tasks", None)
    if isinstance(tasks, str):  # `validate` takes a comma-separated string
        tasks = tasks.split(",")
    if not tasks:
        return  # `ls`, or tasks from a --config file: keep lm-eval's full index
    include_path = getattr(args, "include_path", None)
    index = _checked_index(tasks, include_path)
    local = sorted(index)
    all_local = _resolves_locally(tasks, local)
    if all_local:
        compat.install_task_manager(registration.ConjTaskManager.without_builtins())
    if command != "run":
        return
    model_args = _as_dict(args.model_args)
    bos_policy = None
    entry = backends.known(model)
    if entry is not None and entry.bos_policy:
        model_args = apply_checkpoint_policy(model_args, paper_mode=all_local)
        bos_policy = model_args.pop("_bos_policy", None)
    if isinstance(args.model_args, dict) or model_args:
        args.model_args = model_args
    backend_checks.check_model_sources(model, model_args)
    metadata = _as_dict(getattr(args, "metadata", None))
    if bos_policy is not None:
        metadata["bos_policy"] = bos_policy
        args.metadata = metadata
    _check_run_tasks(args, tasks, index, metadata, build, all_local)
    if all_local:
        backend_checks.check_context(model, model_args)


def _checked_index(tasks: list[str], include_path: Any) -> dict[str, compat.IndexEntry]:
    """The local task index, after the name checks every command shares: an unknown ``conj_*`` name (the valid ones
    listed), a YAML that names a task but does not parse (its file and line), a name that shadows another."""
    from conj_harness.lmeval import registration

    index = compat.task_index(registration.search_paths(include_path))  # two folders defining one name: refused
    local = sorted(index)
    registration.check_conj_names(tasks, local)
    for spec in tasks:  # a YAML file that names it but does not parse: lm-eval would call the name unknown
        if not spec.endswith(".yaml") and not fnmatch.filter(local, spec):
            registration.check_unreadable(spec, include_path)
    registration.check_builtin_shadowing(index, include_path)
    return index


def _check_run_tasks(args: Any, tasks: list[str], index: dict[str, compat.IndexEntry], metadata: dict[str, Any],
                     build: bool, all_local: bool) -> None:
    """What a run's local tasks need, checked before the model loads: code they would run, their documents, the
    judge of safety tasks, and (``build``) every task built with its prompts rendered."""
    unsafe = [t for t in local_tasks(tasks, index) if index[t].config.get("unsafe_code")]
    if unsafe and not getattr(args, "confirm_run_unsafe_code", False):
        raise _unsafe_code(unsafe[0])
    if check_task_data(tasks, index, metadata):
        record_judge(args, metadata)
    if build:
        from conj_harness.lmeval.preflight import check_tasks

        model_args = args.model_args if isinstance(args.model_args, dict) else _as_dict(args.model_args)
        run_metadata = {**model_args, **_as_dict(getattr(args, "metadata", None))}  # what lm-eval's CLI gives tasks
        check_tasks(local_tasks(tasks, index), getattr(args, "include_path", None), metadata=run_metadata,
                    builtins=not all_local)


def _redact_outputs(args: Any, since: float) -> None:
    """lm-eval writes the model args, credentials included, into its results file (``config.model_args`` and each
    task's metadata): the files this run wrote under ``--output_path`` are rewritten with them masked. Files that
    were there before the run are never touched."""
    from pathlib import Path

    from conj_harness.files import atomic, redact

    model_args = getattr(args, "model_args", None)
    model_args = model_args if isinstance(model_args, dict) else {}
    secrets = redact.secret_values([",".join(f"{k}={v}" for k, v in model_args.items())]) | redact.secrets_in_env()
    urls = any(redact.redact_url(str(v)) != str(v) for v in model_args.values())
    if not (secrets or urls or any(redact.is_secret_key(k) for k in model_args)) or \
            not getattr(args, "output_path", None):
        return
    root = Path(args.output_path)
    for path in [*root.rglob("results_*.json"), *root.rglob("samples_*.jsonl")] if root.exists() else []:
        if path.stat().st_mtime < since - 1:
            continue
        if path.suffix == ".json":
            atomic.write_json(path, redact.redact(json.loads(path.read_text(encoding="utf-8")), secrets))
        else:
            data = path.read_bytes()
            clean = redact.redact_bytes(data, secrets, keys=False)
            if clean != data:
                atomic.write_bytes(path, clean)


def run(argv: list[str]) -> None:
    """Parse ``argv`` with lm-eval's own parser, :func:`prepare` the arguments, and run the subcommand."""
    parser = compat.harness_cli()  # checks the lm-eval version first
    saved = sys.argv
    sys.argv = ["conj-eval", *argv]  # lm-eval's parser reads sys.argv
    try:
        args = parser.parse_args()
    finally:
        sys.argv = saved
    prepare(args, build=os.environ.get(CHECKED_BY_PARENT) != "1")
    started = time.time()
    try:
        parser.execute(args)
        _redact_outputs(args, started)
    except ValueError as e:
        unsafe = re.match(r"Attempted to run task: (\S+) which is marked as unsafe", str(e))
        if unsafe is None:
            raise
        raise _unsafe_code(unsafe.group(1)) from None
