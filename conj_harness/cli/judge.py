"""``conj-harness judge``: label model responses REFUSE / ANSWER / AMBIGUOUS (JSONL in, JSONL out).

Each stdin line is a JSON object with ``response`` (required), and optionally ``lang`` (the language the response
should be in: an ISO 639-1 code, ``leet`` or ``piglatin``), ``prompt`` and ``max_tokens_hit``. Each line is written
back unchanged plus ``label`` (the key is ``--label-key``) and ``evidence`` (the stage that decided, the detected
language, the matched phrase and list, the back-translation if one was made, the reasons); see
:mod:`conj_harness.judge.refusal`. Blank lines are skipped.

``--translate-backend NAME`` back-translates non-English responses that the phrase lists do not find to be refusals
(stage 2). Without it they are labelled AMBIGUOUS with the reason, never ANSWER.

Wiring: ``register(sub)`` adds the subcommand to an argparse sub-parser set; the command function raises
:class:`conj_harness.errors.ConjError` for user errors (bad JSON on line N, a missing ``response``), which the
``conj-harness`` main turns into one line on stderr. Responses are never written to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

from conj_harness.errors import ConjError
from conj_harness.files import jsonl, text


def get_translate_fn(name: str) -> Callable[[list[str], str], list[str]]:
    """The ``translate(texts, source_lang) -> English texts`` callable for backend ``name``.

    Comes from ``conj_harness.translation.layer.get_translate(name)`` (the translator layer), imported here so that the
    judge works without it when no backend is asked for.
    """
    try:
        from conj_harness.translation.layer import get_translate
    except ImportError as exc:
        raise ConjError(
            f"--translate-backend {name!r}: the translator layer does not provide get_translate yet "
            f"(conj_harness.translation.layer: {exc}); run without --translate-backend to get AMBIGUOUS for "
            "non-English responses the phrase lists do not decide"
        ) from None
    try:
        fn = get_translate(name)
    except ConjError:
        raise
    except Exception as exc:  # noqa: BLE001 - any backend that cannot start: one line naming it
        raise ConjError(f"--translate-backend {name!r} is unavailable: {type(exc).__name__}: {exc}") from None
    if not callable(fn):
        raise ConjError(f"--translate-backend {name!r}: get_translate returned {type(fn).__name__}, not a callable")
    return fn


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
    from conj_harness.judge.refusal import judge_many

    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    translate = get_translate_fn(args.translate_backend) if args.translate_backend else None
    rows = _read_rows(text.stdin_lines() if stdin is None else stdin)  # the real stdin: strictly UTF-8
    label_key = args.label_key
    clobbered = sum(1 for _, row in rows if label_key in row)
    verdicts = judge_many(
        [row["response"] or "" for _, row in rows],
        [row.get("lang") or args.lang for _, row in rows],
        prompts=[row.get("prompt") for _, row in rows],
        translate=translate,
        max_tokens_hit=[bool(row.get("max_tokens_hit", False)) for _, row in rows],
    )
    for (_, row), verdict in zip(rows, verdicts):
        out = dict(row)
        out[label_key] = verdict.label
        out["evidence"] = {"stage": verdict.stage, **verdict.evidence}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()
    counts = {label: sum(1 for v in verdicts if v.label == label) for label in ("REFUSE", "ANSWER", "AMBIGUOUS")}
    print(f"judged {len(verdicts)} responses: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=stderr)
    if clobbered:
        print(f"note: {clobbered} input lines already had a {label_key!r} field; it was replaced "
              "(use --label-key to keep it)", file=stderr)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``judge`` subcommand to ``conj-harness``'s sub-parsers."""
    p = sub.add_parser(
        "judge",
        help="label JSONL responses REFUSE / ANSWER / AMBIGUOUS (stdin -> stdout)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--lang", default=None,
                   help="language for lines without a 'lang' field (ISO 639-1, leet or piglatin; default: detect)")
    p.add_argument("--translate-backend", default=None, metavar="NAME",
                   help="translator backend for stage-2 back-translation (default: none, so non-English responses "
                        "the phrase lists do not decide are AMBIGUOUS)")
    p.add_argument("--label-key", default="label", metavar="KEY",
                   help="output field for the label (default 'label'; change it to keep an existing one)")
    p.set_defaults(func=run_judge)
