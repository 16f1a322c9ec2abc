"""What the Ray executor's tests share: a study of two pairs with one base, and Ray's own multi-node test cluster
(``ray.cluster_utils.Cluster``: several raylets on this machine, each with a logical GPU Ray trusts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.user_tasks import qa_task

TASKS = ["qa1", "qa2", "qa3", "qa4"]


def make_models(folder: Path) -> dict[int, Path]:
    from tests.support.tiny_models import build_llama

    return {seed: build_llama(folder / f"llama-{seed}", seed=seed) for seed in (0, 1, 2)}


def study_file(folder: Path, models: dict[int, Path], include: Path, tasks: list[str] = TASKS,
               **extra: object) -> Path:
    """Two pairs that share their base (``models[0]``), on ``tasks`` of a user's include path."""
    for task in tasks:
        if not (include / f"{task}.yaml").exists():
            qa_task(include, task, rows=[{"q": f"{task}: what is {i} plus {i}?", "a": str(2 * i)} for i in range(3)])
    study = {"defaults": {"tasks": tasks, "limit": 3, "include_path": str(include)},
             "pairs": [{"name": "one", "base": str(models[0]), "tuned": str(models[1])},
                       {"name": "two", "base": str(models[0]), "tuned": str(models[2])}], **extra}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return path


def compare_cmd(study: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "conj_harness.cli.main", "compare", "--pairs", str(study), "--output", str(out),
            "--no-progress", *extra]


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "wb"), env=os.environ.copy())


def loads(out: Path) -> list[dict]:
    files = sorted([*out.glob("loads.jsonl"), *out.glob("*/loads.jsonl")])
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def done(out: Path) -> dict[tuple[str, str, str], dict]:
    return {(p.parts[-4], p.parts[-3], p.parts[-2]): json.loads(p.read_text()) for p in out.glob("*/*/*/done.json")}


def tables(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("*/table.csv"))}


def cluster(gpu_nodes: int, head_gpus: int = 0):
    """Ray's multi-node test cluster: a head without GPUs (so actors land on the GPU nodes) and ``gpu_nodes``
    nodes of one logical GPU and one CPU each, small object stores, node loss noticed within seconds."""
    from ray.cluster_utils import Cluster

    small = {"object_store_memory": 80 * 2**20}
    made = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "num_gpus": head_gpus, **small, "_system_config": {
            "health_check_period_ms": 500, "health_check_failure_threshold": 3, "health_check_timeout_ms": 500}})
    nodes = [made.add_node(num_cpus=1, num_gpus=1, **small) for _ in range(gpu_nodes)]
    made.wait_for_nodes()
    return made, nodes
