"""The compare folder's locks and claims (pairs.store): a second writer is refused with one line naming the holder,
compares share a folder, each unit is run by one process at a time, and a killed holder's claim frees itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conj_harness.errors import ConjError
from conj_harness.files import locks
from conj_harness.pairs.store import FolderLock, PairStore, process_tag

pytestmark = pytest.mark.skipif(not locks.AVAILABLE, reason="flock needs POSIX")

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from conj_harness.pairs.store import FolderLock, PairStore
    what, folder = sys.argv[1], Path(sys.argv[2])
    if what == "claim":
        claim = PairStore(folder).claim("base", "conj_icl_en")
        assert not isinstance(claim, str)
    else:
        lock = FolderLock(folder)
        lock.acquire(shared=what == "shared")
        if what == "shared":
            lock.share()
    print("held", flush=True)
    time.sleep(60)
""")


def _other_process(what: str, folder) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, what, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_folder_held_alone_refuses_another_writer_naming_it(tmp_path):
    proc = _other_process("alone", tmp_path)
    try:
        lock = FolderLock(tmp_path)
        with pytest.raises(ConjError, match=r"another `conj-harness compare` \(.+-\d+\) is writing to .*another "
                                            r"--output"):
            lock.acquire(shared=True)
        assert lock.file is None  # nothing left open
    finally:
        proc.kill()
        proc.wait()
    lock.acquire(shared=False)  # the killed holder's lock is gone
    assert lock.alone
    lock.release()


def test_compares_share_a_folder_but_the_first_is_alone(tmp_path):
    first = FolderLock(tmp_path)
    first.acquire(shared=True)
    assert first.alone  # no one else: it may prepare the folder alone
    first.share()
    proc = _other_process("shared", tmp_path)  # a second compare joins
    try:
        late = FolderLock(tmp_path)
        with pytest.raises(ConjError):
            late.acquire(shared=False)  # one that must be alone cannot start now
        late.acquire(shared=True)
        assert not late.alone
        late.release()
    finally:
        proc.kill()
        proc.wait()
        first.release()


def test_a_unit_is_claimed_by_one_process_and_freed_when_it_dies(tmp_path):
    proc = _other_process("claim", tmp_path)
    store = PairStore(tmp_path)
    try:
        holder = store.claim("base", "conj_icl_en")
        assert isinstance(holder, str) and holder != process_tag() and holder.rsplit("-", 1)[1] == str(proc.pid)
        assert not isinstance(store.claim("base", "conj_icl_leet"), str)  # other units are free
    finally:
        proc.kill()
        proc.wait()
    claim = store.claim("base", "conj_icl_en")
    assert not isinstance(claim, str)
    assert (tmp_path / "base" / "conj_icl_en" / ".claim").read_text() == process_tag()
    claim.release()
    claim.release()  # twice is harmless
