"""``conj-harness``: the project's utility commands (``conj-eval`` runs evaluations).

Subcommands:
  tasks-dir        print the folder to pass to ``lm_eval --include_path``
  tasks            list the conj_* tasks and tags
  conjugates       list the conjugates (identity, ciphers; languages are any ISO 639-1 code)
  translate        apply a conjugate to stdin, one output line per input line
  download-data    write the offline data mirror that CONJ_DATA_DIR reads
  tiny-model       build a tiny random-init Llama offline (smoke runs, tests, benchmarks)
"""

from __future__ import annotations

import argparse
import sys

from conj_harness.errors import ConjError


def _tasks_dir(args) -> None:
    from conj_harness.taskgen import tasks_dir

    print(tasks_dir())


def _tasks(args) -> None:
    from conj_harness.registration import local_task_names

    for name in local_task_names():
        print(name)


def _conjugates(args) -> None:
    from conj_harness import conjugates

    for name in conjugates.names():
        c = conjugates.get(name)
        if c.kind != "language" or args.all:
            print(f"{name:10} {c.kind:9} {c.description}")
    if not args.all:
        print("(and every ISO 639-1 language code, e.g. fr, ja, sw: `conj-harness conjugates --all`)")


def _translate(args) -> None:
    from conj_harness import conjugates

    source, target = conjugates.get(args.source), conjugates.get(args.to)
    if source.kind != "identity" and target.kind != "identity":
        raise ConjError("translate between English and a conjugate: one of --from/--to must be en")
    fn = target.transform if source.kind == "identity" else source.invert
    out = sys.stdout
    for line in sys.stdin:
        text = line[:-1] if line.endswith("\n") else line
        out.write(fn(text) + "\n")
    out.flush()


def _download(args) -> None:
    from conj_harness.download import download

    parts = args.only.split(",") if args.only else None
    written = download(args.dir, parts) if parts else download(args.dir)
    print(f"wrote {len(written)} files under {args.dir}; use it with CONJ_DATA_DIR={args.dir}")


def _tiny_model(args) -> None:
    from conj_harness.tiny import build_llama

    print(build_llama(args.dir, seed=args.seed))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="conj-harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("tasks-dir", help="print the task folder for lm_eval --include_path").set_defaults(func=_tasks_dir)
    sub.add_parser("tasks", help="list conj_* tasks and tags").set_defaults(func=_tasks)
    c = sub.add_parser("conjugates", help="list conjugates")
    c.add_argument("--all", action="store_true", help="include every language code")
    c.set_defaults(func=_conjugates)
    t = sub.add_parser("translate", help="apply a conjugate to stdin lines")
    t.add_argument("--to", required=True, help="target conjugate (leet, piglatin, en, ...)")
    t.add_argument("--from", dest="source", default="en", help="source conjugate (default en)")
    t.set_defaults(func=_translate)
    d = sub.add_parser("download-data", help="write the offline data mirror (for CONJ_DATA_DIR)")
    d.add_argument("dir")
    d.add_argument("--only", help="comma-separated parts: icl,xnli (default: all)")
    d.set_defaults(func=_download)
    m = sub.add_parser("tiny-model", help="build a tiny random-init Llama offline")
    m.add_argument("dir")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=_tiny_model)
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ConjError as e:
        print(f"conj-harness: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
