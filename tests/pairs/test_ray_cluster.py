"""The Ray executor on Ray's own multi-node test cluster (issue 26): a study of two pairs sharing their base, on
three nodes with a logical GPU each - each distinct run once, in parallel on different nodes, the same report as
the local executor; a node lost mid-study; a model asking for more GPUs than any node has."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.cli.test_errors import _one_line_error
from tests.pairs.ray_support import (
    TASKS,
    cluster,
    compare_cmd,
    done,
    loads,
    make_models,
    start,
    study_file,
    tables,
)
from tests.support.cli import run, wait_for
from tests.support.user_tasks import gate_tasks

ray = pytest.importorskip("ray", reason="the Ray executor's tests need the [ray] extra (CI installs it)")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return make_models(tmp_path_factory.mktemp("ray_models"))


def test_a_study_runs_each_distinct_run_once_at_the_same_time_on_different_nodes(models, tmp_path):
    head, _nodes = cluster(gpu_nodes=3)
    try:
        study = study_file(tmp_path, models, tmp_path / "inc")
        proc = run(compare_cmd(study, tmp_path / "ray", "--executor", "ray", "--ray-address", head.address))
    finally:
        head.shutdown()
    out = tmp_path / "ray"
    units = done(out)
    assert set(units) == {(p, r, t) for p in ("one", "two") for r in ("base", "tuned") for t in TASKS}
    # the shared base ran once: pair two's base units are pair one's, copied (same identity and task fingerprint)
    assert all(units[("two", "base", t)]["shared_from"] == f"one/base/{t}" for t in TASKS)
    assert all("shared_from" not in units[(p, r, t)] for p, r, t in units if (p, r) != ("two", "base"))
    made = loads(out)
    assert len(made) == 3 and sum(1 for x in made if x["roles"] == ["base"]) == 1
    # three actors, one per node (one logical GPU each), running at the same time
    assert len({x["node"] for x in made}) == 3
    spans = {}
    for unit in units.values():
        if "shared_from" in unit:
            continue
        node = unit["ran_on"]["node"]
        start_, end = spans.get(node, (float("inf"), 0.0))
        spans[node] = (min(start_, unit["ran_on"]["started"]), max(end, unit["ran_on"]["finished"]))
        assert unit["ran_on"]["gpus"] == ["0"]  # Ray gave each actor its node's GPU
    (a0, a1), (b0, b1) = sorted(spans.values())[:2]
    assert b0 < a1 and a0 < b1, spans  # two nodes' runs overlapped in time
    assert "on Ray" in proc.stderr and "shared run: copied" in proc.stderr

    # the local executor on the same study: the same report rows, byte for byte
    run(compare_cmd(study, tmp_path / "local"))
    assert tables(tmp_path / "local") == tables(out) and len(tables(out)) == 2
    assert (tmp_path / "local" / "cross_pair.csv").read_bytes() == (out / "cross_pair.csv").read_bytes()


def test_a_node_lost_mid_study_has_its_units_run_again_elsewhere(models, tmp_path):
    """The tuned model's actor is held inside a task (it waits for a file) when its node is removed."""
    gate = gate_tasks(tmp_path / "inc")
    tasks = ["gate_first", "gate_hold"]
    study = study_file(tmp_path, models, gate.folder, tasks)
    head, nodes = cluster(gpu_nodes=3)
    out = tmp_path / "out"
    try:
        proc = start(compare_cmd(study, out, "--executor", "ray", "--ray-address", head.address), tmp_path / "log")
        wait_for(lambda: gate.reached.exists() and len(loads(out)) == 3)
        victim_id = next(x["node"] for x in loads(out) if x["process"].startswith("ray:one tuned"))
        victim = next(n for n in nodes if n.node_id == victim_id)
        before = set(done(out))
        head.remove_node(victim)
        wait_for(lambda: "one tuned: its node was lost" in (tmp_path / "log").read_text(), 120)
        gate.release.write_text("go")
        assert proc.wait(timeout=600) == 0, (tmp_path / "log").read_text()[-3000:]
    finally:
        head.shutdown()
    units = done(out)
    assert set(units) == {(p, r, t) for p in ("one", "two") for r in ("base", "tuned") for t in tasks}
    assert not list(out.glob("*/*/*/failed.json"))
    again = [x for x in loads(out) if x["process"].startswith("ray:one tuned#2")]
    assert len(again) == 1 and again[0]["node"] != victim_id  # started again once, on another node
    lost = [t for t in tasks if ("one", "tuned", t) not in before]
    assert "gate_hold" in lost and all(units[("one", "tuned", t)]["ran_on"]["node"] != victim_id for t in lost)
    # nothing ran twice: the new actor was given only what the lost one had not finished
    launches = [json.loads(x) for x in (out / "one" / "launches.jsonl").read_text().splitlines()]
    assert [x["tasks"] for x in launches if x["process"] == "ray:one tuned#2"] == [lost]


def test_a_model_asking_more_gpus_than_any_node_has_is_one_line_before_anything_runs(models, tmp_path):
    head, _nodes = cluster(gpu_nodes=1)
    try:
        study = study_file(tmp_path, models, tmp_path / "inc", ["qa1"])
        proc = run(compare_cmd(study, tmp_path / "out", "--executor", "ray", "--ray-address", head.address,
                               "--gpus-per-model", "2"), check=False)
    finally:
        head.shutdown()
    line = _one_line_error(proc, "conj-harness")
    assert "has no node with the 2 GPUs the one base model" in line and str(models[0]) in line
    assert "GPUs per node: 1, 0" in line
    assert not list((tmp_path / "out").glob("*/loads.jsonl"))


def test_an_unreachable_address_is_one_line(models, tmp_path):
    import socket

    with socket.socket() as s:  # a port no one listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    study = study_file(tmp_path, models, tmp_path / "inc", ["qa1"])
    proc = run(compare_cmd(study, tmp_path / "out", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"),
               check=False, timeout=60)
    line = _one_line_error(proc, "conj-harness")
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in line and "ray start --head" in line


def test_without_ray_installed_the_executor_says_how_to_get_it(models, tmp_path):
    shim = tmp_path / "shim" / "ray"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    study = study_file(tmp_path, models, tmp_path / "inc", ["qa1"])
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim.parent), os.environ.get("PYTHONPATH", "")])}
    proc = run(compare_cmd(study, tmp_path / "out", "--executor", "ray"), check=False, env=env)
    assert "--executor ray needs Ray, which is not installed: pip install 'conj-harness[ray]'" in \
        _one_line_error(proc, "conj-harness")
    assert subprocess  # (the CLI ran as a subprocess)
