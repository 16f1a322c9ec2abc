"""The files lm-eval writes under ``--output_path``, read in one place.

lm-eval 0.4.13 writes, per run, ``<output_path>/<model name>/results_<time>.json`` and, with ``--log_samples``,
one ``samples_<task>_<time>.jsonl`` per task. The compare runner reads a finished child's files from its scratch
folder; ``conj-harness report --base-run/--tuned-run`` reads folders made elsewhere. Both go through here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError

SAMPLES_FILE = re.compile(r"^samples_(.+)_(\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
RESULTS_FILE = re.compile(r"^results_(\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")
#: The keys of a results file that hold one entry per task.
_PER_TASK_KEYS = ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples", "task_hashes")


@dataclass
class RunFiles:
    """One model's lm-eval output: the latest samples file per task and the results file of the same run."""

    folder: Path
    samples: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Path | None] = field(default_factory=dict)


def find_run(folder: Path, *, what: str = "folder") -> RunFiles:
    """The samples files under ``folder`` (the ``--output_path`` or its ``<model>`` sub-folder).

    When a task was run several times, the latest run is used. Raises :class:`ConjError` when there are no samples
    files, or samples of several models (several sub-folders).
    """
    files = [p for p in folder.rglob("samples_*.jsonl") if SAMPLES_FILE.match(p.name)]
    if not files:
        raise ConjError(f"{what} {folder}: no samples_<task>_<time>.jsonl files; run lm-eval with --log_samples")
    parents = sorted({p.parent for p in files})
    if len(parents) > 1:
        shown = ", ".join(str(p.relative_to(folder)) for p in parents)
        raise ConjError(f"{what} {folder} holds runs of several models ({shown}): pass one of these sub-folders")
    latest: dict[str, tuple[str, Path]] = {}
    for path in files:
        match = SAMPLES_FILE.match(path.name)
        assert match is not None  # filtered above
        task, stamp = match.groups()
        if task not in latest or stamp > latest[task][0]:
            latest[task] = (stamp, path)
    by_stamp: dict[str, Path] = {}
    for path in parents[0].glob("results_*.json"):
        match = RESULTS_FILE.match(path.name)
        if match:
            by_stamp[match.group(1)] = path
    run = RunFiles(parents[0])
    for task, (stamp, path) in sorted(latest.items()):
        run.samples[task] = path
        run.results[task] = by_stamp.get(stamp)
    return run


def read_samples(path: Path) -> list[dict[str, Any]]:
    """A samples file's rows; a line that is not a JSON object raises :class:`ConjError` naming the line."""
    from conj_harness.files import jsonl

    return [row for _, row in jsonl.read_objects(path)]


def results_for_task(results: dict[str, Any], task: str) -> dict[str, Any]:
    """A results dict cut down to one task (one lm-eval process may have run several)."""
    out = dict(results)
    for key in _PER_TASK_KEYS:
        if isinstance(results.get(key), dict):
            out[key] = {k: v for k, v in results[key].items() if k == task}
    out.pop("group_subtasks", None)
    return out


def task_metrics(results: dict[str, Any], task: str) -> dict[str, float]:
    """``{metric: value}`` of one task's aggregated results (filter suffixes and stderr dropped)."""
    row = (results.get("results") or {}).get(task) or {}
    return {k.split(",")[0]: v for k, v in row.items()
            if "," in k and "_stderr" not in k and isinstance(v, (int, float))}


def task_digest(results: dict[str, Any], task: str) -> str | None:
    """A digest of ``task``'s config in one lm-eval results file (the run's metadata left out: it holds the model
    args); None when the file does not record it. The documents are compared one by one (``doc_hash``)."""
    from conj_harness.lmeval.preflight import portable_digest

    config = (results.get("configs") or {}).get(task)
    if not isinstance(config, dict):
        return None
    return portable_digest({k: v for k, v in config.items() if k != "metadata"})


def model_from_config(config: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(pretrained, adapter)`` from a results file's ``config.model_args`` (a dict or lm-eval's ``k=v,...``)."""
    args = config.get("model_args")
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    if not isinstance(args, dict):
        return None, None
    adapter = args.get("peft") or args.get("lora_local_path")
    return (str(args["pretrained"]) if args.get("pretrained") else None), (str(adapter) if adapter else None)


def read_results(path: Path | None) -> dict[str, Any]:
    """A results file's content (``{}`` when there is none or it cannot be read)."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_unit(output: Path, task: str) -> tuple[dict[str, Any], bytes] | str:
    """One task's results (its own part of lm-eval's results file) and samples from lm-eval's output folder, or
    why there are none usable. Read where lm-eval ran (a Ray actor reads it on its node and sends it back)."""
    try:
        run = find_run(output, what="lm-eval output")
    except ConjError as e:
        return f"lm-eval wrote no usable output ({e})"
    if task not in run.samples or run.results.get(task) is None:
        return "lm-eval wrote no results or samples"
    samples = run.samples[task].read_bytes()
    if not samples.strip():
        return "lm-eval wrote an empty samples file"
    return results_for_task(read_results(run.results[task]), task), samples
