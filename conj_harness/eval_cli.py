"""``conj-eval``: lm-eval's own CLI with the conj_* tasks registered.

Every lm_eval flag and subcommand works unchanged: the arguments are parsed by lm-eval's parser, then this
module (1) swaps in :class:`~conj_harness.registration.ConjTaskManager`, (2) skips indexing lm-eval's built-in
tasks when every requested name resolves locally, (3) rejects an unknown ``conj_*`` name with the list of valid
ones, and (4) applies the paper's no-BOS setting (``add_bos_token=False``) to ``hf``/``vllm`` runs of conj tasks
unless the user set it. Before anything loads, the backend's packages are checked (``--model vllm`` without vLLM
says which extra to install) and, for vLLM, that prompts are never silently truncated to ``max_model_len``.
"""

from __future__ import annotations

import fnmatch
import logging
import sys

from conj_harness.errors import ConjError

log = logging.getLogger("conj_harness")

BOS_BACKENDS = {"hf", "hf-auto", "huggingface", "vllm", "vllm-vlm"}


def _resolves_locally(specs: list[str], local: list[str]) -> bool:
    return all(spec.endswith(".yaml") or fnmatch.filter(local, spec) for spec in specs)


def prepare(args) -> None:
    """Adjust parsed lm-eval arguments in place (see module docstring)."""
    import lm_eval.tasks

    from conj_harness import backends, registration

    if getattr(args, "command", None) == "run":
        backends.require_backend(args.model or "hf")  # one line naming the extra, not a deep ImportError

    lm_eval.tasks.TaskManager = registration.ConjTaskManager  # read at call time by run/ls/validate
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
        backends.check_context(args.model or "hf", args.model_args if isinstance(args.model_args, dict) else {})


def main(argv: list[str] | None = None) -> None:
    from lm_eval._cli import HarnessCLI
    from lm_eval.utils import setup_logging

    console = argv is None
    if argv is not None:
        sys.argv = ["conj-eval", *argv]
    setup_logging()
    parser = HarnessCLI()
    try:
        args = parser.parse_args()
        prepare(args)
        parser.execute(args)
    except ConjError as e:
        print(f"conj-eval: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    if console:
        from conj_harness.backends import exit_now

        exit_now(0)  # results are written: skip the 5-8 s interpreter teardown (see backends.exit_now)


if __name__ == "__main__":
    main()
