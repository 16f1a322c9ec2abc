"""Conjugating any lm-eval task (issue 13): what a conjugated task costs against the original task.

    CONJ_DATA_DIR=../shared/data python -m bench.bench_conjugate [--limit 40] [--rounds 3]

lm-eval's own ``gsm8k`` (5-shot, generate_until) on the mirror's ``gsm8k/test.jsonl`` (its last 200 rows stand in
for the train split the mirror lacks), a tiny random Llama (built offline) loaded once, greedy, ``max_gen_toks``
32. Measured in one process, rounds interleaved:

1. ``conj-harness conjugate gsm8k --to leet,piglatin`` - the one-time transform (per document);
2. per round, ``simple_evaluate`` on: the original task (its YAML on the local files), ``conj_gsm8k_en`` (the
   identity: the machinery alone, goal <= 1.1x the original), ``conj_gsm8k_leet`` and ``conj_gsm8k_piglatin``
   (the transform changes the prompt's length in tokens; the answers go through the cipher inverse first).

Each line printed is JSON; a markdown table goes to stderr; ``--json`` saves everything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conj_harness.data.sources import data_dir


def _conjugate(out: Path, test: Path, train: Path, limit: int) -> float:
    cmd = [str(Path(sys.executable).with_name("conj-harness")), "conjugate", "gsm8k", "--to", "leet,piglatin",
           "--out", str(out), "--limit", str(limit), "--data-files", f"test={test},train={train}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return time.perf_counter() - t0


def _original_yaml(folder: Path, test: Path, train: Path) -> None:
    from conj_harness.lmeval import compat

    gsm8k = compat.builtin_tasks_dir() / "gsm8k" / "gsm8k.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gsm8k_local.yaml").write_text(
        f"include: {gsm8k}\ntask: gsm8k_local\ntag: []\ndataset_path: json\ndataset_name: null\n"
        f"dataset_kwargs:\n  data_files:\n    test: {test}\n    train: {train}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write all measurements here")
    args = ap.parse_args(argv)

    import lm_eval
    from lm_eval.models.huggingface import HFLM

    from conj_harness.lmeval.registration import ConjTaskManager
    from tests.support.tiny_models import build_llama

    root = Path(tempfile.mkdtemp(prefix="bench_conjugate_"))
    mirror = data_dir()
    if mirror is None:
        raise SystemExit("set CONJ_DATA_DIR to the data mirror (it has gsm8k/test.jsonl)")
    test = mirror / "gsm8k" / "test.jsonl"
    train = root / "train.jsonl"
    train.write_text("".join(test.read_text().splitlines(keepends=True)[-200:]))
    transform_s = _conjugate(root / "tasks", test, train, args.limit)
    _original_yaml(root / "tasks" / "original", test, train)
    model = HFLM(pretrained=str(build_llama(root / "model", seed=0)), batch_size=8, max_length=2048, device="cpu")
    manager = ConjTaskManager(include_path=str(root / "tasks"))
    tasks = ["gsm8k_local", "conj_gsm8k_en", "conj_gsm8k_leet", "conj_gsm8k_piglatin"]
    times: dict[str, list[float]] = {t: [] for t in tasks}
    prompt_tokens: dict[str, int] = {}
    for _ in range(args.rounds):
        for task in tasks:
            t0 = time.perf_counter()
            out = lm_eval.simple_evaluate(model=model, tasks=[task], task_manager=manager, limit=args.limit,
                                          gen_kwargs="max_gen_toks=32", log_samples=True, random_seed=0,
                                          numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=1234)
            times[task].append(time.perf_counter() - t0)
            samples = out["samples"][task]
            prompt_tokens[task] = sum(len(model.tokenizer(s["arguments"][0][0]).input_ids) for s in samples)
    reference = statistics.median(times["gsm8k_local"])
    rows = []
    for task in tasks:
        wall = statistics.median(times[task])
        row = {"task": task, "docs": args.limit, "rounds": args.rounds, "median_s": round(wall, 2),
               "all_s": [round(t, 2) for t in times[task]], "vs_original": round(wall / reference, 3),
               "prompt_tokens": prompt_tokens[task],
               "prompt_tokens_vs_original": round(prompt_tokens[task] / prompt_tokens["gsm8k_local"], 3)}
        rows.append(row)
        print(json.dumps(row))
    once = {"conjugate_s": round(transform_s, 2), "conjugates": 2, "docs": args.limit}
    print(json.dumps(once))
    print("| task | median wall | vs original | prompt tokens vs original |\n|---|---:|---:|---:|", file=sys.stderr)
    for r in rows:
        print(f"| `{r['task']}` | {r['median_s']} s | {r['vs_original']}x | {r['prompt_tokens_vs_original']}x |",
              file=sys.stderr)
    print(f"conjugate (leet + piglatin, {args.limit} docs + few-shot pool): {transform_s:.1f} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "conjugate": once}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
