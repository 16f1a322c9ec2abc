"""The Ray executor against the local one (issue 26), ratios measured in one run on this machine.

    CONJ_DATA_DIR=../shared/data python -m bench.bench_ray [--limit 100] [--rounds 2] [--before DIR]

* **Study**: two pairs sharing their base - the demo pair, and the demo base against the demo tuned model loaded
  with other model args (``dtype=float32``: another identity, so another run) - on ``conj_icl_en`` and
  ``conj_icl_leet``. Local executor vs ``--executor ray`` with a Ray started on this machine and one single-thread
  actor per model run (``--cpus-per-model 1``: on 2 cores, two at a time). ``--before DIR``: also the local executor
  of an older checkout (before the study plan: the shared base ran once per pair).
* **Fixed cost**: the demo pair on one task, ``--limit 10``: local vs Ray (Ray's start, the actors, the transfer).

For each: wall seconds (median of the rounds, configurations alternated within each round), model loads (rows of
``loads.jsonl``), base loads, and task runs (committed units that were not copied from another pair). Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _study(folder: Path, limit: int) -> Path:
    from conj_harness.demo.checkpoint import demo_paths

    base, tuned = demo_paths()
    study = {"defaults": {"tasks": ["conj_icl_en", "conj_icl_leet"], "limit": limit, "batch_size": "32"},
             "pairs": [{"name": "demo", "base": str(base), "tuned": str(tuned)},
                       {"name": "demo-fp32", "base": str(base), "tuned": str(tuned),
                        "tuned_model_args": "dtype=float32"}]}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return path


def _counts(out: Path) -> dict:
    loads = [json.loads(x) for f in [*out.glob("loads.jsonl"), *out.glob("*/loads.jsonl")]
             for x in f.read_text().splitlines()]
    done = [json.loads(p.read_text()) for p in [*out.glob("*/*/done.json"), *out.glob("*/*/*/done.json")]]
    return {"loads": len(loads), "base_loads": sum(1 for x in loads if x["roles"][0] == "base"),
            "task_runs": sum(1 for d in done if "shared_from" not in d), "units": len(done)}


def _run(cmd: list[str], out: Path, pythonpath: str | None = None) -> dict:
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "conj_harness.cli.main", *cmd, "--output", str(out),
                           "--no-progress"], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(),
                          check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{proc.stderr[-3000:]}")
    return {"seconds": round(seconds, 1), **_counts(out)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", help="a checkout of an older commit: its local executor on the same study")
    args = parser.parse_args()
    from conj_harness.demo.checkpoint import demo_paths

    base, tuned = demo_paths()
    work = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    study = _study(work, args.limit)
    ray = ["--executor", "ray", "--cpus-per-model", "1"]
    pair = ["compare", "--base", str(base), "--tuned", str(tuned), "--tasks", "conj_icl_en", "--limit", "10"]
    configs = {"study_local": (["compare", "--pairs", str(study)], None),
               "study_ray": (["compare", "--pairs", str(study), *ray], None),
               "pair_local": (pair, None), "pair_ray": ([*pair, *ray], None)}
    if args.before:
        configs["study_local_before"] = (["compare", "--pairs", str(study)], str(Path(args.before).resolve()))
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for round_ in range(args.rounds):
        for name, (cmd, path) in configs.items():
            runs[name].append(_run(cmd, work / f"{name}_{round_}", path))
    result: dict = {"machine": f"{os.cpu_count()} cores", "limit": args.limit, "rounds": args.rounds}
    for name, rows in runs.items():
        result[name] = {**rows[-1], "seconds": statistics.median(r["seconds"] for r in rows),
                        "all_seconds": [r["seconds"] for r in rows]}
    result["ratio_study_ray_vs_local"] = round(result["study_ray"]["seconds"] / result["study_local"]["seconds"], 3)
    result["ratio_pair_ray_vs_local"] = round(result["pair_ray"]["seconds"] / result["pair_local"]["seconds"], 3)
    if args.before:
        result["ratio_study_ray_vs_before"] = round(result["study_ray"]["seconds"] /
                                                    result["study_local_before"]["seconds"], 3)
        result["ratio_study_local_vs_before"] = round(result["study_local"]["seconds"] /
                                                      result["study_local_before"]["seconds"], 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
