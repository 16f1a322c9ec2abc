"""Where a small compare's time goes (issue 19): a timeline of ``conj-harness compare`` against one ``conj-eval``
per model on the same tasks and limit.

    python -m bench.profile_compare [--tasks conj_icl] [--limit 8] [--before DIR]

Two tiny random Llamas built offline (as ``bench_compare``). Each line the compare prints is stamped with the
seconds since launch, so the output shows the start-up before the first task finishes, each task's own time, and
the tail after the last task (the report: statistics and plots). ``--before DIR`` (a ``git worktree`` of an earlier
commit) also times that commit's compare on the same models, right after this one's (``PYTHONPATH=DIR``: its
package, tasks and workers). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _stamped(cmd: list[str], env: dict | None = None) -> tuple[float, list[tuple[float, str]]]:
    """Run ``cmd``; (wall seconds, [(seconds since launch, line)] of its stderr and stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env={**os.environ, **(env or {})})
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append((round(time.perf_counter() - t0, 2), line.rstrip()))
    if proc.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n" + "\n".join(x for _, x in lines[-20:]))
    return round(time.perf_counter() - t0, 2), lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="conj_icl")
    ap.add_argument("--limit", default="8")
    ap.add_argument("--before", help="a worktree of an earlier commit: its compare is timed too")
    args = ap.parse_args(argv)
    from conj_harness.lmeval.registration import resolve_tasks
    from tests.support.tiny_models import build_llama

    tasks = resolve_tasks([args.tasks])
    root = Path(tempfile.mkdtemp(prefix="profile_compare_"))
    base, tuned = build_llama(root / "base", seed=0), build_llama(root / "tuned", seed=1)
    report: dict = {"tasks": len(tasks), "limit": args.limit}
    reference = 0.0
    for i, model in enumerate((base, tuned)):
        wall, _ = _stamped([_bin("conj-eval"), "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
                            "--tasks", ",".join(tasks), "--limit", args.limit, "--batch_size", "8",
                            "--output_path", str(root / f"ref{i}"), "--log_samples"])
        report[f"conj_eval_{i}_s"] = wall
        reference += wall
    compare = ["compare", "--base", str(base), "--tuned", str(tuned), "--tasks", *tasks, "--limit", args.limit,
               "--model-args", "dtype=float32", "--batch-size", "8", "--bootstrap", "200", "--no-progress"]
    wall, lines = _stamped([_bin("conj-harness"), *compare, "--output", str(root / "pair")])
    if args.before:
        before, _ = _stamped([sys.executable, "-m", "conj_harness.cli.main", *compare, "--output",
                              str(root / "pair_before")], env={"PYTHONPATH": str(Path(args.before).resolve())})
        report["compare_before_s"] = before
    done = [(t, x) for t, x in lines if ": done in " in x]
    report.update({
        "reference_s": round(reference, 1), "compare_s": wall, "ratio": round(wall / reference, 2),
        "first_task_done_s": done[0][0] if done else None, "last_task_done_s": done[-1][0] if done else None,
        "after_last_task_s": round(wall - done[-1][0], 1) if done else None,
        "timeline": [[t, x[:140]] for t, x in lines if "conj-harness" in x or ": done in " in x][:40],
    })
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
