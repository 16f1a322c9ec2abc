"""What trusting a resume costs (issue 25): building and fingerprinting the tasks before any model loads, and
verifying a finished folder's units on resume.

    CONJ_DATA_DIR=../shared/data python -m bench.bench_preflight [--tasks conj_icl conj_*] [--units 82]

Each task set is checked in a fresh process (the families' documents are loaded there, as in a compare's parent):
the seconds of ``preflight.check_tasks`` alone, and of the family data load it follows. Then a compare folder of
``--units`` committed units with 400 samples each is verified (``PairStore.status``: the sample count and the
sha256 of both files) as a resume does. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from conj_harness.lmeval import compat
from conj_harness.lmeval.eval_cli import check_task_data
from conj_harness.lmeval.preflight import check_tasks
from conj_harness.lmeval.registration import resolve_tasks, search_paths
tasks = resolve_tasks(sys.argv[1:])
t1 = time.perf_counter()
check_task_data(tasks, compat.task_index(search_paths(None)), {})
t2 = time.perf_counter()
prints = check_tasks(tasks).fingerprints
t3 = time.perf_counter()
print(json.dumps({"tasks": len(tasks), "documents": sum(p.documents for p in prints.values()),
                  "imports_s": round(t1 - t0, 2), "family_data_s": round(t2 - t1, 2),
                  "check_tasks_s": round(t3 - t2, 2)}))
"""


def _verify(units: int) -> dict:
    from conj_harness.pairs.store import PairStore

    root = Path(tempfile.mkdtemp(prefix="bench_preflight_"))
    store = PairStore(root / "pair")
    sample = {"doc_id": 0, "doc": {"prompt": "x " * 300, "id": "a"}, "resps": [["y " * 50]], "icl_acc": 1.0}
    samples = "".join(json.dumps({**sample, "doc_id": i}) + "\n" for i in range(400)).encode()
    for i in range(units):
        store.commit("base", f"task_{i}", {"results": {f"task_{i}": {"acc,none": 1.0}}}, samples, {"identity": None})
    start = time.perf_counter()
    states = [store.status("base", f"task_{i}").state for i in range(units)]
    seconds = time.perf_counter() - start
    assert states == ["done"] * units
    return {"units": units, "samples_mb_each": round(len(samples) / 1e6, 2), "verify_s": round(seconds, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=["conj_icl", "conj_*"])
    ap.add_argument("--units", type=int, default=82)
    args = ap.parse_args(argv)
    report: dict = {"check_tasks": {}}
    for spec in args.tasks:
        out = subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True, text=True, check=True)
        report["check_tasks"][spec] = json.loads(out.stdout.strip().splitlines()[-1])
    report["verify"] = _verify(args.units)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
