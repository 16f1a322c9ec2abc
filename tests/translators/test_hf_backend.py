"""The ``hf`` translator (MarianMT / M2M100 / NLLB through transformers) on tiny random models built offline.

The models translate into garbage, deterministically; what is checked is the plumbing: one string per input in
input order, batching that does not change results, the forced target-language token, the source-language prefix,
code validation, offline loading errors and the cache key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conj_harness.errors import UnknownNameError
from conj_harness.translators.base import TranslationError
from conj_harness.translators.hf import NLLB_CODES, HFTranslator, detect_family

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

M2M_LANGS = ("en", "fr", "de", "es", "hu")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models run ~100x faster on one intra-op thread than on several busy cores (thread sync dominates)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    from tests.support.tiny_seq2seq import build_m2m100, build_marian, build_nllb

    root = tmp_path_factory.mktemp("seq2seq")
    return {
        "marian": build_marian(root / "tiny-marian"),
        "m2m100": build_m2m100(root / "tiny-m2m100", languages=M2M_LANGS),
        "nllb": build_nllb(root / "tiny-nllb"),
    }


@pytest.fixture(scope="module")
def sentences(data_dir) -> list[str]:
    lines = (data_dir / "icl_sentences" / "en.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()][:24]


def _translator(path: Path, **kw) -> HFTranslator:
    return HFTranslator(str(path), device="cpu", max_new_tokens=kw.pop("max_new_tokens", 16), **kw)


@pytest.mark.parametrize("family", ["marian", "m2m100", "nllb"])
def test_batch_is_one_string_per_input_in_order_and_equals_one_at_a_time(models, sentences, family):
    tr = _translator(models[family], batch_size=5)  # 24 inputs: batches of 5 with a remainder
    assert tr.family == family
    out = tr.translate(sentences, "en", "fr")
    assert len(out) == len(sentences) and all(isinstance(s, str) for s in out)
    # Inputs are right-padded with an attention mask, so a sentence's result does not depend on its batch.
    # (Left padding would shift Marian/M2M100's sinusoidal positions and change the output of a random model.)
    single = [tr.translate([s], "en", "fr")[0] for s in sentences]
    assert out == single
    assert len(set(out)) >= 4, "the tiny model should give different inputs different outputs"
    # Batches are formed by length; results come back in input order whatever the order of the inputs.
    assert tr.translate(sentences[::-1], "en", "fr") == out[::-1]


def test_deterministic_across_instances_and_batch_sizes(models, sentences):
    a = _translator(models["marian"], batch_size=32).translate(sentences, "en", "de")
    b = _translator(models["marian"], batch_size=3).translate(sentences, "en", "de")
    assert a == b


@pytest.mark.parametrize("family,token", [("m2m100", "__{}__"), ("nllb", None)])
def test_forced_target_language_token_and_source_prefix(models, sentences, family, token):
    tr = _translator(models[family], batch_size=4)
    tokenizer, model = tr.load("en", "fr")
    lang = (token.format) if token else NLLB_CODES.__getitem__
    ids = {c: tokenizer.convert_tokens_to_ids(lang(c)) for c in ("en", "fr", "de")}
    assert len(set(ids.values())) == 3 and tokenizer.unk_token_id not in ids.values()
    for target in ("fr", "de"):
        generated = tr.generate_ids(sentences[:6], "en", target)
        assert len(generated) == 6
        # decoder start (</s>), then the forced target-language token
        assert {tuple(g[:2]) for g in generated} == {(model.config.decoder_start_token_id, ids[target])}
    # source side: "<src lang> text </s>" (NllbTokenizer via src_lang; the plain tiny M2M100 tokenizer by hand)
    rows = tr._encode(tokenizer, model, sentences[:3], "de", "fr")
    assert all(r[0] == ids["de"] and r[-1] == tokenizer.eos_token_id for r in rows)
    # the language token is special: it is not in the decoded text
    text = tr.translate(["hello"], "en", "fr")[0]
    assert lang("fr") not in text


def test_m2m100_language_missing_from_tokenizer(models):
    tr = _translator(models["m2m100"])
    assert "it" in tr.supported_languages()  # M2M100 has Italian, but this tiny tokenizer was built without it
    with pytest.raises(TranslationError, match="__it__"):
        tr.translate(["hello"], "en", "it")


def test_marian_local_path_and_per_pair_template(models, tmp_path):
    from tests.support.tiny_seq2seq import build_marian

    tr = _translator(models["marian"])
    assert tr.family == "marian" and tr.supported_languages() is None
    assert tr.model_id_for("en", "fr") == tr.model_id_for("de", "es") == str(models["marian"].resolve())
    assert tr.model == tr.model_for("en", "fr") == f"{models['marian'].resolve()} [max_new_tokens=16]"

    build_marian(tmp_path / "opus-mt-en-fr", seed=1)
    per_pair = HFTranslator(str(tmp_path / "opus-mt-{src}-{tgt}"), device="cpu", max_new_tokens=8)
    assert per_pair.model_id_for("en", "fr") == str(tmp_path / "opus-mt-en-fr")
    assert per_pair.model_for("en", "de") == str(tmp_path / "opus-mt-en-de") + " [max_new_tokens=8]"
    out = per_pair.translate(["Trash covered the landscape.", "Hi"], "en", "fr")
    assert len(out) == 2
    first = per_pair.load("en", "fr")
    per_pair.translate(["again"], "en", "fr")
    assert per_pair.load("en", "fr") is first  # loaded once per model id
    with pytest.raises(TranslationError) as err:
        per_pair.translate(["hello"], "en", "de")
    assert "opus-mt-en-de" in str(err.value) and "facebook/nllb-200-distilled-600M" in str(err.value)


def test_unsupported_code_lists_codes(models):
    m2m = _translator(models["m2m100"])
    with pytest.raises(UnknownNameError) as err:
        m2m.translate(["hello"], "en", "kl")  # Kalaallisut: ISO 639-1, not an M2M100 language
    assert "Available:" in str(err.value) and "fr" in err.value.valid and "kl" not in err.value.valid
    assert "ast" not in err.value.valid  # M2M100's non-ISO codes are not offered

    nllb = _translator(models["nllb"])
    with pytest.raises(UnknownNameError) as err:
        nllb.translate(["hello"], "fra_Latn", "en")  # NLLB codes are internal: ask with ISO 639-1
    assert set(err.value.valid) == set(NLLB_CODES)

    with pytest.raises(UnknownNameError, match="Available: aa, ab"):
        _translator(models["marian"]).translate(["hello"], "en", "../etc")


def test_nllb_table_covers_common_languages():
    required = [
        "ar", "bg", "bn", "de", "el", "en", "es", "fr", "hi", "hu", "it", "ja", "jv", "ko", "ml", "nl", "pl", "pt",
        "ru", "sw", "th", "tr", "ur", "vi", "zh",
    ]
    assert set(required) <= set(NLLB_CODES) and len(NLLB_CODES) >= 60
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    assert set(NLLB_CODES.values()) <= set(FAIRSEQ_LANGUAGE_CODES)


def test_missing_model_offline_names_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    default = HFTranslator(device="cpu")
    assert default.model == "Helsinki-NLP/opus-mt-{src}-{tgt}"
    with pytest.raises(TranslationError) as err:
        default.translate(["hello"], "en", "sw")
    message = str(err.value)
    assert "Helsinki-NLP/opus-mt-en-sw" in message and "--model facebook/nllb-200-distilled-600M" in message
    assert "\n" not in message

    with pytest.raises(TranslationError, match="facebook/nllb-200-distilled-600M"):
        HFTranslator("facebook/nllb-200-distilled-600M", device="cpu").translate(["hello"], "en", "fr")
    with pytest.raises(TranslationError, match="no-such-model"):  # no family to be told from name or files
        HFTranslator(str(tmp_path / "no-such-model"), device="cpu").translate(["hello"], "en", "fr")


def test_empty_strings_skip_the_model(models):
    never_loaded = HFTranslator("/nonexistent/nllb-200-distilled-600M", device="cpu")
    assert never_loaded.translate(["", "   ", "\n"], "en", "fr") == ["", "   ", "\n"]
    assert not never_loaded._loaded
    assert HFTranslator(device="cpu").translate([""], "en", "fr") == [""]

    tr = _translator(models["m2m100"])
    out = tr.translate(["", "Hello there.", "  "], "en", "de")
    assert out[0] == "" and out[2] == "  " and isinstance(out[1], str)


def test_family_from_config_not_name(models, tmp_path):
    import shutil

    for family, src in models.items():
        plain = tmp_path / f"model-{len(family)}-{family[::-1]}"  # a name that says nothing
        shutil.copytree(src, plain)
        assert detect_family(str(plain)) == family
    assert detect_family("facebook/nllb-200-distilled-600M") == "nllb"
    assert detect_family("facebook/m2m100_418M") == "m2m100"
    assert detect_family("Helsinki-NLP/opus-mt-en-fr") == "marian"


def test_cache_key_includes_non_default_decoding():
    assert HFTranslator().model_for("en", "fr") == "Helsinki-NLP/opus-mt-en-fr"
    beam = HFTranslator("facebook/nllb-200-distilled-600M", num_beams=4, dtype="float16")
    assert beam.model_for("en", "fr") == beam.model_for("de", "ja") == beam.model
    assert beam.model == "facebook/nllb-200-distilled-600M [num_beams=4, dtype=float16]"


def test_beam_search_and_long_input(models):
    tr = _translator(models["marian"], num_beams=2, batch_size=2)
    long_text = " ".join(["ไม่ใช่ทั้งสองอย่าง แมวนอนอยู่บนเสื่อ."] * 120)  # split at sentence ends, tokens capped
    out = tr.translate(["short", long_text, "another one"], "en", "th")
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
