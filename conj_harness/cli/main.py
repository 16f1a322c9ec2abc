"""``conj-harness``: the project's utility commands; :func:`build_parser` lists them (``conj-harness --help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conj_harness.cli import _logging
from conj_harness.cli._errors import one_line_errors
from conj_harness.errors import ConjError
from conj_harness.files import redact


def _tasks_dir(_args: argparse.Namespace) -> None:
    from conj_harness.lmeval.taskgen import tasks_dir

    print(tasks_dir())


def _tasks(args: argparse.Namespace) -> None:
    from conj_harness.lmeval.registration import local_task_fidelity

    for name, fidelity in local_task_fidelity(args.include_path).items():
        print(f"{name:40} {fidelity}".rstrip())


def _conjugates(args) -> None:
    from conj_harness import conjugates

    for name in conjugates.names():
        c = conjugates.get(name)
        if c.kind != "language" or args.all:
            print(f"{name:10} {c.kind:9} {c.description}")
    if not args.all:
        print("(and every ISO 639-1 language code, e.g. fr, ja, sw: `conj-harness conjugates --all`)")


def _backend_options(args, name: str) -> dict:
    """The command line's settings for translator backend ``name`` (model aside)."""
    given = {"google": (("service_url", args.service_url), ("retries", args.retries)),
             "hf": (("device", args.device),)}.get(name, ())
    return {k: v for k, v in given if v is not None and v != ""}


def _layer(args, source: str, target: str):
    """The translation layer for a CLI command: the named backend (default: cipher or google), cache, checks."""
    from conj_harness import conjugates
    from conj_harness.translation.cache import TranslationCache
    from conj_harness.translation.layer import TranslationLayer
    from conj_harness.translators import get_backend

    rule_based = all(conjugates.get(c).kind != "language" for c in (source, target))
    name = args.backend or ("cipher" if rule_based else "google")
    options = _backend_options(args, name)
    if name == "hf" and args.mt_model:
        options["model"] = args.mt_model
    return TranslationLayer(get_backend(name, **options), TranslationCache(args.cache) if args.cache else None,
                            check=not args.no_check, strict=args.strict)


def _add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", help="google (default for languages), hf, table, cipher (default for ciphers)")
    p.add_argument("--service-url", help="google: HOST[:PORT] of the endpoint (or CONJ_GOOGLE_SERVICE_URL)")
    p.add_argument("--retries", type=int, help="google: retries on 429/5xx/timeouts before failing (default 5)")
    p.add_argument("--mt-model", help="hf: model id or path (default Helsinki-NLP/opus-mt-<src>-<tgt>)")
    p.add_argument("--device", help="hf: cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--cache", help="translation cache file (default $CONJ_TRANSLATION_CACHE or ~/.cache/...)")
    p.add_argument("--strict", action="store_true", help="fail if any translation fails the language check")
    p.add_argument("--no-check", action="store_true", help="skip the language check")


def _report(layer) -> None:
    s = layer.stats
    rate = "n/a" if s.pass_rate is None else f"{s.pass_rate:.1%}"
    print(f"{s.requested} strings: {s.from_cache} from cache, {s.translated} translated in {s.backend_calls} "
          f"calls; language check pass rate {rate}", file=sys.stderr)


def _translate(args) -> None:
    from conj_harness import conjugates

    source, target = conjugates.get(args.source), conjugates.get(args.to)
    if source.kind != "identity" and target.kind != "identity" and (args.backend or "") != "google":
        raise ConjError("translate between English and a conjugate: one of --from/--to must be en")
    from conj_harness.files.text import stdin_lines

    lines = stdin_lines()  # strictly UTF-8: a bad line is an error naming it, never altered
    layer = _layer(args, source.name, target.name)
    out = layer.translate(lines, source.name, target.name)
    stdout = redact.data_stdout()  # translations are data: never rewritten by the terminal's redaction
    stdout.write("".join(line.replace("\n", " ") + "\n" for line in out))
    stdout.flush()
    _report(layer)


def _add_language(args) -> None:
    from conj_harness.files.user_dirs import user_tasks_dir
    from conj_harness.lmeval.add_language import add_language

    out_dir = Path(args.out) if args.out else user_tasks_dir()
    families = [f for f in args.families.split(",") if f]
    layers = []

    def factory():
        layers.append(_layer(args, "en", args.code))
        return layers[-1]

    written = add_language(args.code, families, factory, out_dir)
    for layer in layers:
        _report(layer)
    for path in written:
        print(path)
    print(f"run it with: conj-eval --tasks {','.join(p.stem for p in written)} ..."
          + ("" if not args.out else f" --include_path {out_dir}"), file=sys.stderr)


def _conjugate(args) -> None:
    from conj_harness import conjugates
    from conj_harness.files.user_dirs import user_tasks_dir
    from conj_harness.lmeval.conjugated import ConjugateRequest, conjugate_tasks

    names = [c.strip() for c in args.to.split(",") if c.strip()]
    if not names:
        raise ConjError("--to needs at least one conjugate, e.g. --to leet,piglatin,fr")
    data_files = {}
    for item in (args.data_files or "").split(","):
        if item.strip():
            split, sep, path = item.partition("=")
            if not sep or not split.strip() or not path.strip():
                raise ConjError(f"--data-files {item!r}: expected SPLIT=PATH, e.g. test=gsm8k/test.jsonl")
            data_files[split.strip()] = path.strip()
    for flag, value in (("--limit", args.limit), ("--fewshot-pool", args.fewshot_pool)):
        if value is not None and value < 1:
            raise ConjError(f"{flag} {value}: give a number of documents, 1 or more (leave it out for all)")
    languages = [c for c in names if conjugates.get(c).kind == "language"]
    out_dir = Path(args.out) if args.out else user_tasks_dir()
    request = ConjugateRequest(
        tasks=list(args.task), conjugates=names, out_dir=out_dir, answer_space=args.answer_space,
        include_path=args.include_path, data_files=data_files, limit=args.limit, fewshot_pool=args.fewshot_pool,
        min_chrf=args.min_chrf, force=args.force,
        layer_factory=(lambda: _layer(args, "en", languages[0])) if languages else None,
        backend=args.backend or ("google" if languages else None), mt_model=args.mt_model,
        backend_options=_backend_options(args, args.backend or "google") if languages else {},
        cache=str(Path(args.cache).resolve()) if args.cache else None)
    written = conjugate_tasks(request, progress=lambda m: print(f"conj-harness conjugate: {m}", file=sys.stderr))
    for w in written:
        chrf = w.fidelity.get("roundtrip_chrf")
        rate = w.fidelity.get("pass_rate")
        shown = "" if chrf is None else f"  round-trip chrF {chrf:.1f}"
        exact = w.fidelity.get("answer_roundtrip_exact")
        shown += "" if exact is None else f"  references intact after the inverse {exact:.0%}"
        read = w.fidelity.get("answer_filter_agreement") or {}
        shown += "" if not read else "  answers read back by " + ", ".join(f"{f} {v:.0%}" for f, v in read.items())
        shown += "" if rate is None else f"  language check {rate:.0%}"
        print(f"{w.path}{'' if w.changed else '  (unchanged)'}{shown}")
    tags = sorted({f"conj_{w.task}" for w in written})
    print(f"run them with: conj-eval --tasks {','.join(tags)} ..."
          + ("" if not args.out else f" --include_path {out_dir}"), file=sys.stderr)


def _cache(args) -> None:
    from conj_harness.translation.cache import TranslationCache

    with TranslationCache(args.cache) as cache:
        if args.action == "stats":
            rows = cache.stats()
            print(f"{cache.path}: {sum(r['entries'] for r in rows)} translations")
            for r in rows:
                print(f"  {r['backend']:7} {r['model'][:48]:48} {r['source']}->{r['target']:9} {r['entries']:7} "
                      f"({r['check_failed']} failed the language check)")
        elif args.action == "export":
            if not args.file:
                raise ConjError("cache export needs a FILE")
            print(f"exported {cache.export_jsonl(args.file)} translations to {args.file}")
        else:
            if not args.file:
                raise ConjError("cache import needs a FILE")
            print(f"imported {cache.import_jsonl(args.file)} translations into {cache.path}")


def _download(args) -> None:
    from conj_harness.data.download import download

    parts = args.only.split(",") if args.only else None
    written = download(args.dir, parts) if parts else download(args.dir)
    print(f"wrote {len(written)} files under {args.dir}; use it with CONJ_DATA_DIR={args.dir}")


def _demo(args) -> None:
    from conj_harness.cli.compare import _print_summary
    from conj_harness.demo.run import run_demo

    outcome = run_demo(args.output, limit=args.limit, force=args.force, progress=False if args.no_progress else None)
    _print_summary(outcome.summary, Path(args.output))
    if outcome.failures:
        first = outcome.failures[0]
        raise ConjError(f"{len(outcome.failures)} demo run(s) failed (first: {first.role} {first.task}: "
                        f"{first.message[:200]}); its log: {Path(args.output) / first.log}; every failure's reason "
                        f"and log: failed.json under {args.output}/<role>/<task>")


def _real_model(args) -> None:
    from conj_harness.checkpoints import offline

    print(offline.gguf_file(args.name) if args.gguf else offline.model_folder(args.name))


def _add_conjugate_parser(sub) -> None:
    cj = sub.add_parser("conjugate", help="put lm-eval tasks through conjugates (conj_<task>_<c> task YAMLs)",
                        description="Write conj_<task>_<c> for every conjugate, the baseline conj_<task>_en and the "
                                    "tag conj_<task>: the task's prompts, few-shot examples, choices and stop "
                                    "sequences conjugated once per document; generated answers mapped back to "
                                    "English before the task's own filters and metrics.")
    cj.add_argument("task", nargs="+", help="lm-eval task, group or tag names (built-in, --include-path, added)")
    cj.add_argument("--to", required=True, help="conjugates, comma-separated: leet, piglatin, any ISO 639-1 code")
    cj.add_argument("--out", help="task folder to write (default: the user task folder conj-eval reads)")
    cj.add_argument("--answer-space", choices=["english", "conjugate"], default="english",
                    help="generate_until tasks: map answers back to English before scoring (default), or score "
                         "them as generated (answers a conjugate leaves unchanged, e.g. numbers under a cipher)")
    cj.add_argument("--include-path", help="extra task folders (as lm-eval --include_path)")
    cj.add_argument("--data-files", help="local files for the task's splits, e.g. test=gsm8k/test.jsonl,"
                                         "train=gsm8k/train.jsonl (the dataset then loads offline)")
    cj.add_argument("--limit", type=int, help="conjugate only the first N evaluation documents")
    cj.add_argument("--fewshot-pool", type=int, help="conjugate only the first N few-shot documents (default all)")
    cj.add_argument("--min-chrf", type=float, help="refuse a task whose round-trip chrF (0-100) is below this")
    cj.add_argument("--force", action="store_true", help="replace a conj_<task>_<c> written with other content")
    _add_backend_args(cj)
    cj.set_defaults(func=_conjugate)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="conj-harness", description="the project's utility commands (conj-eval runs "
                                "evaluations: `conj-eval --model hf --tasks conj_icl ...`); `conj-harness COMMAND "
                                "--help` for each")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("tasks-dir", help="print the task folder for lm_eval --include_path").set_defaults(func=_tasks_dir)
    ts = sub.add_parser("tasks", help="list conj_* tasks and tags, with the round-trip chrF of translated ones")
    ts.add_argument("--include-path", help="extra task folders (as lm-eval --include_path)")
    ts.set_defaults(func=_tasks)
    c = sub.add_parser("conjugates", help="list conjugates")
    c.add_argument("--all", action="store_true", help="include every language code")
    c.set_defaults(func=_conjugates)
    t = sub.add_parser("translate", help="apply a conjugate to stdin lines")
    t.add_argument("--to", required=True, help="target conjugate (leet, piglatin, en, ...)")
    t.add_argument("--from", dest="source", default="en", help="source conjugate (default en)")
    _add_backend_args(t)
    t.set_defaults(func=_translate)
    a = sub.add_parser("add-language", help="add a language conjugate to the task families")
    a.add_argument("code", help="ISO 639-1 code, e.g. sw")
    a.add_argument("--families", default="icl,xnli", help="comma-separated families (default icl,xnli)")
    a.add_argument("--out", help="task folder to write (default $CONJ_USER_TASKS or ~/.local/share/conj_harness/tasks)")
    _add_backend_args(a)
    a.set_defaults(func=_add_language)
    _add_conjugate_parser(sub)
    k = sub.add_parser("cache", help="the persistent translation cache")
    k.add_argument("action", choices=["stats", "export", "import"])
    k.add_argument("file", nargs="?", help="JSONL file for export/import")
    k.add_argument("--cache", help="cache file (default $CONJ_TRANSLATION_CACHE or ~/.cache/...)")
    k.set_defaults(func=_cache)
    d = sub.add_parser("download-data", help="write the offline data mirror (for CONJ_DATA_DIR)")
    d.add_argument("dir")
    d.add_argument("--only", help="comma-separated parts: icl,xnli,advbench,multijail (default: all)")
    d.set_defaults(func=_download)
    dm = sub.add_parser("demo", help="compare the embedded tiny model pair (offline, a few minutes on a CPU)")
    dm.add_argument("--output", default="results/demo", help="report folder (default results/demo)")
    dm.add_argument("--limit", type=int, help="docs per task (default: all 400)")
    dm.add_argument("--force", action="store_true", help="overwrite a folder that holds another pair's results")
    dm.add_argument("--no-progress", action="store_true", help="one line per finished run instead of a bar")
    dm.set_defaults(func=_demo)
    rm = sub.add_parser("real-model", help="print the folder of a real model that installs offline (converted once "
                                           "from its GGUF file)")
    rm.add_argument("name", help="gemma-3-270m or smollm2-135m-instruct (see docs/real-models.md)")
    rm.add_argument("--gguf", action="store_true", help="print the GGUF file instead (lm-eval's gguf_file= loads it)")
    rm.set_defaults(func=_real_model)
    from conj_harness.cli import compare as compare_cli
    from conj_harness.cli import judge as judge_cli

    judge_cli.register(sub)
    compare_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    redact.redact_output(sys.argv[1:] if argv is None else argv)  # no credential of the command line reaches a terminal
    args = build_parser().parse_args(argv)
    _logging.setup()
    with one_line_errors("conj-harness", "interrupted; finished work is kept: run the same command again to resume"):
        args.func(args)
    if argv is None:  # the console entry point, finished: everything is written; skip the interpreter teardown
        from conj_harness.lmeval.backend_checks import exit_now  # (~1 s once torch/transformers are loaded)

        exit_now(0)


if __name__ == "__main__":
    main()
