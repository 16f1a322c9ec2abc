"""A plain (non-editable) install ships the task folders and finds them from site-packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import entry_points

from tests.support.cli import REPO


def test_wheel_contains_tasks_and_installs_non_editable(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("conj_harness-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("conj_harness/tasks/icl/_icl_template_yaml", "conj_harness/tasks/icl/conj_icl_leet.yaml",
                   "conj_harness/tasks/icl/utils.py", "conj_harness/tasks/xnli/conj_xnli_zh.yaml",
                   "conj_harness/tasks/xnli/_xnli_template_yaml", "conj_harness/tasks/advbench/utils.py",
                   "conj_harness/tasks/multijail/_multijail_template_yaml", "conj_harness/translators/google.py",
                   "conj_harness/demo/model/manifest.json", "conj_harness/demo/model/tuned/model.safetensors"):
        assert needed in names
    assert not [n for n in names if n.startswith("tests/") or n.endswith(".jsonl")], "no tests or data in the wheel"

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import conj_harness; from conj_harness.lmeval.registration import local_task_names;"
        "print(conj_harness.tasks_dir()); print(len([n for n in local_task_names() if n.startswith('conj_')]))"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code, str(target)], check=True, capture_output=True,
                         text=True, cwd=tmp_path).stdout.split()
    assert out[0] == str(target / "conj_harness" / "tasks")
    assert int(out[1]) == 7 + 17 + 7 + 10 + 4  # tasks plus the four family tags


def test_lm_eval_tasks_entry_point_is_declared():
    eps = entry_points(group="lm_eval.tasks")
    assert any(ep.name == "conj_harness" and ep.value == "conj_harness.tasks" for ep in eps)
