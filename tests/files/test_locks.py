"""files.locks: flock on lock files, held by real processes (a lock taken in another process, released when it
dies - also when it is killed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conj_harness.errors import ConjError
from conj_harness.files import locks

pytestmark = pytest.mark.skipif(not locks.AVAILABLE, reason="flock needs POSIX")

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from conj_harness.files import locks
    f = locks.open_lock_file(Path(sys.argv[1]))
    assert locks.try_lock(f, exclusive_lock=sys.argv[2] == "ex")
    locks.stamp(f, "holder-42")
    print("held", flush=True)
    time.sleep(60)
""")


def _holding(path: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_an_exclusive_lock_excludes_and_names_its_holder(tmp_path):
    path = tmp_path / "sub" / ".lock"
    proc = _holding(path, "ex")
    try:
        f = locks.open_lock_file(path)
        assert not locks.try_lock(f) and not locks.try_lock(f, exclusive_lock=False)
        start = time.monotonic()
        assert not locks.try_lock(f, wait=0.3)
        assert time.monotonic() - start >= 0.3
        assert locks.holder(f) == "holder-42"
    finally:
        proc.kill()
        proc.wait()
    assert locks.try_lock(f)  # the kernel released the killed holder's lock
    f.close()


def test_shared_locks_coexist_and_keep_an_exclusive_one_out(tmp_path):
    path = tmp_path / ".lock"
    proc = _holding(path, "sh")
    try:
        f = locks.open_lock_file(path)
        assert locks.try_lock(f, exclusive_lock=False)
        assert not locks.try_lock(locks.open_lock_file(path))  # another open file: an exclusive lock must wait
        locks.release(f)
    finally:
        proc.kill()
        proc.wait()


def test_exclusive_waits_for_the_holder(tmp_path):
    path = tmp_path / ".lock"
    proc = _holding(path, "ex")
    start = time.monotonic()
    subprocess.Popen([sys.executable, "-c", "import time, os, signal, sys; time.sleep(0.5); "
                      f"os.kill({proc.pid}, signal.SIGKILL)"])
    with locks.exclusive(path):
        waited = time.monotonic() - start
    proc.wait()
    assert waited >= 0.4


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConjError, match=f"cannot write {blocker / 'sub'}: {blocker} is a file, not a folder"):
        locks.open_lock_file(blocker / "sub" / ".lock")
    assert blocker.read_text() == "not a folder"
