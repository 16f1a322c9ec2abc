"""Strict text reading: UTF-8 line by line, the bad line named; JSON Lines that UTF-8 output can hold."""

from __future__ import annotations

import pytest

from conj_harness.errors import ConjError
from conj_harness.files import jsonl, text


def test_lines_split_at_newlines_only_and_a_bad_line_is_named():
    assert text.utf8_lines(b"a\r\nb\n\nc\n", "f") == ["a\r", "b", "", "c"]  # nothing but the newline is stripped
    assert text.utf8_lines(b"", "f") == []
    with pytest.raises(ConjError, match=r"^f line 3 is not UTF-8 text \(byte 2 of the line\)"):
        text.utf8_lines("ok\nok\nx\xff".encode("latin-1"), "f")


def test_missing_file_is_one_error(tmp_path):
    with pytest.raises(ConjError, match=r"cannot read .*missing\.jsonl: No such file"):
        text.read_utf8_lines(tmp_path / "missing.jsonl")


def test_jsonl_rejects_a_lone_surrogate_escape_naming_the_line():
    lines = ['{"response": "fine"}', '', '{"response": "\\ud800"}']
    with pytest.raises(ConjError, match="stdin line 3 holds a lone surrogate"):
        list(jsonl.objects(lines, "stdin"))
    assert [n for n, _ in jsonl.objects(lines[:2], "stdin")] == [1]  # blank lines are skipped, numbers kept
