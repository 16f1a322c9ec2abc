"""Batched vs one-at-a-time translation with the ``hf`` backend on a tiny random model (offline).

Builds a tiny MarianMT (or M2M100) in a temporary folder, translates 256 English sentences from the ICL data
(``$CONJ_DATA_DIR/icl_sentences/en.txt``, else ``/work/shared/data/icl_sentences/en.txt``) en->fr with
``batch_size=32`` and one sentence per ``translate()`` call, 3 repetitions each, and prints one JSON line with the
median seconds, the ratio (one-at-a-time / batched) and whether both gave the same translations.

    python -m bench.bench_hf [--family marian|m2m100] [--threads N] [--max-new-tokens 32]

``--threads`` calls ``torch.set_num_threads(N)``; without it torch's default is left (reported as ``threads``).
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


def _sentences(n: int) -> list[str]:
    root = Path(os.environ.get("CONJ_DATA_DIR") or "/work/shared/data")
    lines = [s.strip() for s in (root / "icl_sentences" / "en.txt").read_text(encoding="utf-8").splitlines()]
    lines = [s for s in lines if s]
    if len(lines) < n:
        sys.exit(f"need {n} sentences in {root / 'icl_sentences' / 'en.txt'}, found {len(lines)}")
    return lines[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=["marian", "m2m100"], default="marian")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    import transformers

    from conj_harness.translators.hf import HFTranslator
    from tests.support.tiny_seq2seq import build_m2m100, build_marian

    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    texts = _sentences(args.sentences)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = (build_marian if args.family == "marian" else build_m2m100)(Path(tmp) / f"tiny-{args.family}")
        build_s = time.perf_counter() - t0

        def run(batch_size: int) -> tuple[list[float], list[str]]:
            tr = HFTranslator(str(path), device="cpu", batch_size=batch_size, max_new_tokens=args.max_new_tokens)
            tr.translate(texts[:2], "en", "fr")  # load the model and warm up outside the timing
            times, out = [], []
            for _ in range(args.repeats):
                t = time.perf_counter()
                if batch_size == 1:
                    out = [tr.translate([s], "en", "fr")[0] for s in texts]
                else:
                    out = tr.translate(texts, "en", "fr")
                times.append(time.perf_counter() - t)
            return times, out

        batched_t, batched = run(args.batch_size)
        single_t, single = run(1)

    med_b, med_s = statistics.median(batched_t), statistics.median(single_t)
    print(json.dumps({
        "bench": "hf_translate", "family": args.family, "sentences": len(texts), "max_new_tokens": args.max_new_tokens,
        "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "torch": torch.__version__,
        "transformers": transformers.__version__, "build_s": round(build_s, 2), "repeats": args.repeats,
        f"batched_bs{args.batch_size}_median_s": round(med_b, 3), "one_at_a_time_median_s": round(med_s, 3),
        "batched_sent_per_s": round(len(texts) / med_b, 1), "one_at_a_time_sent_per_s": round(len(texts) / med_s, 1),
        "speedup_ratio": round(med_s / med_b, 2), "same_outputs": batched == single,
        "batched_all_s": [round(t, 3) for t in batched_t], "one_at_a_time_all_s": [round(t, 3) for t in single_t],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
