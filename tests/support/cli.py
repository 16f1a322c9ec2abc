"""Running the installed commands (conj-eval, lm_eval, conj-harness) and reading what lm-eval wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(cmd: list[str], *, env: dict | None = None, check: bool = True, stdin: str | None = None,
        cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run an installed console script (conj-eval, lm_eval, conj-harness) from this venv."""
    exe = cmd[0] if os.path.sep in cmd[0] else str(BIN / cmd[0])
    proc = subprocess.run(
        [exe, *cmd[1:]], capture_output=True, text=True, env={**os.environ, **(env or {})}, input=stdin,
        cwd=cwd, timeout=timeout, check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
                             f"stderr:\n{proc.stderr[-6000:]}")
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
