"""Judge benchmarks (issue 11); each prints one JSON line per measurement and a markdown summary on stderr.

    python -m bench.bench_judge rules                 # the rule judge's throughput on one core (CPU time)
    .venv-vllm/bin/python -m bench.bench_judge vllm   # a classifier judge on vLLM vs raw LLM.generate, same prompts

``rules``: responses per CPU-second of ``judge.refusal.judge_many`` on each human-labelled dev file (warm: the
language profiles are loaded first), median of ``--repeats``; process CPU time, so the other core's load counts
less than in wall time. Goal: >= 1,000 responses/s.

``vllm``: the ``wildguard`` preset (32 new tokens, its published prompt) on a tiny random Llama, through
``ClassifierJudge(engine="vllm")`` - rendering, the batched generate, parsing - against ``LLM.generate`` of the very
prompts it rendered, on the same engine; median of ``--repeats`` per side, interleaved. Goal: judge / raw <= 1.10.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("CONJ_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


def _rows(name: str) -> list[dict]:
    path = DATA / "refusal_labels" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bench_rules(repeats: int) -> None:
    from conj_harness.judge.refusal import judge_many

    judge_many(["Je ne peux pas vous aider avec cela, désolé."], [None])  # load langdetect's profiles
    lines = ["| data | responses | mean length (chars) | responses / CPU-second (median) | wall |",
             "|---|---:|---:|---:|---:|"]
    for name in ("dev", "dev_jailbreak"):
        rows = _rows(name)
        responses, langs = [r["response"] for r in rows], [r.get("lang") for r in rows]
        cpu, wall = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            judge_many(responses, langs)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
        rate, wall_rate = len(rows) / statistics.median(cpu), len(rows) / statistics.median(wall)
        mean_len = sum(map(len, responses)) / len(responses)
        print(json.dumps({"bench": "rules", "data": name, "n": len(rows), "per_cpu_second": round(rate),
                          "per_wall_second": round(wall_rate), "mean_chars": round(mean_len)}))
        lines.append(f"| {name} | {len(rows)} | {mean_len:.0f} | {rate:.0f} | {wall_rate:.0f} |")
    print("\n".join(lines), file=sys.stderr)


def bench_vllm(repeats: int, n: int) -> None:
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("CONJ_JUDGE_VLLM_ARGS", json.dumps({"enforce_eager": True, "dtype": "float32"}))
    from vllm import SamplingParams

    from conj_harness.judge.registry import ClassifierJudge
    from tests.support.tiny_classifiers import build_classifier

    rows = _rows("dev_jailbreak")[:n]
    requests, responses = [r["prompt"] for r in rows], [r["response"] for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        model = build_classifier(Path(tmp) / "classifier", hidden=128)
        judge = ClassifierJudge("wildguard", str(model), engine="vllm")
        prompts = judge.prompts(requests, responses)  # loads the engine
        llm = judge._load().llm
        params = SamplingParams(temperature=0.0, max_tokens=judge.preset.max_new_tokens)
        judge.judge(requests[:8], responses[:8])  # warm-up
        raw_s, judge_s = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            llm.generate(prompts, params, use_tqdm=False)
            raw_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            verdicts = judge.judge(requests, responses)
            judge_s.append(time.perf_counter() - t)
        assert len(verdicts) == n
    raw, judged = statistics.median(raw_s), statistics.median(judge_s)
    print(json.dumps({"bench": "vllm_judge", "n": n, "raw_generate_s": round(raw, 3), "judge_s": round(judged, 3),
                      "ratio": round(judged / raw, 3), "raw_runs": [round(x, 3) for x in raw_s],
                      "judge_runs": [round(x, 3) for x in judge_s]}))
    print(f"| wildguard preset, {n} responses, vLLM CPU | raw LLM.generate {raw:.2f} s | ClassifierJudge.judge "
          f"{judged:.2f} s | ratio {judged / raw:.3f} |", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["rules", "vllm"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=256, help="vllm: responses judged per run (default 256)")
    args = ap.parse_args(argv)
    if args.what == "rules":
        bench_rules(args.repeats)
    else:
        bench_vllm(args.repeats, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
