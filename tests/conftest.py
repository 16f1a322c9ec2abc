"""Shared fixtures: the offline data mirror, tiny random-init models built offline, and CLI runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _data_dir() -> Path:
    return Path(os.environ.get("CONJ_DATA_DIR") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = _data_dir()
    if not (path / "icl_sentences" / "en.txt").is_file():
        pytest.fail(f"offline data mirror not found at {path}: set CONJ_DATA_DIR (see README)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _offline_env(data_dir, tmp_path_factory):
    """Every test (and every CLI it starts) runs offline against the mirror, with its own caches."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CONJ_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    home = tmp_path_factory.getbasetemp() / "home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "hf_datasets"))
    yield
    monkeypatch.undo()


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A ~0.5M-parameter random Llama with a locally trained tokenizer (seed 0)."""
    from tests.support.tiny_models import build_llama

    return build_llama(tmp_path_factory.mktemp("models") / "tiny-llama-0", seed=0)


def run(cmd: list[str], *, env: dict | None = None, check: bool = True, stdin: str | None = None,
        cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run an installed console script (conj-eval, lm_eval, conj-harness) from this venv."""
    exe = cmd[0] if os.path.sep in cmd[0] else str(BIN / cmd[0])
    proc = subprocess.run(
        [exe, *cmd[1:]], capture_output=True, text=True, env={**os.environ, **(env or {})}, input=stdin,
        cwd=cwd, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}")
    return proc


def read_results(output_path: Path) -> dict:
    """The results JSON lm-eval wrote under --output_path (exactly one run expected)."""
    files = sorted(output_path.rglob("results_*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def read_samples(output_path: Path, task: str) -> list[dict]:
    files = sorted(output_path.rglob(f"samples_{task}_*.jsonl"))
    assert len(files) == 1, files
    return [json.loads(line) for line in files[0].read_text().splitlines()]


@pytest.fixture(scope="session")
def tiny_chat_llama(tmp_path_factory) -> Path:
    """Like tiny_llama, with a chat template (for --apply_chat_template / --system_instruction runs)."""
    from tests.support.tiny_models import CHAT_TEMPLATE, build_llama

    return build_llama(tmp_path_factory.mktemp("models") / "tiny-chat", seed=0, chat_template=CHAT_TEMPLATE)
