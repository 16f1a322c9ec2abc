"""The ``compare`` and ``report`` subcommands of ``conj-harness`` (wired in by :func:`register`).

  compare   run a base and a tuned model on the same conj tasks (resumable), then write the report
  report    re-render a report from saved samples (no inference), or compare two lm-eval output folders
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from conj_harness.errors import ConjError

if TYPE_CHECKING:
    from conj_harness.pairs.ray_executor import RaySettings

EXAMPLES_COMPARE = """\
examples:
  conj-harness compare --base meta-llama/Llama-2-7b-hf --tuned codellama/CodeLlama-7b-hf \\
      --tasks conj_xnli --model-args dtype=bfloat16 --output results/llama-vs-codellama
  conj-harness compare --base meta-llama/Llama-2-7b-hf --tuned-adapter ./my-lora --tasks 'conj_*' \\
      --backend vllm --output results/my-lora
  conj-harness compare --pairs pairs.yaml --tasks conj_icl --output results/sweep
  conj-harness compare --backend local-completions --base llama-2-7b --base-url http://gpu1:8000/v1/completions \
      --tuned llama-2-7b-chat --tuned-url http://gpu2:8000/v1/completions --model-args num_concurrent=16 \
      --tasks conj_icl --output results/served
"""

EXAMPLES_REPORT = """\
examples:
  conj-harness report results/llama-vs-codellama
  conj-harness report --base-run runs/llama2 --tuned-run runs/codellama --output results/imported
"""


def _metric_overrides(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        family, sep, metric = item.partition("=")
        if not sep or not family.strip() or not metric.strip():
            raise ConjError(f"--metric {item!r}: expected FAMILY=METRIC, e.g. --metric xnli=acc")
        out[family.strip()] = metric.strip()
    return out


def _stats_kwargs(args) -> dict:
    from conj_harness.report.analysis import check_stats_settings

    check_stats_settings(args.bootstrap, args.stats_seed, args.alpha, flags=True)
    return {"metrics": _metric_overrides(args.metric), "n_boot": args.bootstrap, "seed": args.stats_seed,
            "alpha": args.alpha}


def _add_stats_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("statistics")
    g.add_argument("--metric", action="append", metavar="FAMILY=METRIC",
                   help="compare a family on this metric (default: icl=icl_acc, xnli=acc, advbench/multijail="
                        "refusal_rate; other families: their first metric); repeatable")
    g.add_argument("--bootstrap", type=int, default=10_000, metavar="N", help="bootstrap resamples (default 10000)")
    g.add_argument("--stats-seed", type=int, default=0, help="seed of the bootstrap and permutation tests (default 0)")
    g.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level of the intervals (default 0.05)")


def _print_summary(summary: dict, out: Path) -> None:
    for fam, info in summary["families"].items():
        print(f"{summary['name']} / {fam} ({info['metric']}):")
        for r in [r for r in summary["rows"] if r["family"] == fam]:
            def f(v):
                return "   -  " if v is None else f"{v:6.3f}"
            frac = "" if r["recovery_frac"] is None else f"  recovery {r['recovery_frac']:.0%}"
            p = "" if r["p_value"] is None else f"  p={r['p_value']:.3g}"
            status = "" if r["status"] == "ok" else f"  [{r['status']}]"
            print(f"  {r['conjugate'] or r['task']!s:10} base {f(r['base'])}  tuned {f(r['tuned'])}  "
                  f"drop {f(r['drop'])}{p}{frac}{status}")
    for w in summary["warnings"]:
        print(f"conj-harness: warning: {w}", file=sys.stderr)
    print(f"report: {out / 'report.md'}")


# --- compare ----------------------------------------------------------------------------------------------------

_SPEC_FLAGS = ("base", "tuned", "tuned_adapter", "tasks", "backend", "model_args", "base_model_args",
               "tuned_model_args", "limit", "batch_size", "device", "seed", "gen_kwargs", "base_chat_template",
               "tuned_chat_template", "include_path", "judge", "judge_model", "judge_translator", "base_url",
               "tuned_url")


def _compare(args) -> None:
    from conj_harness.comparison import compare_pair, compare_pairs
    from conj_harness.pairs.spec import PairSpec, load_pairs_file, study_settings

    stats_kw = _stats_kwargs(args)
    out = Path(args.output)
    progress = False if args.no_progress else None
    flags = {k: getattr(args, k) for k in _SPEC_FLAGS if getattr(args, k) is not None}
    if args.pairs:
        if args.base or args.tuned or args.tuned_adapter:
            raise ConjError("--pairs takes the models from the file: drop --base/--tuned/--tuned-adapter")
        specs = load_pairs_file(args.pairs, flags)
        executor, ray = _executor(args, study_settings(args.pairs))
        outcomes = compare_pairs(specs, out, force=args.force, progress=progress, process_per=args.process_per,
                                 executor=executor, ray=ray, **stats_kw)
        for o in outcomes:
            _print_summary(o.summary, o.out)
        print(f"cross-pair summary: {out / 'cross_pair.md'}")
    else:
        if not args.base:
            raise ConjError("--base is required (or --pairs pairs.yaml)")
        if not args.tasks:
            raise ConjError("--tasks is required: task names, families (conj_icl) or globs ('conj_*')")
        flags.setdefault("backend", "hf")
        executor, ray = _executor(args, {})
        outcomes = [compare_pair(PairSpec(name=out.name, **flags), out, force=args.force, progress=progress,
                                 process_per=args.process_per, executor=executor, ray=ray, **stats_kw)]
        _print_summary(outcomes[0].summary, out)
    failed = [(o.out, u) for o in outcomes for u in o.failures]
    if failed:
        shown = "; ".join(f"{u.role} {u.task}: {u.message[:200]} ({out_dir / u.log})" for out_dir, u in failed[:4])
        raise ConjError(f"{len(failed)} run(s) failed: {shown}{' ...' if len(failed) > 4 else ''}. The other results "
                        "are kept and the report shows the failure; fix it and re-run the same command to retry them")


def _executor(args, from_file: dict) -> tuple[str, RaySettings]:
    """The executor and its Ray settings: the flags, else the pairs file's ``executor:`` and ``ray:``."""
    from conj_harness.pairs.ray_executor import RaySettings

    executor = args.executor or from_file.get("executor") or "local"
    ray_file = from_file.get("ray") or {}
    ray = RaySettings(address=args.ray_address or ray_file.get("address"),
                      gpus_per_model=args.gpus_per_model if args.gpus_per_model is not None
                      else ray_file.get("gpus_per_model"),
                      cpus_per_model=args.cpus_per_model if args.cpus_per_model is not None
                      else ray_file.get("cpus_per_model", 1))
    if executor != "ray" and (args.ray_address or args.gpus_per_model is not None or args.cpus_per_model is not None):
        raise ConjError("--ray-address, --gpus-per-model and --cpus-per-model are for --executor ray")
    return executor, ray


def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="run a base and a tuned model on conj tasks and report the difference",
                       description="Run a base and a tuned model on the same conj tasks (each model loaded once "
                                   "for all its tasks, each task committed as it finishes; resumable), then write "
                                   "summary.json, table.csv, report.md and plots into --output.",
                       epilog=EXAMPLES_COMPARE, formatter_class=argparse.RawDescriptionHelpFormatter)
    m = p.add_argument_group("models")
    m.add_argument("--base", help="base model (hub name or local folder; for a served backend: its model name)")
    m.add_argument("--tuned", help="fine-tuned model (default with --tuned-adapter: the base model)")
    m.add_argument("--tuned-adapter", help="LoRA adapter folder applied to the tuned model; with --tuned unset the "
                                           "base and the adapter share one model load (vllm: a LoRA request, hf: "
                                           "peft attached and detached)")
    m.add_argument("--base-url", help="served backends: the base model's server, e.g. "
                                      "http://host:8000/v1/completions (lm-eval's base_url)")
    m.add_argument("--tuned-url", help="served backends: the tuned model's server")
    m.add_argument("--pairs", help="YAML file with several pairs: a list of {name, base, tuned, tuned_adapter?, "
                                   "tasks?, limit?, model_args?, ...}, or {defaults: {...}, pairs: [...]}")
    r = p.add_argument_group("run settings (the same for both models)")
    r.add_argument("--tasks", nargs="+", help="task names, families (conj_icl, conj_xnli) or globs ('conj_*'); "
                                              "commas work too")
    r.add_argument("--backend", default=None,
                   help="any lm-eval model type: hf (default), vllm, local-completions, local-chat-completions, "
                        "sglang, ... (an unknown name lists them)")
    r.add_argument("--model-args", help="extra lm-eval model_args for both models, e.g. dtype=bfloat16")
    r.add_argument("--base-model-args", help="extra model_args for the base model only")
    r.add_argument("--tuned-model-args", help="extra model_args for the tuned model only")
    r.add_argument("--limit", type=float, help="documents per task (testing; not the paper's numbers)")
    r.add_argument("--batch-size", help="lm-eval --batch_size (default: 8 for hf, auto for vllm, 1 for served "
                                        "models: prompts per request)")
    r.add_argument("--device", help="lm-eval --device (hf), e.g. cuda:0 or cpu")
    r.add_argument("--seed", help="lm-eval --seed for both models (default 0,1234,1234,1234)")
    r.add_argument("--gen-kwargs", help="lm-eval --gen_kwargs for both models (default: the tasks' greedy decoding)")
    r.add_argument("--include-path", help="extra task folders (lm-eval --include_path)")
    r.add_argument("--base-chat-template", action="store_true", default=None,
                   help="apply the base model's chat template (default off: base models usually have none)")
    r.add_argument("--tuned-chat-template", action="store_true", default=None,
                   help="apply the tuned model's chat template (default off, as in the paper)")
    r.add_argument("--process-per", choices=["model", "task"], default="model",
                   help="model (default): one process and one model load per model for all its tasks (per pair "
                        "for a base + adapter on hf/vllm); task: one lm-eval process per model and task")
    x = p.add_argument_group("executor (where the model runs go)")
    x.add_argument("--executor", choices=["local", "ray"], default=None,
                   help="local (default): one model at a time on this machine; ray: each model run a Ray actor, "
                        "runs of different models at once on every GPU of one node or a cluster (pip install "
                        "'conj-harness[ray]')")
    x.add_argument("--ray-address", help="the Ray cluster's head, HOST:PORT (`ray start --head` prints it); default: "
                                         "RAY_ADDRESS, else a Ray started on this machine for this run")
    x.add_argument("--gpus-per-model", type=float, default=None, metavar="N",
                   help="GPUs each model run asks Ray for (0.5: two small models share a GPU); default: vLLM's "
                        "tensor x pipeline parallel size, 1 for hf, 0 for served models or a CPU-only cluster")
    x.add_argument("--cpus-per-model", type=int, default=None, metavar="N",
                   help="CPUs each model run asks Ray for (default 1; its torch threads on a CPU-only cluster)")
    j = p.add_argument_group("safety judge (part of the pair's identity: changing it re-judges saved generations)")
    j.add_argument("--judge", help="rules (default), a classifier (llama-guard-3, wildguard, harmbench, strongreject,"
                                   " generic) or rules+<classifier>; see `conj-harness judge --help`")
    j.add_argument("--judge-model", help="the classifier's model folder or hub id")
    j.add_argument("--judge-translator", help="back-translation for the rules: google or hf (default none)")
    o = p.add_argument_group("output")
    o.add_argument("--output", required=True, help="results folder, e.g. results/<name>")
    o.add_argument("--force", action="store_true",
                   help="write into a folder holding another pair's results (that model's results are replaced)")
    o.add_argument("--no-progress", action="store_true", help="no progress bar (one line per finished run)")
    _add_stats_flags(p)
    p.set_defaults(func=_compare)


# --- report -----------------------------------------------------------------------------------------------------


def _report(args) -> None:
    from conj_harness.pairs.store import is_multi_pair
    from conj_harness.report import render

    stats_kw = _stats_kwargs(args)
    if bool(args.base_run) != bool(args.tuned_run):
        raise ConjError("--base-run and --tuned-run go together")
    if args.base_run:
        if args.dir and args.output and Path(args.dir) != Path(args.output):
            raise ConjError("give the output folder once (DIR or --output)")
        default = Path("results") / f"{Path(args.base_run).name}-vs-{Path(args.tuned_run).name}"
        out = Path(args.output or args.dir or default)
        summary = render.render_runs(args.base_run, args.tuned_run, out, force=args.force, **stats_kw)
        _print_summary(summary, out)
        return
    folder = args.dir or args.output
    if not folder:
        raise ConjError("give a compare folder to re-render (conj-harness report results/<name>), "
                        "or --base-run A --tuned-run B")
    folder = Path(folder)
    if not folder.is_dir():
        raise ConjError(f"{folder}: no such folder")
    if is_multi_pair(folder):
        summaries = render.render_multi_dir(folder, rerender=True, **stats_kw)
        for name, summary in summaries.items():
            _print_summary(summary, folder / name)
        print(f"cross-pair summary: {folder / 'cross_pair.md'}")
    else:
        summary = render.render_pair_dir(folder, **stats_kw)
        _print_summary(summary, folder)


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="re-render a comparison report from saved samples (no inference)",
                       description="Re-render summary.json, table.csv, report.md and plots from a compare folder's "
                                   "saved samples, or compare two lm-eval --output_path folders (run with "
                                   "--log_samples) made elsewhere.",
                       epilog=EXAMPLES_REPORT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", help="a compare folder (or the output folder with --base-run/--tuned-run)")
    p.add_argument("--base-run", help="lm-eval --output_path folder of the base model")
    p.add_argument("--tuned-run", help="lm-eval --output_path folder of the tuned model")
    p.add_argument("--output", help="where the report of --base-run/--tuned-run goes "
                                    "(default results/<base-run>-vs-<tuned-run>)")
    p.add_argument("--force", action="store_true", help="write into a folder holding another report")
    _add_stats_flags(p)
    p.set_defaults(func=_report)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``compare`` and ``report`` to the ``conj-harness`` subparsers; handlers raise ConjError on user errors."""
    _add_compare(sub)
    _add_report(sub)
