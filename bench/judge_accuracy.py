"""Agreement of the refusal judge (conj_harness.judge.refusal) with human labels; prints markdown tables.

Real data: ``$CONJ_DATA_DIR/refusal_labels/dev.jsonl`` (default /work/shared/data; 7,884 English responses from
XSTest v2 and Do-Not-Answer with human labels mapped to REFUSE / ANSWER / AMBIGUOUS). The rows are split by a hash
of the prompt into a *tune* half (the thresholds and phrase lists were adjusted looking at its errors only) and a
*held-out* half; both are reported, per source and overall.

Synthetic data: ``tests/data/refusal_multilingual.jsonl`` - short refusals and answers written by hand for this
project (no human-labelled non-English refusal data exists offline, and nothing can be machine-translated here). It
checks the phrase lists of each language; it says nothing about real model outputs. It runs without a translator,
so non-English answers come out AMBIGUOUS (stage 2 unavailable), which counts as "not REFUSE" in the
refuse-vs-answer agreement; the 3-way column shows the cost.

Metrics: precision and recall of REFUSE (all rows); refuse-vs-answer agreement = on rows labelled REFUSE or ANSWER
by humans, judge REFUSE vs anything else; 3-way accuracy on all rows; confusion matrix (rows human, columns judge).

    python bench/judge_accuracy.py [--data-dir DIR] [--show-errors N] [--split tune|heldout|all]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conj_harness.judge.refusal import ANSWER, LABELS, REFUSE, judge_many  # noqa: E402

SYNTHETIC = REPO / "tests" / "data" / "refusal_multilingual.jsonl"


def split_of(row: dict) -> str:
    """Deterministic half split by prompt (all models' responses to one prompt fall in the same half)."""
    return "tune" if zlib.crc32(row["prompt"].encode("utf-8")) % 2 == 0 else "heldout"


def metrics(gold: list[str], pred: list[str]) -> dict:
    n = len(gold)
    tp = sum(1 for g, p in zip(gold, pred) if g == REFUSE and p == REFUSE)
    pred_ref = sum(1 for p in pred if p == REFUSE)
    gold_ref = sum(1 for g in gold if g == REFUSE)
    ra = [(g, p) for g, p in zip(gold, pred) if g in (REFUSE, ANSWER)]
    ra_agree = sum(1 for g, p in ra if (g == REFUSE) == (p == REFUSE))
    return {
        "n": n,
        "precision": tp / pred_ref if pred_ref else float("nan"),
        "recall": tp / gold_ref if gold_ref else float("nan"),
        "ra_n": len(ra),
        "ra_agreement": ra_agree / len(ra) if ra else float("nan"),
        "acc3": sum(1 for g, p in zip(gold, pred) if g == p) / n if n else float("nan"),
        "confusion": Counter(zip(gold, pred)),
    }


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"


def table(rows: list[tuple[str, dict]], first: str) -> str:
    out = [f"| {first} | n | REFUSE precision | REFUSE recall | refuse-vs-answer agreement (n) | 3-way accuracy |",
           "|---|---:|---:|---:|---:|---:|"]
    for name, m in rows:
        out.append(f"| {name} | {m['n']} | {_pct(m['precision'])} | {_pct(m['recall'])} | "
                   f"{_pct(m['ra_agreement'])} ({m['ra_n']}) | {_pct(m['acc3'])} |")
    return "\n".join(out)


def confusion(m: dict, title: str) -> str:
    out = [f"{title} (rows: human, columns: judge)", "",
           "| human \\ judge | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
    for g in LABELS:
        out.append(f"| {g} | " + " | ".join(str(m["confusion"].get((g, p), 0)) for p in LABELS) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=os.environ.get("CONJ_DATA_DIR") or "/work/shared/data")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N",
                    help="print N refuse-vs-answer disagreements from the chosen split (stdout)")
    ap.add_argument("--split", choices=["tune", "heldout", "all"], default="tune",
                    help="split the --show-errors examples come from (default tune)")
    ap.add_argument("--synthetic", default=str(SYNTHETIC))
    args = ap.parse_args(argv)

    path = Path(args.data_dir) / "refusal_labels" / "dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    verdicts = judge_many([r["response"] for r in rows], [r.get("lang") for r in rows],
                          prompts=[r.get("prompt") for r in rows])
    elapsed = time.perf_counter() - t0
    pred = [v.label for v in verdicts]
    gold = [r["label"] for r in rows]
    splits = [split_of(r) for r in rows]

    print(f"## Refusal judge vs human labels ({path}, {len(rows)} English rows, stage 1 only, "
          f"{len(rows) / elapsed:.0f} responses/s)\n")
    print("Split by a hash of the prompt: thresholds and phrase lists were tuned looking only at the *tune* half.\n")
    table_rows = []
    for source in sorted({r["source"] for r in rows}):
        for split in ("tune", "heldout", None):
            idx = [i for i, r in enumerate(rows) if r["source"] == source and (split is None or splits[i] == split)]
            table_rows.append((f"{source} / {split or 'all'}", metrics([gold[i] for i in idx], [pred[i] for i in idx])))
    for split in ("tune", "heldout"):
        idx = [i for i in range(len(rows)) if splits[i] == split]
        table_rows.append((f"**all / {split}**", metrics([gold[i] for i in idx], [pred[i] for i in idx])))
    overall = metrics(gold, pred)
    table_rows.append(("**all / all**", overall))
    print(table(table_rows, "source / split"))
    print()
    print(confusion(overall, "Confusion matrix, all English rows"))
    print()
    stages = Counter(v.stage for v in verdicts)
    print(f"Deciding stage: {dict(sorted(stages.items()))}\n")

    syn = Path(args.synthetic)
    if syn.is_file():
        srows = [json.loads(line) for line in syn.read_text(encoding="utf-8").splitlines() if line.strip()]
        sv = judge_many([r["response"] for r in srows], [r["lang"] for r in srows])
        print(f"## SYNTHETIC multilingual sanity set ({syn.relative_to(REPO) if syn.is_relative_to(REPO) else syn}, "
              f"{len(srows)} rows)\n")
        print("Hand-written by the judge's author (not model outputs, not human-labelled data): it only checks that "
              "each language's phrase list catches plain refusals and leaves plain answers alone. Run without a "
              "translator, so non-English answers are AMBIGUOUS (counted as not-REFUSE).\n")
        per_lang = []
        for lang in sorted({r["lang"] for r in srows}):
            idx = [i for i, r in enumerate(srows) if r["lang"] == lang]
            per_lang.append((lang, metrics([srows[i]["label"] for i in idx], [sv[i].label for i in idx])))
        per_lang.append(("**all**", metrics([r["label"] for r in srows], [v.label for v in sv])))
        print(table(per_lang, "language (synthetic)"))
        print()
        wrong = [(r, v) for r, v in zip(srows, sv) if (r["label"] == REFUSE) != (v.label == REFUSE)]
        if wrong:
            print(f"Synthetic refuse-vs-answer disagreements: {len(wrong)}")
            for r, v in wrong[: max(args.show_errors, 10)]:
                print(f"- [{r['lang']}] human {r['label']} judge {v.label}: {r['response'][:120]!r}")
            print()

    if args.show_errors:
        shown = 0
        for r, v, s in zip(rows, verdicts, splits):
            if args.split != "all" and s != args.split:
                continue
            if r["label"] in (REFUSE, ANSWER) and (r["label"] == REFUSE) != (v.label == REFUSE):
                print(f"--- {r['source']} {r['model']} human={r['label']} judge={v.label} "
                      f"reasons={v.evidence.get('reasons')}")
                print(f"    prompt: {r['prompt'][:150]!r}")
                print(f"    response: {r['response'][:400]!r}")
                shown += 1
                if shown >= args.show_errors:
                    break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
