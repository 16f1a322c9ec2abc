"""Every file format the store and ``conjugate`` write reads back identically, for any text (issue 25, item 10).

GSM8K's train split holds one U+2028: written raw and read with ``str.splitlines()``, it cut a question in two and
every conjugated gsm8k task ended in ``JSONDecodeError``. Hypothesis draws arbitrary Unicode (line and paragraph
separators, NEL, NUL, right-to-left marks, byte-order marks, every plane) for each format; lone surrogates, which
no UTF-8 file can hold, are refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conj_harness.errors import ConjError
from conj_harness.files import atomic, jsonl

HARD = ["\u2028", "\u2029", "\x85", "\x00", "\u200f", "\u202e", "\ufeff", "\r", "\n", "\r\n", "\t", "\x0b", "\x0c",
        "\x1c", "\x1d", "\x1e", "\U0001f600", "é", "中"]
#: Arbitrary text with the characters that broke readers mixed in (no lone surrogates: see the refusal test).
TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20), st.sampled_from(HARD)),
                max_size=6).map("".join)
ROW = st.dictionaries(st.sampled_from(["question", "answer", "q", "_conj_text", "x"]), TEXT, min_size=1)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(rows=st.lists(ROW, max_size=5))
def test_jsonl_reads_back_what_was_written(tmp_path, rows):
    path = tmp_path / "rows.jsonl"
    jsonl.write(path, rows)
    assert jsonl.read_rows(path) == rows
    data = path.read_bytes()
    assert data.count(b"\n") == len(rows)  # one line per record, whatever the text
    assert all(sep not in data.decode("utf-8") for sep in ("\u2028", "\u2029", "\x85"))
    assert len(data.decode("utf-8").splitlines()) == len(rows)  # even a reader that splits on them sees each once


@SETTINGS
@given(value=st.dictionaries(st.text(max_size=5), TEXT, max_size=4))
def test_json_files_read_back(tmp_path, value):
    atomic.write_json(tmp_path / "record.json", value)
    assert jsonl.read_json_or_none(tmp_path / "record.json") == value


@SETTINGS
@given(rows=st.lists(ROW, min_size=1, max_size=4))
def test_a_conjugated_tasks_split_file_reads_back_as_the_task_reads_it(tmp_path, rows):
    from conj_harness.lmeval import conjugated_data

    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    conjugated_data.split_file(folder, "test").write_bytes(conjugated_data.encode_rows(rows))
    assert conjugated_data.read_split(folder, "test") == rows


@SETTINGS
@given(until=st.lists(TEXT, max_size=3), samples=st.lists(ROW, max_size=2), alias=TEXT)
def test_a_conjugated_tasks_yaml_reads_back_as_written(until, samples, alias):
    from conj_harness.lmeval.conjugated import FunctionRef, _Loader, dump_yaml

    config = {"task": "conj_x_leet", "custom_dataset": FunctionRef("m.load"), "task_alias": alias,
              "generation_kwargs": {"until": until}, "fewshot_config": {"samples": samples}}
    import yaml

    assert yaml.load(dump_yaml(config, "conj_x_leet"), Loader=_Loader) == config


@SETTINGS
@given(pairs=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=5, unique_by=lambda p: p[0]))
def test_the_translation_cache_and_its_export_read_back(tmp_path, pairs):
    from conj_harness.translation.cache import Entry, TranslationCache

    with TranslationCache(tmp_path / f"c{abs(hash(tuple(pairs)))}.sqlite") as cache:
        cache.put_many("table", "m", "en", "fr", [(t, Entry(tr, True, "")) for t, tr in pairs])
        got = cache.get_many("table", "m", "en", "fr", [t for t, _ in pairs])
        assert {t: e.translation for t, e in got.items()} == dict(pairs)
        export = tmp_path / "export.jsonl"
        cache.export_jsonl(export)
    with TranslationCache(tmp_path / f"d{abs(hash(tuple(pairs)))}.sqlite") as other:
        other.import_jsonl(export)
        got = other.get_many("table", "m", "en", "fr", [t for t, _ in pairs])
        assert {t: e.translation for t, e in got.items()} == dict(pairs)


@SETTINGS
@given(responses=st.lists(TEXT, min_size=1, max_size=4))
def test_a_committed_unit_reads_back_and_verifies(tmp_path, responses):
    """Samples as lm-eval writes them (``ensure_ascii=False``: U+2028 raw), committed, verified, read back."""
    from conj_harness.lmeval import outputs
    from conj_harness.pairs.store import PairStore

    rows = [{"doc_id": i, "doc": {"q": r}, "resps": [[r]], "filtered_resps": [r]} for i, r in enumerate(responses)]
    lm_eval_bytes = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    store = PairStore(tmp_path / f"pair{abs(hash(tuple(responses)))}")
    store.commit("base", "t", {"results": {"t": {}}}, lm_eval_bytes, {"identity": None})
    assert store.status("base", "t").state == "done"
    assert outputs.read_samples(store.samples_path("base", "t")) == rows
    store.log_load(["base"], 1.0, "p")
    assert store.loads()[0]["roles"] == ["base"]


def test_a_lone_surrogate_is_refused_in_one_line_naming_the_file(tmp_path):
    path = tmp_path / "rows.jsonl"
    with pytest.raises(ConjError, match=r"rows\.jsonl record 2: a record holds a lone surrogate \(U\+D800\)"):
        jsonl.write(path, [{"a": "fine"}, {"a": "bad \ud800"}])
    assert not path.exists()
    with pytest.raises(ConjError, match=r"cannot write .*record\.json: its text holds a lone surrogate"):
        atomic.write_json(tmp_path / "record.json", {"a": "\udfff"})
    path.write_text('{"a": "\\ud800"}\n', encoding="utf-8")  # escaped in JSON: refused when read
    with pytest.raises(ConjError, match="line 1 holds a lone surrogate escape"):
        jsonl.read_rows(path)


@pytest.mark.mirror
def test_gsm8ks_line_separator_survives_a_conjugation(tmp_path, data_dir):
    """The README's offline example: gsm8k's train split has a U+2028 in it; the conjugated task's data reads back
    through the task's own reader, and no other line splitting is left in the project."""
    from conj_harness.lmeval import conjugated_data

    rows = jsonl.read_rows(data_dir / "gsm8k" / "train.jsonl")
    assert any("\u2028" in row["question"] + row["answer"] for row in rows)
    folder = tmp_path / "data"
    folder.mkdir()
    conjugated_data.split_file(folder, "train").write_bytes(conjugated_data.encode_rows(rows))
    assert conjugated_data.read_split(folder, "train") == rows


def test_no_jsonl_is_split_with_splitlines_in_the_package():
    package = Path(__file__).resolve().parents[2] / "conj_harness"
    offenders = [f"{p}:{n}" for p in package.rglob("*.py") for n, line in
                 enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if ".splitlines()" in line and ("jsonl" in line.lower() or "json.loads" in line)]
    assert offenders == []
