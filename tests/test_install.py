"""Installing as users do: a wheel with everything in it, and a plain `pip install .` used from the checkout.

The newcomer's sequence is `git clone`, `pip install .` (not editable), then the commands, run from the clone:
the child processes that compare starts (`python -m conj_harness.cli.conj_eval`) then import the checkout's
`conj_harness/`, which must work as well as the installed copy. The same commands run from another folder too.
The new venv takes its dependencies from this one (a .pth line): only conj-harness itself is installed afresh,
non-editable, so nothing here needs the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.support.cli import REPO, run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def test_wheel_contains_tasks_demo_and_no_tests(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("conj_harness-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("conj_harness/tasks/icl/_icl_template_yaml", "conj_harness/tasks/icl/conj_icl_leet.yaml",
                   "conj_harness/tasks/icl/utils.py", "conj_harness/tasks/xnli/conj_xnli_zh.yaml",
                   "conj_harness/tasks/xnli/_xnli_template_yaml", "conj_harness/tasks/advbench/utils.py",
                   "conj_harness/tasks/multijail/_multijail_template_yaml", "conj_harness/translators/google.py",
                   "conj_harness/lmeval/compat.py", "conj_harness/demo/model/manifest.json",
                   "conj_harness/demo/model/tuned/model.safetensors", "conj_harness/py.typed"):
        assert needed in names
    assert not [n for n in names if n.startswith("tests/") or "tiny" in n or n.endswith(".jsonl")], \
        "no tests, test helpers or data in the wheel"


@pytest.fixture(scope="module")
def newcomer_venv(tmp_path_factory) -> Path:
    """A fresh venv with a plain (non-editable) `pip install .` of the checkout."""
    venv = tmp_path_factory.mktemp("newcomer") / "venv"
    # no pip of its own: pip, setuptools and the dependencies come from this venv, through the .pth line below
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_conj_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", str(REPO)],
                   check=True, capture_output=True)
    return venv


def _where_it_imports_from(venv: Path, cwd: Path) -> str:
    code = "import conj_harness; conj_harness.task_manager(); print(conj_harness.__file__)"
    return run([str(venv / "bin" / "python"), "-c", code], cwd=cwd).stdout.strip()


def test_plain_install_used_from_the_checkout(newcomer_venv, tmp_path):
    assert _where_it_imports_from(newcomer_venv, REPO) == str(REPO / "conj_harness" / "__init__.py")
    out = tmp_path / "demo"
    proc = run([str(newcomer_venv / "bin" / "conj-harness"), "demo", "--limit", "2", "--output", str(out),
                "--no-progress"], cwd=REPO)
    assert "report:" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failures"] == [] and {r["task"] for r in summary["rows"]} == {
        "conj_icl_en", "conj_icl_leet", "conj_icl_piglatin"}
    # the model workers (one per model) ran the checkout's package with the installed interpreter
    launches = [json.loads(line) for line in (out / "launches.jsonl").read_text().splitlines()]
    assert {launch["role"] for launch in launches} == {"base", "tuned"}
    for launch in launches:
        assert launch["cmd"][:3] == [str(newcomer_venv / "bin" / "python"), "-m", "conj_harness.lmeval.worker"]


def test_plain_install_used_from_another_folder(newcomer_venv, tmp_path):
    site = _where_it_imports_from(newcomer_venv, tmp_path)
    assert "site-packages" in site and not site.startswith(str(REPO))
    tasks_dir = run([str(newcomer_venv / "bin" / "conj-harness"), "tasks-dir"], cwd=tmp_path).stdout.strip()
    assert tasks_dir == str(Path(site).parent / "tasks") and (Path(tasks_dir) / "icl" / "conj_icl_en.yaml").is_file()
    demo = Path(site).parent / "demo" / "model"
    out = tmp_path / "pair"
    run([str(newcomer_venv / "bin" / "conj-harness"), "compare", "--base", str(demo / "base"), "--tuned",
         str(demo / "tuned"), "--tasks", "conj_icl_en", "--limit", "2", "--output", str(out), "--no-progress"],
        cwd=tmp_path)
    assert json.loads((out / "summary.json").read_text())["failures"] == []
    proc = run([str(newcomer_venv / "bin" / "conj-eval"), "--model", "hf", "--model_args",
                f"pretrained={demo / 'base'}", "--tasks", "conj_xnli_leet", "--limit", "2"], cwd=tmp_path)
    assert "conj_xnli_leet" in proc.stdout


def test_lm_eval_tasks_entry_point_is_declared():
    eps = entry_points(group="lm_eval.tasks")
    assert any(ep.name == "conj_harness" and ep.value == "conj_harness.tasks" for ep in eps)


def test_the_worked_script_type_checks_against_the_installed_package(newcomer_venv, tmp_path):
    """docs/examples/study.py (the README's Python API) checked by mypy against the non-editable install: the
    package must ship py.typed, or mypy refuses its types."""
    script = tmp_path / "study.py"
    script.write_text((REPO / "docs" / "examples" / "study.py").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([str(newcomer_venv / "bin" / "python"), "-m", "mypy", "--no-incremental",
                           "--cache-dir", str(tmp_path / ".mypy"), str(script)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout
