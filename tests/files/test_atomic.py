"""Atomic writes: whole files or none, the permissions a plain open() gives, one-line errors."""

from __future__ import annotations

import os
import stat

import pytest

from conj_harness.errors import ConjError
from conj_harness.files import atomic
from tests.support.cli import read_only


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_what_open_would_give_them(tmp_path, umask):
    old = os.umask(umask)
    try:
        written = atomic.write_text(tmp_path / "new.json", "{}")
        with open(tmp_path / "plain.json", "w") as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert _mode(written) == 0o666 & ~umask == _mode(tmp_path / "plain.json")


def test_an_existing_file_keeps_its_mode_and_nothing_is_left_behind(tmp_path):
    path = tmp_path / "kept.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic.write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]  # no temporary file


def test_an_unwritable_folder_is_one_error_and_the_old_file_stays(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("old")
    code = ("import sys\nfrom conj_harness.files import atomic\ntry:\n    atomic.write_text(sys.argv[1], 'new')\n"
            "except atomic.FileWriteError as e:\n    print(e)\n")
    proc = read_only(tmp_path / "a", ["python", "-c", code, str(tmp_path / "a" / "f.txt")])
    assert proc.stdout.startswith(f"cannot write {tmp_path / 'a' / 'f.txt'}: ")
    assert "Read-only file system" in proc.stdout or "Permission denied" in proc.stdout
    assert (tmp_path / "a" / "f.txt").read_text() == "old"
    under_a_file = tmp_path / "a" / "f.txt" / "x.json"
    with pytest.raises(ConjError, match="cannot write"):
        atomic.write_json(under_a_file, {})
