"""The one table of lm-eval model types (issue 26): every name lm-eval registers is in it or treated as a served
client, every alias of an engine behaves as the engine, and the spec, checks and workers all read it."""

from __future__ import annotations

import pytest

from conj_harness.errors import ConjError
from conj_harness.lmeval import backends, compat


def test_every_name_in_the_table_is_one_lm_eval_registers():
    registered = set(compat.model_types())
    table = {n for engine in ("hf", "vllm", "local", "served") for n in backends.names_of(engine)}  # type: ignore[arg-type]
    assert table - registered == set(), "the table names a type lm-eval does not register"
    for name in registered:  # a type the table lacks is a served client, never an error
        assert backends.backend(name, compat.model_types).name == name


@pytest.mark.parametrize("alias", ["hf", "hf-auto", "huggingface"])
def test_hf_aliases_are_the_hf_engine_in_the_spec(alias, tiny_llama):
    from conj_harness.pairs.spec import PairSpec

    spec = PairSpec(base=str(tiny_llama), tuned_adapter=str(tiny_llama), backend=alias, tasks=["conj_icl_en"])
    assert not spec.served and spec.default_batch_size() == "8"
    assert spec.lm_eval_model_args("tuned").startswith(f"pretrained={tiny_llama},peft={tiny_llama}")
    assert "add_bos_token" in spec.identity("base")  # paper mode's BOS policy applies


def test_vllm_and_served_entries():
    vllm = backends.backend("vllm-vlm", compat.model_types)
    assert (vllm.engine, vllm.adapter_key, vllm.default_batch, vllm.bos_policy) == \
        ("vllm", "lora_local_path", "auto", True)
    for name in ("local-completions", "local-chat-completions", "openai-completions", "openai-chat-completions"):
        entry = backends.backend(name, compat.model_types)
        assert entry.served and entry.model_key == "model" and entry.adapter_key is None
    sglang = backends.backend("sglang", compat.model_types)
    assert sglang.local and sglang.adapter_key is None and not sglang.bos_policy


def test_an_unknown_backend_lists_lm_evals_types():
    with pytest.raises(ConjError, match=r"unknown backend 'hff': lm-eval's model types are .*hf-auto"):
        backends.backend("hff", compat.model_types)


def test_an_adapter_on_an_engine_without_adapters_is_refused(tiny_llama):
    from conj_harness.pairs.spec import PairSpec

    with pytest.raises(ConjError, match="--tuned-adapter needs a backend that attaches a LoRA adapter here"):
        PairSpec(base=str(tiny_llama), tuned_adapter=str(tiny_llama), backend="sglang", tasks=["x"])
