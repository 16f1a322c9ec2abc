"""Whether the two models of a pair share a tokenizer (checked from local files only; reported, never fatal).

Different tokenizers are allowed - a fine-tune may extend the vocabulary - but then outputs are not token-for-token
comparable, and the report says so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def tokenizer_info(model: str, adapter: str | None = None) -> dict:
    """Class and vocabulary size of a model's tokenizer, loaded from local files only (skipped otherwise)."""
    source = model
    if adapter and (Path(adapter) / "tokenizer_config.json").is_file():
        source = adapter
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(source, local_files_only=True)
        vocab = tok.get_vocab()
    except Exception as e:  # noqa: BLE001 - hub names not in the local cache, remote code, no tokenizer files...
        first_line = str(e).splitlines()[0][:200] if str(e) else ""
        return {"source": source, "checked": False, "reason": f"{type(e).__name__}: {first_line}"}

    digest = hashlib.sha256(json.dumps(sorted(vocab.items()), ensure_ascii=False).encode()).hexdigest()[:16]
    return {"source": source, "checked": True, "class": type(tok).__name__, "vocab_size": len(tok),
            "vocab_sha": digest}


def compare_tokenizers(base: dict, tuned: dict) -> dict:
    """``same``: True / False when both were loaded, None when either could not be checked."""
    if not (base.get("checked") and tuned.get("checked")):
        return {"base": base, "tuned": tuned, "same": None, "note": "tokenizers not checked (not loadable locally)"}
    same = base["vocab_sha"] == tuned["vocab_sha"] and base["class"] == tuned["class"]
    note = "same tokenizer" if same else (
        f"different tokenizers: base {base['class']} ({base['vocab_size']} tokens) vs tuned {tuned['class']} "
        f"({tuned['vocab_size']} tokens); allowed, but outputs are not token-for-token comparable"
    )
    return {"base": base, "tuned": tuned, "same": same, "note": note}


