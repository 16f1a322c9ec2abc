"""A cipher conjugate leaves URLs and code as written, both ways (the policy: issue 20, item 12)."""

from __future__ import annotations

import pytest

from conj_harness.translation.transform import ConjugateTransform

TEXT = ("Read https://example.com/a?b=1 and call `parse_file(path)`, then:\n```python\ndef f(x):\n    raise "
        "ValueError(x)\n```\nExplain the result in two sentences.")


@pytest.mark.parametrize("name", ["leet", "piglatin"])
def test_urls_and_code_pass_through_a_cipher_untouched(name):
    transform = ConjugateTransform(name)
    out = transform.forward([TEXT])[0]
    code = "```python\ndef f(x):\n    raise ValueError(x)\n```"
    for kept in ("https://example.com/a?b=1", "`parse_file(path)`", code):
        assert kept in out and kept in transform.inverse([out])[0], (name, kept)
    assert "Explain the result" not in out  # the prose is conjugated


def test_prose_without_urls_or_code_is_conjugated_as_before():
    transform = ConjugateTransform("leet")
    from conj_harness import conjugates

    assert transform.forward(["The answer is here."]) == [conjugates.get("leet").transform("The answer is here.")]
