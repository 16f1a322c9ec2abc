"""What ``conj-eval`` does to lm-eval's own CLI so that it runs the conj_* tasks in paper mode.

Every lm_eval flag and subcommand works unchanged: the arguments are parsed by lm-eval's parser, then this
module (1) swaps in :class:`~conj_harness.lmeval.registration.ConjTaskManager`, (2) skips indexing lm-eval's built-in
tasks when every requested name resolves locally, (3) rejects an unknown ``conj_*`` name with the list of valid
ones, and (4) applies the paper's no-BOS setting (``add_bos_token=False``) to ``hf``/``vllm`` runs of conj tasks
unless the user set it. Before anything loads, the backend's packages are checked (``--model vllm`` without vLLM
says which extra to install) and, for vLLM, that prompts are never silently truncated to ``max_model_len``.
"""

from __future__ import annotations

import fnmatch
import logging
import sys

log = logging.getLogger("conj_harness")

BOS_BACKENDS = {"hf", "hf-auto", "huggingface", "vllm", "vllm-vlm"}


def _resolves_locally(specs: list[str], local: list[str]) -> bool:
    return all(spec.endswith(".yaml") or fnmatch.filter(local, spec) for spec in specs)


def prepare(args) -> None:
    """Adjust parsed lm-eval arguments in place (see module docstring)."""
    from conj_harness.lmeval import backend_checks, compat, registration

    if getattr(args, "command", None) == "run":
        backend_checks.require_backend(args.model or "hf")  # one line naming the extra, not a deep ImportError

    compat.install_task_manager(registration.ConjTaskManager)
    tasks = getattr(args, "tasks", None)
    if isinstance(tasks, str):  # `validate` takes a comma-separated string
        tasks = tasks.split(",")
    if not tasks:
        return  # `ls`, or tasks from a --config file: keep lm-eval's full index
    local = registration.local_task_names(getattr(args, "include_path", None))
    registration.check_conj_names(tasks, local)
    all_local = _resolves_locally(tasks, local)
    registration.ConjTaskManager.include_defaults = not all_local
    if all_local and getattr(args, "command", None) == "run" and (args.model or "hf") in BOS_BACKENDS:
        model_args = args.model_args if isinstance(args.model_args, dict) else {}
        if "add_bos_token" not in model_args:
            model_args["add_bos_token"] = False
            log.info("conj-eval: add_bos_token=False (paper mode: no BOS token); pass add_bos_token=True to override")
        args.model_args = model_args
    if all_local and getattr(args, "command", None) == "run":
        backend_checks.check_context(args.model or "hf", args.model_args if isinstance(args.model_args, dict) else {})


def run(argv: list[str]) -> None:
    """Parse ``argv`` with lm-eval's own parser, :func:`prepare` the arguments, and run the subcommand."""
    from conj_harness.lmeval import compat

    parser = compat.harness_cli()  # checks the lm-eval version first
    saved = sys.argv
    sys.argv = ["conj-eval", *argv]  # lm-eval's parser reads sys.argv
    try:
        args = parser.parse_args()
    finally:
        sys.argv = saved
    prepare(args)
    parser.execute(args)
