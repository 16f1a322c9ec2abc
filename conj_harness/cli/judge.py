"""``conj-harness judge``: label model responses REFUSE / ANSWER / AMBIGUOUS (JSONL in, JSONL out).

Each stdin line is a JSON object with ``response`` (required), and optionally ``lang`` (the language the response
should be in: an ISO 639-1 code, ``leet`` or ``piglatin``), ``prompt`` and ``max_tokens_hit``. Each line is written
back unchanged plus ``label`` (the key is ``--label-key``) and ``evidence`` (the rule and stage that decided, the
detected language, the matched phrase and list, the back-translation if one was made, the reasons); see
:mod:`conj_harness.judge.refusal`. Blank lines are skipped.

A response in a language with a phrase list (``--lang`` names them) is decided like an English one; in any other
language, or one that cannot be told, it is AMBIGUOUS with the reason, never ANSWER - unless
``--translate-backend NAME`` back-translates it (stage 2), which also double-checks the listed languages' answers.

Wiring: ``register(sub)`` adds the subcommand to an argparse sub-parser set; the command function raises
:class:`conj_harness.errors.ConjError` for user errors (bad JSON on line N, a missing ``response``), which the
``conj-harness`` main turns into one line on stderr. Responses are never written to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from conj_harness.errors import ConjError
from conj_harness.files import jsonl, redact, text

if TYPE_CHECKING:
    from conj_harness.judge.registry import JudgeSpec


def _judge_spec(args: argparse.Namespace) -> JudgeSpec:
    """The judge the flags name, checked before any response is read (unknown names, missing models: one line)."""
    from conj_harness.judge.registry import JudgeSpec, check_judge, translator_fn

    spec = JudgeSpec(args.judge, args.judge_model, args.judge_translator)
    check_judge(spec)
    translator_fn(spec.translator)  # a backend that cannot start fails here, naming it
    return spec


def _read_rows(lines: Iterable[str]) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, row in jsonl.objects(lines, "stdin"):
        if "response" not in row:
            raise ConjError(f"stdin line {number}: no 'response' field (keys: {', '.join(sorted(row)) or 'none'})")
        if row["response"] is not None and not isinstance(row["response"], str):
            raise ConjError(f"stdin line {number}: 'response' must be a string, got {type(row['response']).__name__}")
        for key in ("lang", "prompt"):
            if row.get(key) is not None and not isinstance(row[key], str):
                raise ConjError(f"stdin line {number}: {key!r} must be a string, got {type(row[key]).__name__}")
        rows.append((number, row))
    return rows


def run_judge(args: argparse.Namespace, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
              stderr: IO[str] | None = None) -> None:
    """The ``judge`` command: read JSONL, judge all lines in one batch, write JSONL."""
    from conj_harness.judge.registry import run_judge as judge_batch

    stdout = stdout if stdout is not None else redact.data_stdout()  # responses are data: never rewritten
    stderr = stderr if stderr is not None else sys.stderr
    spec = _judge_spec(args)
    rows = _read_rows(text.stdin_lines() if stdin is None else stdin)  # the real stdin: strictly UTF-8
    label_key = args.label_key
    clobbered = sum(1 for _, row in rows if label_key in row)
    verdicts = judge_batch(spec, [row["response"] or "" for _, row in rows], [row.get("prompt") for _, row in rows],
                           [row.get("lang") or args.lang for _, row in rows])
    for (_, row), verdict in zip(rows, verdicts):
        out = dict(row)
        out[label_key] = verdict.label
        out["evidence"] = {"stage": verdict.stage, **verdict.evidence}
        stdout.write(jsonl.dumps(out) + "\n")
    stdout.flush()
    counts = {label: sum(1 for v in verdicts if v.label == label) for label in ("REFUSE", "ANSWER", "AMBIGUOUS")}
    print(f"judged {len(verdicts)} responses: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=stderr)
    if clobbered:
        print(f"note: {clobbered} input lines already had a {label_key!r} field; it was replaced "
              "(use --label-key to keep it)", file=stderr)


def run_judge_eval(args: argparse.Namespace) -> None:
    """``judge-eval FILE``: agreement of a judge with human labels, per source and language (no response shown)."""
    from conj_harness.files import atomic
    from conj_harness.judge.evaluation import agreement_table, gold_label, markdown, rule_table
    from conj_harness.judge.registry import run_judge as judge_batch

    spec = _judge_spec(args)
    rows = []
    for number, row in jsonl.read_objects(args.file):
        if not isinstance(row.get("response"), str):
            raise ConjError(f"{args.file} line {number}: no 'response' string")
        gold_label(row.get("label"), f"{args.file} line {number}")
        rows.append(row)
    if not rows:
        raise ConjError(f"{args.file} holds no labelled responses")
    verdicts = judge_batch(spec, [r["response"] for r in rows], [r.get("prompt") for r in rows],
                           [r.get("lang") or args.lang for r in rows])
    labels = [v.label for v in verdicts]
    groups = agreement_table(rows, labels)
    deciders = [f"classifier:{v.evidence['classifier']}" if "classifier" in v.evidence else v.evidence.get("rule")
                for v in verdicts]
    rules = rule_table(rows, labels, deciders)
    title = f"judge {spec.name} on {args.file} ({len(rows)} responses)"
    print(markdown(groups, title, rules))
    if args.output:
        atomic.write_json(args.output, {"judge": spec.identity(), "file": str(args.file),
                                        "groups": {k: g.as_dict() for k, g in groups.items()},
                                        "rules": {k: r.as_dict() for k, r in rules.items()}})
        print(f"wrote {args.output}", file=sys.stderr)


def run_rejudge(args: argparse.Namespace) -> None:
    """``rejudge DIR``: relabel a compare folder (in place) or an lm-eval output folder (into --output)."""
    spec = _judge_spec(args)
    folder = Path(args.dir)
    if not folder.is_dir():
        raise ConjError(f"{folder}: no such folder")
    if (folder / "pair.json").is_file():
        from conj_harness.cli.compare import _print_summary
        from conj_harness.comparison import rejudge_pair

        summary = rejudge_pair(folder, spec.name, spec.model, spec.translator)
        _print_summary(summary, folder)
        return
    _rejudge_run_folder(folder, Path(args.output) if args.output else None, spec, args.force)


def _rejudge_run_folder(folder: Path, output: Path | None, spec: JudgeSpec, force: bool) -> None:
    """An lm-eval ``--output_path`` folder: its judged tasks relabelled into a copy (the original is left as is)."""
    from conj_harness.files import atomic
    from conj_harness.lmeval import outputs
    from conj_harness.pairs.rejudge import judged_task, rejudge_results, rejudge_samples

    run = outputs.find_run(folder, what="rejudge")
    tasks = [t for t in run.samples if judged_task(t)]
    if not tasks:
        raise ConjError(f"{folder} holds no safety task samples (conj_advbench_*, conj_multijail_*) to re-judge")
    out = output or folder.with_name(f"{folder.name}-rejudged-{spec.name}")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise ConjError(f"--output {out} lies inside {folder}, which is left unchanged: choose a folder outside it")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConjError(f"{out} is not empty: choose another --output, or pass --force")
    for task in tasks:
        rows = rejudge_samples(outputs.read_samples(run.samples[task]), spec)
        target = out / run.samples[task].relative_to(folder)
        jsonl.write(target, rows)
        source = run.results.get(task)
        if source is not None:
            dest = out / source.relative_to(folder)
            results = outputs.read_results(dest if dest.exists() else source)
            atomic.write_json(dest, rejudge_results(results, task, rows, spec))
        print(f"{task}: " + ", ".join(f"{k} {sum(r[k] for r in rows) / len(rows):.3f}" for k in
                                      ("refusal_rate", "answer_rate", "ambiguous_rate")))
    print(f"re-judged {len(tasks)} tasks into {out} (judge {spec.name}); {folder} is unchanged", file=sys.stderr)


def _add_judge_flags(p: argparse.ArgumentParser) -> None:
    from conj_harness.judge.registry import JUDGE_TRANSLATORS, judge_names

    p.add_argument("--judge", default="rules", metavar="NAME",
                   help=f"the judge: {', '.join(judge_names())} (default rules)")
    p.add_argument("--judge-model", default=None, metavar="PATH",
                   help="the classifier's model folder or hub id (classifier judges)")
    p.add_argument("--judge-translator", "--translate-backend", dest="judge_translator", default=None,
                   metavar="NAME", help=f"back-translation for the rules: {', '.join(JUDGE_TRANSLATORS)} (default "
                                        "none: languages without a phrase list are AMBIGUOUS)")
    from conj_harness.judge.refusal import supported_languages

    p.add_argument("--lang", default=None,
                   help="language for lines without a 'lang' field (ISO 639-1, leet or piglatin; default: detect); "
                        f"phrase lists: {', '.join(supported_languages())}")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``judge``, ``judge-eval`` and ``rejudge`` to ``conj-harness``'s sub-parsers."""
    p = sub.add_parser(
        "judge",
        help="label JSONL responses REFUSE / ANSWER / AMBIGUOUS (stdin -> stdout)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_judge_flags(p)
    p.add_argument("--label-key", default="label", metavar="KEY",
                   help="output field for the label (default 'label'; change it to keep an existing one)")
    p.set_defaults(func=run_judge)
    e = sub.add_parser("judge-eval", help="agreement of a judge with human labels (JSONL: response, label, ...)",
                       description="Judge every line of a human-labelled JSONL file (response, label; optional "
                                   "lang, prompt, source) and print refuse-vs-answer agreement, REFUSE precision / "
                                   "recall, 3-way accuracy and the confusion matrix, overall and per source, "
                                   "language and tune / held-out split. Responses are never printed.")
    e.add_argument("file")
    _add_judge_flags(e)
    e.add_argument("--output", help="also write the figures as JSON here")
    e.set_defaults(func=run_judge_eval)
    r = sub.add_parser("rejudge", help="relabel saved safety generations with another judge (no inference)",
                       description="Relabel the safety tasks of a compare folder (in place; its report is re-rendered)"
                                   " or of an lm-eval --output_path folder (into a copy, --output) from the saved "
                                   "generations. No model is loaded for generation.")
    r.add_argument("dir")
    _add_judge_flags(r)
    r.add_argument("--output", help="lm-eval folders: where the relabelled copy goes (default DIR-rejudged-NAME)")
    r.add_argument("--force", action="store_true", help="write into a non-empty --output")
    r.set_defaults(func=run_rejudge)
