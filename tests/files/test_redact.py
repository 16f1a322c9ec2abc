"""The one redaction every written file goes through: by key and by value, never altering a model's own text."""

from __future__ import annotations

from conj_harness.files import redact

SECRET = "sk-live-0123456789"


def test_model_args_keep_their_keys_and_lose_their_values():
    args = f"model=m,base_url=http://h,auth_token={SECRET},add_bos_token=True,api_key=abcdefgh"
    assert redact.redact_args(args) == "model=m,base_url=http://h,auth_token=***,add_bos_token=True,api_key=***"
    assert redact.secret_values([args, None, "header=short"]) == {SECRET, "abcdefgh"}  # "short": by key only


def test_lm_evals_results_shape_is_masked_by_key_and_by_value():
    results = {"config": {"model_args": f"model=m,auth_token={SECRET}"},
               "configs": {"t": {"metadata": {"auth_token": SECRET, "model": "m", "max_tokens": 32}}},
               "cmd": ["conj-eval", "--model_args", f"model=m,Authorization: Bearer-{SECRET}"],
               "note": f"sent with {SECRET} in a header"}
    clean = redact.redact(results, {SECRET})
    text = repr(clean)
    assert SECRET not in text
    assert clean["configs"]["t"]["metadata"] == {"auth_token": "***", "model": "m", "max_tokens": 32}
    assert clean["config"]["model_args"] == "model=m,auth_token=***"
    assert results["configs"]["t"]["metadata"]["auth_token"] == SECRET  # a copy: the caller's object is intact


def test_json_quoted_and_spaced_forms_are_caught_by_key():
    for line in ('{"api_key": "abc123xyz"}', "api_key = abc123xyz", "'token': 'abc123xyz'"):
        assert "abc123xyz" not in redact.redact_text(line), line


def test_keys_that_only_end_like_a_secret_are_not_masked():
    text = "add_bos_token=False, max_tokens: 32, tokens=5, num_token_ids=3"
    assert redact.redact_text(text) == text


def test_samples_are_masked_by_value_only():
    generated = b'{"resps": [["the password: hunter2 is weak"]]}\n'
    assert redact.redact_bytes(generated, set(), keys=False) == generated  # a model's text is data
    assert redact.redact_bytes(SECRET.encode() + b"\n", {SECRET}, keys=False) == b"***\n"
