"""Local seq2seq machine translation through transformers: MarianMT, NLLB-200 and M2M100.

Three model families, picked by the ``model`` argument:

* ``None`` (default): MarianMT, one model per language pair, ``Helsinki-NLP/opus-mt-{src}-{tgt}``. Any ISO 639-1
  code passes validation; a pair with no opus-mt model fails when it is loaded, with a :class:`TranslationError`
  naming the model id it tried and suggesting ``--model facebook/nllb-200-distilled-600M``. A ``model`` string
  containing ``{src}`` and ``{tgt}`` is such a per-pair template too (e.g. a local folder of opus-mt models).
* an id or local path whose name contains ``nllb`` (or whose files say NLLB): one NLLB-200 model for all pairs,
  ISO 639-1 codes mapped to NLLB codes (``fr`` -> ``fra_Latn``) with :data:`NLLB_CODES`.
* an id or path containing ``m2m100`` (or whose ``config.model_type`` is ``m2m_100``): one M2M100 for all pairs,
  ISO codes used directly (``__fr__`` tokens), restricted to :data:`M2M100_LANGUAGES`.

Any other explicit id or path whose ``config.json`` says ``model_type: marian`` is one Marian model used for every
pair (the caller picks the pair it was trained for).

Decoding is greedy by default (``num_beams=1``, no sampling), so a translation is a deterministic function of the
model and the text: inputs are right-padded with an attention mask, so a sentence translates the same in a batch
as alone (up to floating-point reassociation). Batches are formed from inputs sorted by token length (less
padding) and results are put back in input order.

Caching translations: the model differs per pair for Marian, so a cache key must use :meth:`HFTranslator.model_for`
``(source, target)``, not the :attr:`model` property (which for the per-pair default is the template
``Helsinki-NLP/opus-mt-{src}-{tgt}``). ``model_for`` also appends decoding settings that change the output when they
differ from the defaults (``num_beams``, ``max_new_tokens``, ``dtype``).

Offline (``HF_HUB_OFFLINE=1``) a model must be a local folder or already in the Hugging Face cache; a model that
cannot be loaded raises :class:`TranslationError` saying which id and how to get it. transformers 5 has no
``pipeline("translation")``; this module tokenizes and calls ``generate()`` itself. The real Marian and M2M100
tokenizers need the ``sentencepiece`` package (NLLB's is tokenizers-based).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .base import TranslationError, Translator

log = logging.getLogger(__name__)

MARIAN_TEMPLATE = "Helsinki-NLP/opus-mt-{src}-{tgt}"
NLLB_DEFAULT = "facebook/nllb-200-distilled-600M"
M2M100_DEFAULT = "facebook/m2m100_418M"

#: ISO 639-1 -> NLLB-200 (FLORES-200) code. Macro-languages map to the variety NLLB was trained on (ar -> Modern
#: Standard Arabic, fa -> Western Persian, zh -> Simplified Chinese, ms -> Standard Malay, ...).
NLLB_CODES: dict[str, str] = {
    "af": "afr_Latn", "ak": "aka_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng", "ay": "ayr_Latn",
    "az": "azj_Latn", "ba": "bak_Cyrl", "be": "bel_Cyrl", "bg": "bul_Cyrl", "bm": "bam_Latn", "bn": "ben_Beng",
    "bo": "bod_Tibt", "bs": "bos_Latn", "ca": "cat_Latn", "cs": "ces_Latn", "cy": "cym_Latn", "da": "dan_Latn",
    "de": "deu_Latn", "dz": "dzo_Tibt", "ee": "ewe_Latn", "el": "ell_Grek", "en": "eng_Latn", "eo": "epo_Latn",
    "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "ff": "fuv_Latn", "fi": "fin_Latn",
    "fj": "fij_Latn", "fo": "fao_Latn", "fr": "fra_Latn", "ga": "gle_Latn", "gd": "gla_Latn", "gl": "glg_Latn",
    "gn": "grn_Latn", "gu": "guj_Gujr", "ha": "hau_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn",
    "ht": "hat_Latn", "hu": "hun_Latn", "hy": "hye_Armn", "id": "ind_Latn", "ig": "ibo_Latn", "is": "isl_Latn",
    "it": "ita_Latn", "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kg": "kon_Latn", "ki": "kik_Latn",
    "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda", "ko": "kor_Hang", "ks": "kas_Arab", "ku": "kmr_Latn",
    "ky": "kir_Cyrl", "lb": "ltz_Latn", "lg": "lug_Latn", "li": "lim_Latn", "ln": "lin_Latn", "lo": "lao_Laoo",
    "lt": "lit_Latn", "lv": "lvs_Latn", "mg": "plt_Latn", "mi": "mri_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym",
    "mn": "khk_Cyrl", "mr": "mar_Deva", "ms": "zsm_Latn", "mt": "mlt_Latn", "my": "mya_Mymr", "nb": "nob_Latn",
    "ne": "npi_Deva", "nl": "nld_Latn", "nn": "nno_Latn", "no": "nob_Latn", "ny": "nya_Latn", "oc": "oci_Latn",
    "om": "gaz_Latn", "or": "ory_Orya", "pa": "pan_Guru", "pl": "pol_Latn", "ps": "pbt_Arab", "pt": "por_Latn",
    "qu": "quy_Latn", "rn": "run_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "rw": "kin_Latn", "sa": "san_Deva",
    "sc": "srd_Latn", "sd": "snd_Arab", "sg": "sag_Latn", "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn",
    "sm": "smo_Latn", "sn": "sna_Latn", "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "ss": "ssw_Latn",
    "st": "sot_Latn", "su": "sun_Latn", "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu",
    "tg": "tgk_Cyrl", "th": "tha_Thai", "ti": "tir_Ethi", "tk": "tuk_Latn", "tl": "tgl_Latn", "tn": "tsn_Latn",
    "tr": "tur_Latn", "ts": "tso_Latn", "tt": "tat_Cyrl", "tw": "twi_Latn", "ug": "uig_Arab", "uk": "ukr_Cyrl",
    "ur": "urd_Arab", "uz": "uzn_Latn", "vi": "vie_Latn", "wo": "wol_Latn", "xh": "xho_Latn", "yi": "ydd_Hebr",
    "yo": "yor_Latn", "zh": "zho_Hans", "zu": "zul_Latn",
}

#: The 100 languages of facebook/m2m100_418M / m2m100_1.2B (tokens ``__xx__``); ``ast``, ``ceb``, ``ilo`` and
#: ``ns`` are not ISO 639-1 and cannot be asked for (the translator's codes are validated as ISO 639-1).
M2M100_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy", "da", "de", "el",
    "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hr", "ht", "hu",
    "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt",
    "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt",
    "ro", "ru", "sd", "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr",
    "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu",
)

FAMILIES = ("marian", "nllb", "m2m100")


def _local_file(model: str, filename: str) -> str | None:
    """``filename`` of ``model`` from a local folder or the local HF cache (never the network), else None."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        f = folder / filename
        return str(f) if f.is_file() else None
    if model.count("/") > 1 or model.startswith((".", "~", os.sep)):
        return None  # a path that does not exist, not a hub id
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, filename)
    except Exception:  # noqa: BLE001 - an invalid repo id, no hub library: not found
        return None
    return found if isinstance(found, str) else None


def _read_json(model: str, filename: str) -> dict | None:
    path = _local_file(model, filename)
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def detect_family(model: str) -> str | None:
    """``marian``, ``nllb`` or ``m2m100`` for a model id or path, from its local files or else its name; None if
    neither tells. NLLB checkpoints have ``model_type: m2m_100`` and are told apart by their tokenizer."""
    config = _read_json(model, "config.json")
    low = model.lower()
    if config is not None:
        model_type = str(config.get("model_type", "")).lower()
        if model_type == "marian":
            return "marian"
        if model_type == "m2m_100":
            tok_config = _read_json(model, "tokenizer_config.json") or {}
            if "nllb" in str(tok_config.get("tokenizer_class", "")).lower() or "nllb" in low:
                return "nllb"
            return "m2m100"
        raise TranslationError(
            f"model {model!r} has model_type {model_type!r}; the hf translator runs MarianMT, NLLB-200 and M2M100 "
            f"(e.g. --model {NLLB_DEFAULT})"
        )
    if "nllb" in low:
        return "nllb"
    if "m2m100" in low or "m2m_100" in low:
        return "m2m100"
    if "opus-mt" in low or "marian" in low:
        return "marian"
    return None


def _offline_hint() -> str:
    offline = [v for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if os.environ.get(v, "").lower() in
               ("1", "true", "yes", "on")]
    where = f"{' and '.join(offline)} set: offline, " if offline else ""
    return (f"{where}a model must be a local folder or already in the Hugging Face cache "
            f"(fetch it once online with `hf download <id>`, or pass a local path)")


class HFTranslator(Translator):
    """MarianMT / NLLB-200 / M2M100 translation on a local device (see the module docstring).

    :param model: None for per-pair Marian (``Helsinki-NLP/opus-mt-{src}-{tgt}``), a template with ``{src}`` and
        ``{tgt}``, or one NLLB / M2M100 / Marian id or local path used for every pair.
    :param device: ``cuda``, ``cpu``, ``cuda:1`` ...; None picks cuda when available, else cpu.
    :param batch_size: sentences per ``generate()`` call.
    :param max_new_tokens: cap on generated tokens per sentence.
    :param dtype: torch dtype (or its name, e.g. ``"float16"``) to load the weights in; None leaves it to
        transformers (5.x: ``"auto"``, the checkpoint's own dtype - float32 for opus-mt, NLLB and M2M100).
    :param num_beams: beam width; 1 (default) is greedy decoding, deterministic.
    :param max_loaded: models kept in memory at once (least recently used ones are dropped).
    """

    name = "hf"
    max_chars = 1000  # longer texts are split at sentence ends: MT models are trained on sentences

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 16,
                 max_new_tokens: int = 256, dtype: Any = None, num_beams: int = 1, max_loaded: int = 4):
        if batch_size < 1 or max_new_tokens < 1 or num_beams < 1 or max_loaded < 1:
            raise ValueError("batch_size, max_new_tokens, num_beams and max_loaded must be positive")
        spec = MARIAN_TEMPLATE if model is None else str(model)
        if Path(spec).expanduser().is_dir():  # a local folder: absolute, so the cache key does not depend on cwd
            spec = str(Path(spec).expanduser().resolve())
        self._spec = spec
        self._per_pair = "{src}" in spec and "{tgt}" in spec
        self._family: str | None = "marian" if self._per_pair else None
        self._device = device
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.dtype = dtype
        self.num_beams = num_beams
        self.max_loaded = max_loaded
        self._loaded: OrderedDict[str, tuple[Any, Any]] = OrderedDict()  # model id -> (tokenizer, model)
        self._lock = threading.RLock()  # loading, and tokenizers whose src_lang is set per call

    # --- identity -----------------------------------------------------------------------------------------------
    @property
    def family(self) -> str:
        """``marian``, ``nllb`` or ``m2m100`` (read from the model's local files, else its name)."""
        if self._family is None:
            family = detect_family(self._spec)
            if family is None:
                raise TranslationError(
                    f"cannot find translation model {self._spec!r} ({_offline_hint()}); known families: MarianMT "
                    f"(opus-mt), NLLB-200 (e.g. {NLLB_DEFAULT}), M2M100 (e.g. {M2M100_DEFAULT})"
                )
            self._family = family
        return self._family

    @property
    def device(self) -> str:
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    def _settings(self) -> str:
        """Decoding settings that change the output, when not the defaults (part of the cache key)."""
        parts = []
        if self.num_beams != 1:
            parts.append(f"num_beams={self.num_beams}")
        if self.max_new_tokens != 256:
            parts.append(f"max_new_tokens={self.max_new_tokens}")
        if self.dtype is not None:
            parts.append(f"dtype={str(self.dtype).removeprefix('torch.')}")
        return f" [{', '.join(parts)}]" if parts else ""

    @property
    def model(self) -> str:
        """The configured model id or path; for per-pair Marian the template ``Helsinki-NLP/opus-mt-{src}-{tgt}``.

        Not enough for a translation cache key when the model is per pair: use :meth:`model_for`."""
        return self._spec + self._settings()

    def model_id_for(self, source: str, target: str) -> str:
        """The id or path of the model that translates ``source`` -> ``target`` (what is loaded)."""
        return self._spec.replace("{src}", source).replace("{tgt}", target) if self._per_pair else self._spec

    def model_for(self, source: str, target: str) -> str:
        """What produced ``source`` -> ``target`` translations: the model id (per pair for Marian) plus non-default
        decoding settings. The translation cache must use this, not :attr:`model`, in its key."""
        return self.model_id_for(source, target) + self._settings()

    # --- languages ----------------------------------------------------------------------------------------------
    def supported_languages(self) -> Iterable[str] | None:
        from conj_harness.conjugates.languages import ISO_639_1

        family = self.family
        if family == "nllb":
            return sorted(NLLB_CODES)
        if family == "m2m100":
            return sorted(c for c in M2M100_LANGUAGES if c in ISO_639_1)
        return None  # Marian: any ISO 639-1 code; a missing opus-mt pair fails when loaded

    def _lang_token(self, code: str) -> str:
        return NLLB_CODES[code] if self.family == "nllb" else f"__{code}__"

    def _lang_id(self, tokenizer, model, code: str) -> int:
        token = self._lang_token(code)
        if self.family == "m2m100" and hasattr(tokenizer, "get_lang_id"):  # M2M100Tokenizer (ids past its vocab)
            try:
                lang_id = tokenizer.get_lang_id(code)
            except KeyError:
                lang_id = None
        else:
            lang_id = tokenizer.convert_tokens_to_ids(token)
        if lang_id is None or lang_id == tokenizer.unk_token_id or not 0 <= lang_id < model.config.vocab_size:
            raise TranslationError(f"model {self._spec!r} has no language token {token!r} (for {code!r})")
        return int(lang_id)

    # --- loading ------------------------------------------------------------------------------------------------
    def _torch_dtype(self):
        import torch

        if self.dtype is None or isinstance(self.dtype, torch.dtype):
            return self.dtype
        if self.dtype == "auto":
            return "auto"
        value = getattr(torch, str(self.dtype).removeprefix("torch."), None)
        if not isinstance(value, torch.dtype):
            raise TranslationError(f"unknown dtype {self.dtype!r} (e.g. float32, float16, bfloat16)")
        return value

    def load(self, source: str, target: str) -> tuple[Any, Any]:
        """The (tokenizer, model) for a pair, loaded once per model id and kept (``max_loaded`` at most)."""
        model_id = self.model_id_for(source, target)
        with self._lock:
            if model_id in self._loaded:
                self._loaded.move_to_end(model_id)
                return self._loaded[model_id]
            pair = self._load(model_id, source, target)
            self._loaded[model_id] = pair
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
            return pair

    def _load(self, model_id: str, source: str, target: str) -> tuple[Any, Any]:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        kwargs = {"dtype": self._torch_dtype()} if self.dtype is not None else {}
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_id)
            model = AutoModelForSeq2SeqLM.from_pretrained(model_id, **kwargs)
        except ImportError as exc:  # MarianTokenizer / M2M100Tokenizer need sentencepiece
            raise TranslationError(f"cannot load translation model {model_id!r}: {exc} "
                                   f"(try `pip install sentencepiece`)") from exc
        except Exception as exc:
            hint = ""
            if self._per_pair:
                hint = (f"; there may be no opus-mt model for {source}->{target}: "
                        f"try --model {NLLB_DEFAULT} (one model for 200 languages)")
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TranslationError(
                f"cannot load translation model {model_id!r} ({_offline_hint()}): {first_line}{hint}"
            ) from exc
        try:
            model.to(self.device)
        except Exception as exc:
            raise TranslationError(f"cannot move model {model_id!r} to device {self.device!r}: {exc}") from exc
        model.eval()
        if model.generation_config.max_length is not None:  # else generate() warns on every call that
            model.generation_config.max_length = None  # max_new_tokens overrides it (opus-mt ships 512)
        tokenizer.padding_side = "right"  # encoder inputs: right padding keeps positions, so batching is invariant
        log.info("loaded %s (%s) on %s", model_id, self.family, self.device)
        return tokenizer, model

    # --- translation --------------------------------------------------------------------------------------------
    def _encode(self, tokenizer, model, texts: list[str], source: str, target: str) -> list[list[int]]:
        """Token ids per text with the family's special tokens (source language prefix, ``</s>``), truncated."""
        family = self.family
        limit = min(int(getattr(tokenizer, "model_max_length", 512) or 512),
                    int(getattr(model.config, "max_position_embeddings", 512) or 512))
        with self._lock:
            if family == "marian":
                if f">>{target}<<" in tokenizer.get_vocab():  # multi-target opus-mt models (e.g. en-ROMANCE)
                    texts = [f">>{target}<< {t}" for t in texts]
                rows = tokenizer(texts, add_special_tokens=True)["input_ids"]
            elif hasattr(tokenizer, "src_lang"):  # NllbTokenizer / M2M100Tokenizer build "lang text </s>"
                tokenizer.src_lang = self._lang_token(source) if family == "nllb" else source
                rows = tokenizer(texts, add_special_tokens=True)["input_ids"]
            else:  # a plain fast tokenizer holding the language tokens: build "lang text </s>" here
                lang_id = self._lang_id(tokenizer, model, source)
                rows = [[lang_id, *ids, tokenizer.eos_token_id]
                        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        out = []
        for text, ids in zip(texts, rows):
            if len(ids) > limit:
                log.warning("hf translator: input of %d tokens truncated to %d: %.60r", len(ids), limit, text)
                keep = len(getattr(tokenizer, "suffix_tokens", None) or ()) or 1  # "</s>" or legacy "</s> lang"
                ids = ids[: limit - keep] + ids[-keep:]
            out.append(list(ids))
        return out

    def generate_ids(self, texts: list[str], source: str, target: str) -> list[list[int]]:
        """The generated token ids per text (decoder start and forced language token included), in input order."""
        import torch

        tokenizer, model = self.load(source, target)
        rows = self._encode(tokenizer, model, texts, source, target)
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams, "do_sample": False}
        if self.family in ("nllb", "m2m100"):
            gen["forced_bos_token_id"] = self._lang_id(tokenizer, model, target)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else model.config.pad_token_id
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))  # longest first: little padding per batch
        results: list[list[int] | None] = [None] * len(rows)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            width = max(len(rows[i]) for i in chunk)
            input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, i in enumerate(chunk):  # right padding
                input_ids[r, : len(rows[i])] = torch.tensor(rows[i], dtype=torch.long)
                mask[r, : len(rows[i])] = 1
            try:
                with torch.inference_mode():
                    out = model.generate(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device),
                                         **gen)
            except Exception as exc:
                raise TranslationError(
                    f"generation failed with {self.model_id_for(source, target)!r} ({source}->{target}): {exc}"
                ) from exc
            sequences = out.tolist()
            for r, i in enumerate(chunk):
                results[i] = sequences[r]
        return results  # type: ignore[return-value]

    def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        tokenizer, _ = self.load(source, target)
        ids = self.generate_ids(texts, source, target)
        decoded = tokenizer.batch_decode(ids, skip_special_tokens=True)
        return [s.strip() for s in decoded]
