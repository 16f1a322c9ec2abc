"""`conj-harness add-language` end to end: the real googletrans client against the fake endpoint, then a real
`conj-eval` run of the new tasks with the endpoint gone (translations come from the written files and cache)."""

from __future__ import annotations

import pytest
import yaml

from tests.support.cli import read_results, read_samples, run
from tests.support.fake_google import FakeGoogle, fake_translate

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def test_add_language_then_evaluate_offline(tmp_path, tiny_llama, data_dir):
    user_tasks, cache = tmp_path / "user_tasks", tmp_path / "cache.sqlite"
    env = {"CONJ_USER_TASKS": str(user_tasks), "CONJ_TRANSLATION_CACHE": str(cache)}
    with FakeGoogle() as google:
        env["SSL_CERT_FILE"] = google.cert_file
        proc = run(["conj-harness", "add-language", "sw", "--families", "icl", "--backend", "google",
                    "--service-url", google.host], env=env)
        sent = google.requests
        del env["SSL_CERT_FILE"]  # the certificate goes with the server
        # the unique sentences (the paper's 500 repeat some) + 7 strings, then each translation back to English for
        # the round-trip chrF
        assert sent == 2 * (371 + 7)
    yaml_path = user_tasks / "sw" / "conj_icl_sw.yaml"
    assert str(yaml_path) in proc.stdout
    config = yaml.safe_load(yaml_path.read_text().replace("!function", ""))
    strings = config["dataset_kwargs"]["strings"]
    assert strings["repeat_instruction"] == fake_translate("Repeat the input.", "sw")
    assert "{n1}" in strings["math_question"] and "{n2}" in strings["math_question"]
    meta = config["metadata"]["translation"]
    assert meta["backend"] == "google" and meta["checked"] == 378
    assert meta["pass_rate"] == pytest.approx(1 - meta["check_failed"] / meta["checked"])
    # the fake reverses word order: "a b c" -> "[sw] c b a" -> "[en] a b c [sw]", close to the source but not it
    assert 50 < meta["roundtrip_chrf"] < 100
    assert 0 <= meta["roundtrip_below_50"] < meta["checked"] / 2  # a mean well above 50 leaves few below it
    sentences = (user_tasks / "sw" / "icl_sentences.txt").read_text().split("\n")
    english = (data_dir / "icl_sentences" / "en.txt").read_text().split("\n")
    assert len(sentences) == 500 and sentences[7] == fake_translate(english[7], "sw")

    # the endpoint is gone: evaluation needs no translator, and re-running add-language is served by the cache
    out = tmp_path / "out"
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_icl_sw",
         "--limit", "3", "--output_path", str(out), "--log_samples"], env=env)
    assert list(read_results(out)["results"]) == ["conj_icl_sw"]
    doc = read_samples(out, "conj_icl_sw")[0]["doc"]
    assert doc["prompt"].startswith(strings["capslock_instruction"] + "\n\n" + strings["input_prefix"])
    dead = FakeGoogle.dead()
    again = run(["conj-harness", "add-language", "sw", "--families", "icl", "--backend", "google",
                 "--service-url", dead], env=env)
    assert "0 translated in 0 calls" in again.stderr  # every string came from the cache
    assert (user_tasks / "sw" / "conj_icl_sw.yaml").is_file()


def test_add_language_rejects_bad_codes_and_families(tmp_path):
    env = {"CONJ_USER_TASKS": str(tmp_path / "t")}
    proc = run(["conj-harness", "add-language", "../etc", "--backend", "cipher"], env=env, check=False)
    assert proc.returncode == 2 and "unknown language code '../etc'" in proc.stderr
    assert not (tmp_path / "t").exists()
    proc = run(["conj-harness", "add-language", "sw", "--families", "icl,poetry"], env=env, check=False)
    assert proc.returncode == 2 and "unknown family for add-language 'poetry'" in proc.stderr and "xnli" in proc.stderr
    proc = run(["conj-harness", "add-language", "fr", "--families", "xnli"], env=env, check=False)
    assert proc.returncode == 2 and "ships with conj-harness" in proc.stderr


def test_translate_cli_through_google_is_cached(tmp_path):
    env = {"CONJ_TRANSLATION_CACHE": str(tmp_path / "c.sqlite")}
    with FakeGoogle() as google:
        env["SSL_CERT_FILE"] = google.cert_file
        args = ["conj-harness", "translate", "--to", "ja", "--backend", "google", "--service-url", google.host]
        proc = run(args, env=env, stdin="Hello big world.\nSecond line here.\n")
        assert proc.stdout.splitlines() == [fake_translate("Hello big world.", "ja"),
                                            fake_translate("Second line here.", "ja")]
        first = google.requests
        run(args, env=env, stdin="Hello big world.\nSecond line here.\n")
        assert google.requests == first  # all from the cache
    del env["SSL_CERT_FILE"]
    proc = run(["conj-harness", "translate", "--to", "ja", "--backend", "google", "--retries", "1", "--service-url",
                FakeGoogle.dead()], env=env, stdin="A brand new sentence.\n", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert "connection" in proc.stderr and "after 2 attempts" in proc.stderr


def test_add_language_advbench_and_xnli_with_a_cipher_free_backend(tmp_path, tiny_llama):
    """The other families: translated through the google client (fake endpoint), then run by conj-eval."""
    env = {"CONJ_USER_TASKS": str(tmp_path / "ut"), "CONJ_TRANSLATION_CACHE": str(tmp_path / "c.sqlite")}
    with FakeGoogle() as google:
        env["SSL_CERT_FILE"] = google.cert_file
        run(["conj-harness", "add-language", "ko", "--families", "advbench,xnli", "--backend", "google",
             "--service-url", google.host], env=env)
    del env["SSL_CERT_FILE"]
    lines = (tmp_path / "ut" / "ko" / "advbench_instructions.txt").read_text().split("\n")
    assert len(lines) == 520 and lines[0].startswith("[ko] ")
    out = tmp_path / "out"
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_advbench_ko",
         "conj_xnli_ko", "--limit", "2", "--gen_kwargs", "max_gen_toks=4", "--output_path", str(out),
         "--log_samples"], env=env)
    assert sorted(read_results(out)["results"]) == ["conj_advbench_ko", "conj_xnli_ko"]
    doc = read_samples(out, "conj_xnli_ko")[0]["doc"]
    assert doc["prompt"].startswith("[ko] ") and doc["label_word"].startswith("[ko]")
