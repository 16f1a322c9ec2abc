"""The Ray executor with no address: a Ray started on this machine for the run and stopped after it (issue 26) -
on the demo pair, the same report as the local executor; Ctrl-C mid-study leaves no Ray process behind, and the
same command resumes to the same report."""

from __future__ import annotations

import signal
import subprocess

import pytest

from conj_harness.demo.checkpoint import demo_paths
from tests.pairs.ray_support import compare_cmd, done, loads, make_models, start, study_file, tables
from tests.support.cli import run, wait_for
from tests.support.user_tasks import gate_tasks

ray = pytest.importorskip("ray", reason="the Ray executor's tests need the [ray] extra (CI installs it)")
pytestmark = pytest.mark.slow


def _ray_processes() -> list[str]:
    """Ray's own processes on this machine (a started Ray's GCS and raylet, its workers and actors)."""
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout.splitlines()
    return [p for p in ps if any(k in p for k in ("gcs_server", "raylet/raylet", "ray::", "default_worker.py"))]


def test_the_demo_pair_on_a_local_ray_matches_the_local_executor(tmp_path):
    assert not _ray_processes()
    base, tuned = demo_paths()
    pair = ["conj-harness", "compare", "--base", str(base), "--tuned", str(tuned), "--tasks", "conj_icl_en",
            "conj_icl_leet", "--limit", "20", "--no-progress"]
    proc = run([*pair, "--output", str(tmp_path / "ray"), "--executor", "ray"])
    assert "Ray started on this machine" in proc.stderr
    run([*pair, "--output", str(tmp_path / "local")])
    assert (tmp_path / "ray" / "table.csv").read_bytes() == (tmp_path / "local" / "table.csv").read_bytes()
    assert [x["roles"] for x in loads(tmp_path / "ray")] == [["base"], ["tuned"]] or \
        [x["roles"] for x in loads(tmp_path / "ray")] == [["tuned"], ["base"]]
    assert not _ray_processes()  # the Ray this run started is stopped


def test_a_base_and_its_lora_adapter_on_ray_share_one_load_and_match_the_local_executor(tmp_path):
    """Both roles on one actor: the adapter attached for the tuned tasks (once), detached for the base's."""
    from tests.support.tiny_models import build_llama, build_lora
    from tests.support.user_tasks import qa_task

    model = build_llama(tmp_path / "llama", seed=0)
    adapter = build_lora(model, tmp_path / "lora", seed=1)
    for task in ("qa1", "qa2"):
        qa_task(tmp_path / "inc", task)
    pair = ["conj-harness", "compare", "--base", str(model), "--tuned-adapter", str(adapter), "--tasks", "qa1", "qa2",
            "--include-path", str(tmp_path / "inc"), "--limit", "3", "--no-progress"]
    run([*pair, "--output", str(tmp_path / "ray"), "--executor", "ray"])
    run([*pair, "--output", str(tmp_path / "local")])
    assert not list((tmp_path / "ray").glob("*/*/failed.json"))
    assert [x["roles"] for x in loads(tmp_path / "ray")] == [["base", "tuned"]]
    assert (tmp_path / "ray" / "table.csv").read_bytes() == (tmp_path / "local" / "table.csv").read_bytes()
    assert not _ray_processes()


def test_ctrl_c_mid_study_leaves_no_ray_process_and_the_same_command_resumes(tmp_path):
    models = make_models(tmp_path / "models")
    gate = gate_tasks(tmp_path / "inc")
    tasks = ["gate_first", "gate_hold"]
    study = study_file(tmp_path, models, gate.folder, tasks)
    out = tmp_path / "out"
    proc = start(compare_cmd(study, out, "--executor", "ray"), tmp_path / "first.log")
    wait_for(gate.reached.exists)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130
    first = (tmp_path / "first.log").read_text()
    assert "Traceback" not in first and "interrupted; finished work is kept" in first
    wait_for(lambda: not _ray_processes(), 60)  # actors killed, the local Ray stopped
    kept = {k: v["finished_at"] for k, v in done(out).items()}
    assert ("one", "base", "gate_hold") not in kept and not list(out.glob("*/*/*/failed.json"))

    gate.release.write_text("go")
    proc = start(compare_cmd(study, out, "--executor", "ray"), tmp_path / "second.log")
    assert proc.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    assert set(done(out)) == {(p, r, t) for p in ("one", "two") for r in ("base", "tuned") for t in tasks}
    assert all(done(out)[k]["finished_at"] == when for k, when in kept.items())  # finished work was kept
    assert not _ray_processes()
    run(compare_cmd(study, tmp_path / "local"))
    assert tables(tmp_path / "local") == tables(out)
