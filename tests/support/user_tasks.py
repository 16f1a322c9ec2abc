"""Task folders a user would write for ``--include-path``: a small question-answer task, and a pair of tasks that
hold a run at a known point (so a test interrupts it there, however fast or slow the machine is)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

ROWS = [{"q": f"What is {i} plus {i}?", "a": str(2 * i)} for i in range(4)]


def qa_task(folder: Path, name: str = "tinyqa", rows: list[dict] | None = None,
            doc_to_text: str = "Question: {{q}}\nAnswer:", **extra: object) -> Path:
    """``folder/<name>.yaml`` reading ``folder/<name>.jsonl``: a generate_until task scored by exact match."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in (ROWS if rows is None else rows)), encoding="utf-8")
    config = {"task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
              "test_split": "test", "output_type": "generate_until", "doc_to_text": doc_to_text,
              "doc_to_target": "{{a}}", "generation_kwargs": {"until": ["\n"], "max_gen_toks": 4, "do_sample": False},
              "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
              **extra}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


HOLD = '''\
"""Scores like exact match; the first call in a process announces itself and waits to be released."""
import time
from pathlib import Path

HERE = Path(__file__).parent
_held = []


def hold(doc, results):
    if not _held:
        _held.append(True)
        (HERE / "reached").write_text("the run is inside gate_hold")
        deadline = time.monotonic() + 600
        while not (HERE / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return {"exact_match": float(results[0].strip() == doc["a"])}
'''


@dataclass
class Gate:
    """``gate_first`` runs straight through; ``gate_hold`` writes ``reached`` once it is scoring and waits for
    ``release``."""

    folder: Path

    @property
    def reached(self) -> Path:
        return self.folder / "reached"

    @property
    def release(self) -> Path:
        return self.folder / "release"


def gate_tasks(folder: Path) -> Gate:
    qa_task(folder, "gate_first")
    path = qa_task(folder, "gate_hold")
    (folder / "gate_utils.py").write_text(HOLD, encoding="utf-8")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.pop("metric_list")
    text = yaml.safe_dump(config, sort_keys=False) + "process_results: !function gate_utils.hold\n" + \
        "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
    path.write_text(text, encoding="utf-8")
    return Gate(folder)
