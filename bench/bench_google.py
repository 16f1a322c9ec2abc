"""Benchmark the Google backend's concurrency against the local fake endpoint (no network).

Starts tests/fake_google.py's HTTPS server with 50 ms latency per request, translates the same 200 distinct
strings en->fr with concurrency=1 and concurrency=16 (3 repetitions each, a fresh batch every time) and prints
one JSON line with the median seconds of each and the speedup ratio (goal: >= 5x).

    .venv/bin/python bench/bench_google.py [--latency 0.05] [--strings 200] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_google import FakeGoogle, fake_translate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--strings", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--low", type=int, default=1)
    parser.add_argument("--high", type=int, default=16)
    args = parser.parse_args()

    texts = [f"Benchmark sentence number {i} for the fake endpoint." for i in range(args.strings)]
    expected = [fake_translate(t, "fr") for t in texts]
    with FakeGoogle(latency=args.latency) as fake:
        os.environ["SSL_CERT_FILE"] = fake.cert_file  # read when googletrans creates its httpx client
        os.environ.pop("SSL_CERT_DIR", None)
        from conj_harness.translators.google import GoogleTranslator

        times: dict[int, list[float]] = {args.low: [], args.high: []}
        max_in_flight: dict[int, int] = {}
        for _ in range(args.reps):
            for concurrency in (args.low, args.high):
                tr = GoogleTranslator(service_url=fake.host, concurrency=concurrency, backoff=0.05)
                fake.reset_counters()
                t0 = time.perf_counter()
                out = tr.translate(texts, "en", "fr")
                times[concurrency].append(time.perf_counter() - t0)
                if out != expected:
                    raise SystemExit(f"wrong translations at concurrency={concurrency}")
                max_in_flight[concurrency] = max(max_in_flight.get(concurrency, 0), fake.max_in_flight)
    low, high = statistics.median(times[args.low]), statistics.median(times[args.high])
    print(json.dumps({
        "strings": args.strings, "latency_s": args.latency, "reps": args.reps,
        f"median_s_concurrency_{args.low}": round(low, 3), f"median_s_concurrency_{args.high}": round(high, 3),
        "speedup": round(low / high, 2), "goal_met": low / high >= 5,
        "max_in_flight": {str(k): v for k, v in max_in_flight.items()},
        "runs_s": {str(k): [round(t, 3) for t in v] for k, v in times.items()},
    }))


if __name__ == "__main__":
    main()
