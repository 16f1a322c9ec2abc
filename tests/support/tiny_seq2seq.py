"""Tiny random-init seq2seq translation models built offline, for tests and benchmarks of the ``hf`` translator.

Like :mod:`tests.support.tiny_models`, nothing is downloaded: a BPE tokenizer is trained locally (in well under a
second) on
the project's own prompt strings and saved next to a random-init model with ``save_pretrained``, so
``AutoTokenizer.from_pretrained(path)`` and ``AutoModelForSeq2SeqLM.from_pretrained(path)`` load both offline.
Each build takes about a second and writes well under 1 MB. The models translate into garbage, deterministically;
tests check shapes, batching, ordering and the forced target-language token, never translation quality.

* :func:`build_marian` - a MarianMT (one model per language pair, like ``Helsinki-NLP/opus-mt-{src}-{tgt}``);
  the tokenizer appends ``</s>`` to every source, as MarianTokenizer does.
* :func:`build_m2m100` - an M2M100 whose tokenizer holds the language tokens ``__fr__`` etc. as special tokens,
  so ``tokenizer.convert_tokens_to_ids("__fr__")`` finds them (inside ``len(tokenizer)``; the model's vocabulary
  is sized to cover every id). The real M2M100Tokenizer needs sentencepiece; this one is a plain fast tokenizer
  (no ``src_lang`` attribute), and :class:`~conj_harness.translators.hf.HFTranslator` adds the source-language
  prefix itself for such tokenizers.
* :func:`build_nllb` - an NLLB-style M2M100 saved with the real (tokenizers-backed) ``NllbTokenizer`` and all
  202 NLLB language codes (``fra_Latn`` ...), so the ``tokenizer.src_lang`` path is exercised as with
  ``facebook/nllb-200-distilled-600M``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: Weight init scale. transformers' default (0.02) gives a tiny model whose output ignores its input (every sentence
#: "translates" to the same string); at 1.0 different inputs give different outputs, so tests can see ordering.
INIT_STD = 1.0

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # fairseq order: bos=0, pad=1, eos=2, unk=3 (as M2M100 / NLLB)


def _corpus() -> list[str]:
    from tests.support.tiny_models import _corpus as prompt_corpus

    return prompt_corpus()


def _byte_level_tokenizer(vocab_size: int, extra_special: Iterable[str] = (), append_eos: bool = True):
    """A byte-level BPE (every script tokenizes, no <unk>) wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    if append_eos:  # "text </s>", as MarianTokenizer builds its inputs
        tok.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
        )
    extra = list(extra_special)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        model_max_length=512,
    )
    if extra:
        fast.add_special_tokens({"additional_special_tokens": extra})
    fast.padding_side = "right"
    return fast


def _vocab_size(tokenizer) -> int:
    """Model vocabulary covering every id the tokenizer can produce (added tokens included)."""
    ids = list(tokenizer.get_vocab().values())
    return max(len(tokenizer), max(ids) + 1)


def _save(model, tokenizer, path: Path, generation: dict) -> Path:
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(do_sample=False, num_beams=1, **generation)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _dims(d_model: int, layers: int, heads: int, init_std: float) -> dict:
    return {
        "d_model": d_model, "encoder_layers": layers, "decoder_layers": layers, "encoder_attention_heads": heads,
        "decoder_attention_heads": heads, "encoder_ffn_dim": 2 * d_model, "decoder_ffn_dim": 2 * d_model,
        "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "init_std": init_std,
    }


def build_marian(path: str | Path, seed: int = 0, d_model: int = 32, layers: int = 1, heads: int = 2,
                 vocab_size: int = 512, init_std: float = INIT_STD) -> Path:
    """Save a random-init MarianMT and its tokenizer to ``path`` (about 0.2 MB); returns the path."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    tokenizer = _byte_level_tokenizer(vocab_size)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    config = MarianConfig(
        vocab_size=_vocab_size(tokenizer), max_position_embeddings=512, **_dims(d_model, layers, heads, init_std),
        pad_token_id=pad, eos_token_id=eos, forced_eos_token_id=eos, decoder_start_token_id=pad, bos_token_id=None,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    generation = {"pad_token_id": pad, "eos_token_id": eos, "decoder_start_token_id": pad, "forced_eos_token_id": eos}
    return _save(model, tokenizer, Path(path), generation)


def _m2m100_model(tokenizer, seed: int, d_model: int, layers: int, heads: int, init_std: float):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    pad, eos, bos = tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.bos_token_id
    config = M2M100Config(
        vocab_size=_vocab_size(tokenizer), max_position_embeddings=512, **_dims(d_model, layers, heads, init_std),
        pad_token_id=pad, eos_token_id=eos, bos_token_id=bos, decoder_start_token_id=eos, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config).eval()
    generation = {"pad_token_id": pad, "eos_token_id": eos, "bos_token_id": bos, "decoder_start_token_id": eos}
    return model, generation


def build_m2m100(path: str | Path, languages: Iterable[str] | None = None, seed: int = 0, d_model: int = 32,
                 layers: int = 1, heads: int = 2, vocab_size: int = 512, init_std: float = INIT_STD) -> Path:
    """Save a random-init M2M100 whose tokenizer holds ``__xx__`` for each of ``languages`` (default: all 100
    M2M100 languages); returns the path. Inputs are ``__src__ text </s>`` (the translator adds the prefix)."""
    from conj_harness.translators.hf import M2M100_LANGUAGES

    langs = list(M2M100_LANGUAGES if languages is None else languages)
    tokenizer = _byte_level_tokenizer(vocab_size, extra_special=[f"__{code}__" for code in langs],
                                      append_eos=False)
    model, generation = _m2m100_model(tokenizer, seed, d_model, layers, heads, init_std)
    return _save(model, tokenizer, Path(path), generation)


def build_nllb(path: str | Path, seed: int = 0, d_model: int = 32, layers: int = 1, heads: int = 2,
               vocab_size: int = 768, init_std: float = INIT_STD) -> Path:
    """Save a random-init NLLB-style M2M100 with a locally trained ``NllbTokenizer`` (all 202 language codes,
    non-legacy ``fra_Latn text </s>`` inputs); returns the path."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import NllbTokenizer

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False)
    bpe.train_from_iterator(_corpus(), trainer=trainer)
    state = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    tokenizer = NllbTokenizer(vocab=state["vocab"], merges=merges, model_max_length=512)
    tokenizer.padding_side = "right"
    model, generation = _m2m100_model(tokenizer, seed, d_model, layers, heads, init_std)
    return _save(model, tokenizer, Path(path), generation)
