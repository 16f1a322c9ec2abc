"""Data loading: the CONJ_DATA_DIR mirror, its validation, the offline error, and download-data."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest

from conj_harness.data import sources
from conj_harness.errors import DataError
from tests.support.cli import run


@pytest.fixture
def mirror(tmp_path, data_dir, monkeypatch) -> Path:
    """A private copy of the parts of the mirror the ICL/XNLI tasks read, safe to damage."""
    root = tmp_path / "mirror"
    shutil.copytree(data_dir / "icl_sentences", root / "icl_sentences")
    (root / "xnli" / "validation").mkdir(parents=True)
    shutil.copy(data_dir / "xnli" / "validation" / "fr.jsonl", root / "xnli" / "validation" / "fr.jsonl")
    monkeypatch.setenv("CONJ_DATA_DIR", str(root))
    return root


def test_mirror_reads(mirror):
    assert len(sources.icl_sentences("en")) == 500
    rows = sources.xnli_rows("fr")
    assert len(rows) == 2490 and {r["label"] for r in rows} == {0, 1, 2}


def test_missing_file_is_named(mirror):
    (mirror / "icl_sentences" / "hu.txt").unlink()
    with pytest.raises(DataError, match=r"icl_sentences/hu\.txt.*expected 500 sentences"):
        sources.icl_sentences("hu")
    with pytest.raises(DataError, match=r"xnli/validation/de\.jsonl.*expected 2490 JSON lines"):
        sources.xnli_rows("de")


def test_malformed_files_are_named(mirror):
    path = mirror / "icl_sentences" / "nl.txt"
    path.write_text("\n".join(path.read_text().split("\n")[:499]))
    with pytest.raises(DataError, match=r"nl\.txt has 499 lines: expected 500"):
        sources.icl_sentences("nl")
    x = mirror / "xnli" / "validation" / "fr.jsonl"
    lines = x.read_text().splitlines()
    x.write_text("\n".join([*lines[:10], "{not json", *lines[11:]]) + "\n")
    with pytest.raises(DataError, match=r"fr\.jsonl line 11 is not valid JSON"):
        sources.xnli_rows("fr")
    x.write_text("\n".join([*lines[:5], '{"premise": "a", "hypothesis": "b", "label": 7}', *lines[6:]]) + "\n")
    with pytest.raises(DataError, match=r"row 6: label 7, expected 0, 1 or 2"):
        sources.xnli_rows("fr")
    x.write_text("\n".join([*lines[:5], '{"premise": "a", "label": 1}', *lines[6:]]) + "\n")
    with pytest.raises(DataError, match=r"line 6: field 'hypothesis' missing"):
        sources.xnli_rows("fr")


def test_bad_mirror_stops_the_cli_without_a_result(mirror, tiny_llama, tmp_path):
    (mirror / "icl_sentences" / "es.txt").write_text("only one line\n")
    out = tmp_path / "out"
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_icl_es",
                "--limit", "1", "--output_path", str(out)], check=False, env={"CONJ_DATA_DIR": str(mirror)})
    assert proc.returncode == 2
    assert "es.txt has 1 lines: expected 500 sentences" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() or not list(out.rglob("results_*.json"))


def test_offline_without_mirror_is_one_clear_error(tiny_llama, tmp_path):
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_xnli_fr",
                "--limit", "1"], check=False, env={"CONJ_DATA_DIR": "", "XDG_CACHE_HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "CONJ_DATA_DIR" in proc.stderr and "conj-harness download-data" in proc.stderr
    assert "Traceback" not in proc.stderr


class _Server:
    """A local stand-in for the authors' repository host (the only thing mocked: the internet)."""

    def __init__(self, root: Path):
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def fake_repo(tmp_path, data_dir):
    root = tmp_path / "repo"
    folder = root / "icl_vs_if" / "sentences"
    folder.mkdir(parents=True)
    for code in sources.ICL_CODES:
        shutil.copy(data_dir / "icl_sentences" / f"{code}.txt", folder / f"random_sentences_{code}.txt")
    server = _Server(root)
    yield folder, server.url
    server.close()


def test_download_data_writes_a_valid_mirror_and_resumes(fake_repo, tmp_path, data_dir):
    _folder, url = fake_repo
    dest = tmp_path / "dl"
    proc = run(["conj-harness", "download-data", str(dest), "--only", "icl"], env={"CONJ_PAPER_REPO_URL": url})
    assert "wrote 7 files" in proc.stdout
    for code in sources.ICL_CODES:
        name = f"icl_sentences/{code}.txt"
        assert (dest / name).read_bytes() == (data_dir / name).read_bytes()
    # a re-run after an interruption fetches only what is missing
    (dest / "icl_sentences" / "fr.txt").unlink()
    assert "wrote 1 files" in run(["conj-harness", "download-data", str(dest), "--only", "icl"],
                                  env={"CONJ_PAPER_REPO_URL": url}).stdout


def test_download_rejects_a_file_that_is_not_the_pinned_one(fake_repo, tmp_path):
    folder, url = fake_repo
    (folder / "random_sentences_hu.txt").write_text("tampered\n")
    dest = tmp_path / "dl"
    proc = run(["conj-harness", "download-data", str(dest), "--only", "icl"], env={"CONJ_PAPER_REPO_URL": url},
               check=False)
    assert proc.returncode == 2 and "sha256" in proc.stderr
    assert not (dest / "icl_sentences" / "hu.txt").exists()


def test_online_path_caches_sentences_checked_by_sha(fake_repo, monkeypatch, tmp_path):
    _folder, url = fake_repo
    monkeypatch.delenv("CONJ_DATA_DIR")
    monkeypatch.setenv("CONJ_PAPER_REPO_URL", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert sources.icl_sentences("pl")[0].startswith("Ashtray")
    assert (tmp_path / "cache" / "conj_harness" / "icl_sentences" / "pl.txt").is_file()


def test_download_unknown_part_lists_parts(tmp_path):
    proc = run(["conj-harness", "download-data", str(tmp_path), "--only", "icl,bogus"], check=False)
    assert proc.returncode == 2 and "unknown data part 'bogus'" in proc.stderr and "xnli" in proc.stderr


def test_download_paper_translations_of_advbench(tmp_path, data_dir, monkeypatch):
    """The sha-pinned AdvBench translations come from the authors' repository (a local stand-in here)."""
    from conj_harness.data import download

    root = tmp_path / "repo"
    folder = root / "harmful_generation" / "harmful_instructions"
    folder.mkdir(parents=True)
    for lang in ("ja", "hu", "sw", "ml"):
        shutil.copy(data_dir / "paper_reference" / f"harmful_instructions_{lang}.txt",
                    folder / f"harmful_instructions_{lang}.txt")
    server = _Server(root)
    try:
        monkeypatch.setenv("CONJ_PAPER_REPO_URL", server.url)
        dest = tmp_path / "dl"
        (dest / "advbench").mkdir(parents=True)
        shutil.copy(data_dir / "advbench" / "train.jsonl", dest / "advbench" / "train.jsonl")  # hub part present
        written = download.download(dest, ["advbench"])
        assert sorted(p.name for p in written) == [f"harmful_instructions_{x}.txt" for x in ("hu", "ja", "ml", "sw")]
        monkeypatch.setenv("CONJ_DATA_DIR", str(dest))
        mirrored = (data_dir / "paper_reference" / "harmful_instructions_ml.txt").read_text().split("\n")
        assert sources.harmful_instructions("ml")[63] == mirrored[63]
    finally:
        server.close()
