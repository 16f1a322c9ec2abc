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
    """Run an installed console script (conj-eval, lm_eval, conj-harness) from this venv, or a system command."""
    exe = cmd[0] if os.path.sep in cmd[0] or not (BIN / cmd[0]).exists() else str(BIN / cmd[0])
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


def read_only(folder: Path, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` (as :func:`run` does) while ``folder`` is read-only for it.

    Permission bits do not stop root, so as root the folder is bind-mounted read-only in a private mount namespace
    (``unshare -m``), where writes fail with EROFS; otherwise its write permission is taken away for the run.
    """
    folder = Path(folder)
    exe = cmd[0] if os.path.sep in cmd[0] or not (BIN / cmd[0]).exists() else str(BIN / cmd[0])
    if os.geteuid() == 0:
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        return run(["unshare", "-m", "sh", "-c", script, str(folder), exe, *cmd[1:]], **kwargs)
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
    try:
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        return run([exe, *cmd[1:]], **kwargs)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def wait_for(predicate, timeout: float = 300) -> None:
    """Poll ``predicate`` until it holds (AssertionError after ``timeout`` seconds): a run held at a known point."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)
