"""Tiny random-init causal LMs built offline, for tests, benchmarks and smoke runs.

No model can be downloaded on CI or air-gapped nodes, so tests build their own: a byte-level BPE tokenizer
trained locally on the project's own prompt strings (so every script, from Thai to Leetspeak, tokenizes) and a
Llama with head size 32 (the smallest vLLM's CPU build accepts). A build takes a few seconds.
"""

from __future__ import annotations

from pathlib import Path


def _corpus() -> list[str]:
    from conj_harness.families import icl, xnli

    lines = []
    for s in icl.PAPER_STRINGS.values():
        lines.extend(s.to_dict().values())
    for p in xnli.PROMPTS.values():
        lines.append(p.template)
        lines.extend(p.labels)
    lines.append("The quick brown fox jumps over the lazy dog. 0123456789 ____ ?!.,;:'\"()")
    return lines * 20


def build_tokenizer(vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<s>", "</s>", "<unk>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_llama(path: str | Path, seed: int = 0, hidden: int = 64, layers: int = 2, heads: int = 2,
                max_positions: int = 4096, chat_template: str | None = None) -> Path:
    """Save a random-init Llama and its tokenizer to ``path`` (about 1 MB); returns the path."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    path = Path(path)
    tokenizer = build_tokenizer()
    if chat_template:
        tokenizer.chat_template = chat_template
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        do_sample=False, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_gemma(path: str | Path, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    """A random-init Gemma 3 (text) whose tokenizer adds ``<bos>`` like Gemma's: the BOS policy's Gemma case."""
    import torch
    from tokenizers import processors
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, GenerationConfig, PreTrainedTokenizerFast

    path = Path(path)
    base = build_tokenizer()
    base.add_special_tokens({"bos_token": "<bos>"})
    backend = base.backend_tokenizer
    backend.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", base.convert_tokens_to_ids("<bos>"))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="<pad>")
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=4096,
        sliding_window=64, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        do_sample=False, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_lora(model: str | Path, path: str | Path, seed: int = 0, zero: bool = False,
               targets: tuple[str, ...] = ("q_proj", "v_proj", "o_proj", "down_proj")) -> Path:
    """Save a LoRA adapter for ``model`` to ``path``: random A and B (it changes the outputs), or ``zero`` (B = 0,
    peft's default initialisation: it changes nothing)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model)
    config = LoraConfig(r=4, lora_alpha=32, target_modules=list(targets), init_lora_weights=bool(zero))
    get_peft_model(base, config).save_pretrained(path)
    return Path(path)


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.support.tiny_models DIR [--seed N]``: a tiny random Llama for a smoke run, offline."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.support.tiny_models", description=main.__doc__)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(build_llama(args.dir, seed=args.seed))


if __name__ == "__main__":
    main()
