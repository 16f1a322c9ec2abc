"""A real server, not a stand-in: ``vllm serve`` with SmolLM2-135M-Instruct, ``compare --backend local-completions``
against it, the same documents through in-process vLLM (``conj-eval --model vllm``) and through raw
``LLM.generate`` - are the outputs the same per document?

    .venv-vllm/bin/python bench/real_pair/served_check.py OUT [--limit 20] [--port 8011] \
        [--model "$(conj-harness real-model smollm2-135m-instruct)"]

Needs the vLLM CPU venv (``bash .ci/vllm_env.sh``) and the converted SmolLM2 folder (``conj-harness real-model
smollm2-135m-instruct``). Prints one JSON object (never a response): per task, how many documents, how many outputs
are identical between served and in-process vLLM and between ``conj-eval --model vllm`` and raw ``LLM.generate``,
and the doc ids that differ with the first differing character position. Writes it to ``OUT/served_check.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TASKS = ("conj_icl_en", "conj_icl_leet", "conj_advbench_en")
SERVED_NAME = "smollm2"
ENGINE = {"enforce_eager": True, "dtype": "float32", "max_model_len": 2048}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _wait(url: str, proc: subprocess.Popen, timeout: float = 600) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"vllm serve exited with {proc.returncode} before it answered (see its log)")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - start
        except OSError:
            time.sleep(2)
    raise SystemExit(f"vllm serve did not answer {url} within {timeout:.0f} s")


def _samples(folder: Path, task: str) -> dict[int, dict]:
    files = sorted(folder.rglob(f"samples_{task}_*.jsonl")) or sorted(folder.rglob(f"{task}/samples.jsonl"))
    if not files:
        raise SystemExit(f"no samples of {task} under {folder}")
    rows = [json.loads(line) for line in files[-1].read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["doc_id"]: r for r in rows}


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _compare_outputs(left: dict[int, str], right: dict[int, str]) -> dict:
    same = [d for d in left if d in right and left[d] == right[d]]
    differ = {d: _first_difference(left[d], right[d]) for d in left if d in right and left[d] != right[d]}
    return {"docs": len(left), "identical": len(same), "differ": differ, "missing": sorted(set(left) ^ set(right))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--model", help="the converted SmolLM2 folder (default: conj-harness real-model ...)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    model = args.model or subprocess.run([_bin("conj-harness"), "real-model", "smollm2-135m-instruct"], check=True,
                                         capture_output=True, text=True).stdout.strip()
    env = _env()
    gen = "max_gen_toks=64"
    report: dict = {"model": "SmolLM2-135M-Instruct Q4_1 (converted)", "limit": args.limit, "tasks": list(TASKS)}

    # 1. vllm serve + compare --backend local-completions
    log = (out / "vllm_serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--served-model-name",
         SERVED_NAME, "--host", "127.0.0.1", "--port", str(args.port), "--dtype", "float32", "--enforce-eager",
         "--max-model-len", "2048", "--seed", "1234"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        report["serve_start_s"] = round(_wait(f"http://127.0.0.1:{args.port}/v1/models", server), 1)
        url = f"http://127.0.0.1:{args.port}/v1/completions"
        t = time.monotonic()
        subprocess.run([_bin("conj-harness"), "compare", "--backend", "local-completions", "--base", SERVED_NAME,
                        "--base-url", url, "--tuned", SERVED_NAME, "--tuned-url", url, "--model-args",
                        f"num_concurrent=8,tokenizer={model},max_length=2048", "--tasks", ",".join(TASKS),
                        "--limit", str(args.limit), "--gen-kwargs", gen, "--output", str(out / "served"),
                        "--no-progress"], check=True, env=env, stdout=subprocess.DEVNULL)
        report["served_compare_s"] = round(time.monotonic() - t, 1)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()

    # 2. in-process vLLM through conj-eval
    t = time.monotonic()
    engine_args = ",".join(f"{k}={v}" for k, v in ENGINE.items())
    subprocess.run([_bin("conj-eval"), "--model", "vllm", "--model_args", f"pretrained={model},{engine_args},seed=1234",
                    "--tasks", ",".join(TASKS), "--limit", str(args.limit), "--gen_kwargs", gen,
                    "--batch_size", "auto", "--log_samples", "--output_path", str(out / "inproc")],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=(out / "inproc.log").open("w"))
    report["inproc_conj_eval_s"] = round(time.monotonic() - t, 1)

    # 3. raw LLM.generate on conj-eval's own prompts (its token ids, so BOS and chat template cannot differ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("VLLM_")})
    from vllm import LLM, SamplingParams

    llm = LLM(model=model, seed=1234, **ENGINE)
    per_task = {}
    for task in TASKS:
        inproc = _samples(out / "inproc", task)
        served = _samples(out / "served" / "base", task) if (out / "served" / "base").exists() else {}
        ids = sorted(inproc)
        prompts = [inproc[d]["arguments"]["gen_args_0"]["arg_0"] for d in ids]
        kwargs = inproc[ids[0]]["arguments"]["gen_args_0"]["arg_1"]
        params = SamplingParams(temperature=0.0, max_tokens=int(kwargs.get("max_gen_toks", 64)),
                                stop=list(kwargs.get("until") or []) or None)
        t = time.monotonic()
        raw = [o.outputs[0].text for o in llm.generate(prompts, params, use_tqdm=False)]
        raw_s = time.monotonic() - t
        in_out = {d: inproc[d]["resps"][0][0] for d in ids}
        per_task[task] = {
            "served_vs_inproc": _compare_outputs({d: served[d]["resps"][0][0] for d in served}, in_out),
            "conj_eval_vs_raw_generate": _compare_outputs(in_out, dict(zip(ids, raw))),
            "raw_generate_s": round(raw_s, 2),
            "same_prompts_served_vs_inproc": sum(
                served[d]["arguments"]["gen_args_0"]["arg_0"] == inproc[d]["arguments"]["gen_args_0"]["arg_0"]
                for d in ids if d in served),
        }
    report["tasks"] = per_task
    (out / "served_check.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
