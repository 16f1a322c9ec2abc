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


# --- by structure (issue 25, item 3) ------------------------------------------------------------------------------


def test_an_authorization_value_is_masked_whole_not_just_its_scheme_word():
    for line, kept in (("{'Authorization': 'Bearer sk-1'}", "{'Authorization': '***'}"),
                       ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "***"}'),
                       ("Authorization: Bearer abc.def-123", "Authorization: ***"),
                       ("proxy-authorization: Digest qwerty", "proxy-authorization: ***"),
                       ("request headers {'X-Api-Key': 'k-777', 'Host': 'h'}", "request headers {'X-Api-Key': '***', "
                                                                                "'Host': 'h'}"),
                       ("sent Bearer eyJhbGciOi.x.y to the server", "sent Bearer *** to the server")):
        assert redact.redact_text(line) == kept, line


def test_credentials_in_urls_are_removed_and_the_rest_kept():
    cases = {"http://h:8000/v1/completions?key=QUERYKEY321": "http://h:8000/v1/completions?key=***",
             "https://u:PASS@host/v1/completions": "https://***@host/v1/completions",
             "https://s.blob/x?sv=2020&sig=abcDEF%2Bg&se=1": "https://s.blob/x?sv=2020&sig=***&se=1",
             "http://h/v1?api_key=a1&model=m&access_token=t1": "http://h/v1?api_key=***&model=m&access_token=***",
             "http://h:8000/v1/completions": "http://h:8000/v1/completions"}
    for url, clean in cases.items():
        assert redact.redact_url(url) == clean
        assert redact.redact_text(f"GET {url} failed") == f"GET {clean} failed"
    args = "model=m,base_url=http://u:PW123456@h/v1?key=QUERYKEY321,timeout=60"
    assert redact.redact_args(args) == "model=m,base_url=http://***@h/v1?key=***,timeout=60"
    assert redact.secret_values([args]) == {"PW123456", "QUERYKEY321"}


def test_ordinary_words_in_error_text_stay_readable():
    for text in ("header: invalid header length", "token: <unk>", "the api key field is empty",
                 "KeyError: 'token'", "tokenizer: token ids 5, 6"):
        assert redact.redact_text(text) == text


def test_a_models_text_in_samples_is_never_rewritten_by_a_pattern():
    generated = b'{"resps": [["see http://admin:hunter2@intranet/ and Authorization: Bearer abc"]]}\n'
    assert redact.redact_bytes(generated, set(), keys=False) == generated


def test_every_line_written_to_a_redacting_stream_is_masked():
    import io

    sink = io.StringIO()
    stream = redact.RedactingStream(sink, {"ENVKEY-123456"})
    stream.write("using ENVKEY-123456 at http://u:PASSWORD9@h/\n")
    redact.remember(["LEARNED-98765"])
    stream.write("then LEARNED-98765\n")
    assert sink.getvalue() == "using *** at http://***@h/\nthen ***\n"
    assert redact.secrets_in_env({"OPENAI_API_KEY": "sk-env-123456", "HOME": "/root"}) == {"sk-env-123456"}
    assert redact.secrets_in_argv(["--tuned-url", "http://h/v1?key=QUERYKEY321", "--model-args",
                                   "auth_token=TOKEN-4242"]) == {"QUERYKEY321", "TOKEN-4242"}


def test_data_a_command_emits_bypasses_the_terminals_redaction(monkeypatch):
    import io
    import sys

    raw = io.StringIO()
    monkeypatch.setattr(sys, "stdout", redact.RedactingStream(raw, set()))
    redact.data_stdout().write('{"response": "curl -H \\"Authorization: Bearer abcdef123\\""}\n')
    assert raw.getvalue() == '{"response": "curl -H \\"Authorization: Bearer abcdef123\\""}\n'
    sys.stdout.write("a message: Authorization: Bearer abcdef123\n")
    assert raw.getvalue().endswith("a message: Authorization: ***\n")
