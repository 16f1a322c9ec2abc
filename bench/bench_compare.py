"""Compare at scale (issue 12): model loads per compare, and compare's wall time against plain conj-eval runs.

    python -m bench.bench_compare                       # hf backend (CPU here)
    .venv-vllm/bin/python -m bench.bench_compare --backend vllm

On two tiny random Llamas (seeds 0 and 1) and a random LoRA adapter on the first, all built offline, with the same
tasks (default: the 7 ``conj_icl`` tasks) and ``--limit`` everywhere, one run of each, in this order:

1. reference: one ``conj-eval`` process per model over all the tasks (what a user would run by hand);
2. ``conj-harness compare`` (default: a model worker per model) - goal: wall <= 1.1x the reference;
3. ``compare --process-per task`` (the old default: one process, one model load, per model and task);
4. ``compare --tuned-adapter`` (base + adapter) - goal: 1 model load for the pair on vLLM (and on hf).

Loads are counted from the compare folder's ``loads.jsonl`` (one line per model load of a worker; per-task runs
load once per unit). Each line printed is JSON; a markdown table goes to stderr; ``--json`` saves everything.
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

VLLM_ARGS = "enforce_eager=True,dtype=float32,max_model_len=2048"


def _timed(cmd: list[str], log: Path) -> float:
    t0 = time.perf_counter()
    with open(log, "wb") as sink:
        proc = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return seconds


def _loads(out: Path) -> int:
    path = out / "loads.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["hf", "vllm"], default="hf")
    ap.add_argument("--tasks", default="conj_icl")
    ap.add_argument("--limit", default="20")
    ap.add_argument("--json", type=Path, help="write all measurements here")
    args = ap.parse_args(argv)
    if args.backend == "vllm":
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    from conj_harness.lmeval.registration import resolve_tasks
    from tests.support.tiny_models import build_llama, build_lora

    tasks = resolve_tasks([args.tasks])
    root = Path(tempfile.mkdtemp(prefix="bench_compare_"))
    base, tuned = build_llama(root / "base", seed=0), build_llama(root / "tuned", seed=1)
    lora = build_lora(base, root / "lora", seed=3, targets=("q_proj", "v_proj", "o_proj"))
    extra = VLLM_ARGS if args.backend == "vllm" else "dtype=float32"
    batch = "auto" if args.backend == "vllm" else "8"
    common = ["--tasks", *tasks, "--limit", args.limit, "--backend", args.backend, "--model-args", extra,
              "--batch-size", batch, "--bootstrap", "200", "--no-progress"]
    rows: list[dict] = []

    def record(name: str, seconds: float, loads: int | None) -> None:
        row = {"bench": "compare", "backend": args.backend, "case": name, "tasks": len(tasks), "limit": args.limit,
               "seconds": round(seconds, 1), "model_loads": loads}
        rows.append(row)
        print(json.dumps(row), flush=True)

    reference = 0.0
    for i, model in enumerate((base, tuned)):
        reference += _timed([_bin("conj-eval"), "--model", args.backend, "--model_args", f"pretrained={model},{extra}",
                             "--tasks", ",".join(tasks), "--limit", args.limit, "--batch_size", batch,
                             "--output_path", str(root / f"ref{i}"), "--log_samples"], root / f"ref{i}.log")
    record("conj-eval per model (reference)", reference, 2)
    out = root / "compare"
    record("compare (worker per model)", _timed([_bin("conj-harness"), "compare", "--base", str(base), "--tuned",
                                                 str(tuned), *common, "--output", str(out)], root / "c.log"),
           _loads(out))
    out = root / "per_task"
    record("compare --process-per task (old default)",
           _timed([_bin("conj-harness"), "compare", "--base", str(base), "--tuned", str(tuned), *common,
                   "--process-per", "task", "--output", str(out)], root / "t.log"), 2 * len(tasks))
    out = root / "adapter"
    record("compare --tuned-adapter (base + LoRA)",
           _timed([_bin("conj-harness"), "compare", "--base", str(base), "--tuned-adapter", str(lora), *common,
                   "--output", str(out)], root / "a.log"), _loads(out))

    ref = rows[0]["seconds"]
    lines = ["| case | model loads | wall (s) | vs reference |", "|---|---:|---:|---:|"]
    lines += [f"| {r['case']} | {r['model_loads']} | {r['seconds']:.1f} | {r['seconds'] / ref:.2f}x |" for r in rows]
    print("\n".join(lines), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
