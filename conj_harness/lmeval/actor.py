"""A model run on a Ray node: one model load and all of its units, driven by the compare's driver.

:class:`ModelActor` is what :mod:`conj_harness.pairs.ray_executor` turns into a Ray actor (``ray.remote`` is
applied there, so this module needs no Ray to import). It holds a :class:`~conj_harness.lmeval.worker.ModelSession`
- the same preparation, model loading and task running as a local worker process - and sends each finished unit's
results and samples back by value: nothing is written to the compare's folder from a node, and the node's own files
(lm-eval's output, its request cache, the log) live in a node-local temporary folder, removed when the run ends
(or, after a Ctrl-C or a lost driver, by the next actor started on that node).

The job's ``--include-path`` folder travels with it by value (``files``) and is written under that folder when the
node does not have it at the driver's path (its absolute paths in the YAMLs rewritten to the node's copy). Models
and the data mirror (``CONJ_DATA_DIR``) must be reachable on every node - see docs/compare.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["ModelActor", "pack_folder"]

#: The most an --include-path folder may hold to travel with the plan (else: put it on every node).
PACK_LIMIT = 256 * 2**20
#: The node-local folders' prefix, then the actor's process id: a new actor removes those whose process is gone
#: (an actor killed by Ctrl-C or a lost driver cannot remove its own).
TMP_PREFIX = "conj-ray-"


def _sweep_stale() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        pid = folder.name[len(TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pack_folder(folder: str | None) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path (hidden folders and caches left out)."""
    if not folder:
        return {}
    from conj_harness.errors import ConjError

    root = Path(folder)
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        data = path.read_bytes()
        total += len(data)
        if total > PACK_LIMIT:
            raise ConjError(f"--include-path {folder} holds more than {PACK_LIMIT >> 20} MiB: too much to send to "
                            "every Ray node with the plan; put it at the same path on every node instead")
        files[str(rel)] = data
    return files


def _unpack(files: dict[str, bytes], driver_path: str, into: Path) -> str:
    """The include path on this node: the driver's own when it holds the same files, else a copy under ``into``
    with the driver's path in the YAMLs replaced by the copy's. ``files``: every include path's files of the plan,
    each keyed by the driver's folder and its relative path, split by a NUL."""
    files = {k.split("\0", 1)[1]: v for k, v in files.items() if k.split("\0", 1)[0] == driver_path}
    here = Path(driver_path)
    if here.is_dir() and all((here / rel).is_file() and (here / rel).read_bytes() == data
                             for rel, data in files.items()):
        return driver_path
    copy = into / "include"
    for rel, data in files.items():
        target = copy / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith((".yaml", "_yaml", ".yml")):
            for form in {str(here.resolve()), str(here.absolute())}:  # the folder as given, and through links
                data = re.sub(re.escape(form.encode()) + rb"(?=[/\"'\s]|$)", str(copy).encode(), data,
                              flags=re.MULTILINE)
        target.write_bytes(data)
    return str(copy)


def where() -> dict[str, Any]:
    """This process's node and accelerators, as the progress lines show them."""
    info: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(), "node": "", "gpus": []}
    with contextlib.suppress(Exception):
        import ray

        context = ray.get_runtime_context()
        info["node"] = context.get_node_id()
        info["gpus"] = [str(g) for g in context.get_accelerator_ids().get("GPU", [])]
    return info


class ModelActor:
    """One model run (see the module docstring). Methods are called in order by one driver."""

    def __init__(self, job: dict[str, Any], files: dict[str, bytes], threads: int = 1) -> None:
        _sweep_stale()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
        self.role: str | None = None
        self.log_path = self.tmp / "worker.log"
        self.sent = 0
        self._capture_output()
        job = dict(job)
        if job.get("include_path"):
            job["include_path"] = _unpack(files, job["include_path"], self.tmp)
        job["scratch"] = str(self.tmp / "scratch")
        for role in job["roles"]:
            role["cache"] = str(self.tmp / "cache" / role["role"] / "{task}" / "lm_cache")
        if threads:
            with contextlib.suppress(Exception):
                import torch

                torch.set_num_threads(threads)  # two actors on one machine's cores do not fight over them
        self.job = job
        self.session: Any = None
        self.error: str | None = None
        try:
            from conj_harness.lmeval.worker import ModelSession

            self.session = ModelSession(job)
        except Exception as e:  # noqa: BLE001 - a bad model folder, missing data: the driver fails the run's units
            traceback.print_exc()
            self.error = _one_line(e)

    def _capture_output(self) -> None:
        """This process's stdout and stderr (lm-eval's, the model's) into the node-local log, whose new part goes
        back with each unit: no output of a node reaches the driver's terminal."""
        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    def _log_since(self) -> bytes:
        """The log's whole new lines (the driver masks credentials line by line: none may be cut in two)."""
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.sent)
                data = f.read()
        except OSError:
            return b""
        data = data[:data.rfind(b"\n") + 1]
        self.sent += len(data)
        return data

    def load(self) -> dict[str, Any]:
        """Load the model; where it is and how long it took (or why it could not)."""
        info = where()
        if self.error is None:
            try:
                info["seconds"] = self.session.load()
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                self.error = _one_line(e)
        info["error"] = self.error
        info["log"] = self._log_since()
        return info

    def run(self, role: str, task: str) -> dict[str, Any]:
        """One unit: ``{ok, results, samples, seconds, log, node, gpus}`` or ``{ok: False, error, ...}``."""
        from conj_harness.lmeval import backend_checks, outputs

        start = time.monotonic()
        reply: dict[str, Any] = {"role": role, "task": task, **where(), "started": time.time()}
        if self.error is not None:
            return {**reply, "ok": False, "error": self.error, "seconds": 0.0, "log": self._log_since()}
        try:
            if self.job.get("adapter_mode") and role != self.role:
                self.session.use_role(role)  # attach or detach the adapter once per role, as the local worker does
                self.role = role
            out = self.session.run_task(role, task)
            read = outputs.read_unit(out, task)
            shutil.rmtree(out, ignore_errors=True)
            if isinstance(read, str):
                reply.update(ok=False, error=read)
            else:
                reply.update(ok=True, results=read[0], samples=read[1])
        except (Exception, SystemExit) as e:  # noqa: BLE001 - one task's failure must not stop the others
            traceback.print_exc()
            reply.update(ok=False, error=backend_checks.explain_failure(self.session.model_args, e))
        reply.update(seconds=round(time.monotonic() - start, 1), finished=time.time(), log=self._log_since())
        return reply

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _one_line(e: BaseException) -> str:
    """A ConjError is already one line for the user; anything else: its type and first line."""
    from conj_harness.errors import ConjError

    if isinstance(e, ConjError):
        return str(e)
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:500]
