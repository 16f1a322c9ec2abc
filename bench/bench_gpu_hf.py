"""HF backend on a GPU: generated tokens per second of a random-init Llama-7B-shaped model through lm-eval.

No weights can be downloaded on the GPU machines, so the model is random (hidden 4096, 32 layers, 32 heads,
intermediate 11008; the vocabulary is the tiny offline tokenizer's, which changes nothing that matters for
speed but the embedding size). It runs the real conj tasks through `lm_eval.simple_evaluate` with
`conj_harness.task_manager()`, at several batch sizes, and prints one JSON line per run.

    CONJ_DATA_DIR=... python -m bench.bench_gpu_hf --tasks conj_icl_en --limit 400 --batch-sizes 1,16,64
"""

from __future__ import annotations

import argparse
import json
import time


def build_model(dtype: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.support.tiny_models import build_tokenizer

    tok = build_tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                         num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    torch.set_default_dtype(getattr(torch, dtype))
    with torch.device("cuda"):
        model = LlamaForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    model.eval()
    model.generation_config.eos_token_id = None  # a random model: always generate the full budget
    return model, tok


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", default="conj_icl_en")
    p.add_argument("--limit", type=int, default=400)
    p.add_argument("--batch-sizes", default="1,16,64")
    p.add_argument("--dtype", default="bfloat16")
    args = p.parse_args()

    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM

    import conj_harness

    t0 = time.perf_counter()
    model, tok = build_model(args.dtype)
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        lm = HFLM(pretrained=model, tokenizer=tok, batch_size=bs, max_length=4096, add_bos_token=False)
        torch.cuda.synchronize()
        start = time.perf_counter()
        res = simple_evaluate(model=lm, tasks=args.tasks.split(","), limit=args.limit, log_samples=True,
                              task_manager=conj_harness.task_manager())
        torch.cuda.synchronize()
        wall = time.perf_counter() - start
        gen_tokens = prompt_tokens = docs = 0
        for samples in res["samples"].values():
            for s in samples:
                docs += 1
                resp = s["resps"][0][0] if isinstance(s["resps"][0], (list, tuple)) else s["resps"][0]
                arguments = s["arguments"]  # in memory: [(context, gen_kwargs)]; in the JSON log: {"gen_args_0": ...}
                context = arguments[0][0] if isinstance(arguments, (list, tuple)) else arguments["gen_args_0"]["arg_0"]
                gen_tokens += len(tok(resp, add_special_tokens=False)["input_ids"])
                prompt_tokens += len(tok(context, add_special_tokens=False)["input_ids"])
        print(json.dumps({
            "bench": "gpu_hf", "device": torch.cuda.get_device_name(), "params": params, "dtype": args.dtype,
            "tasks": args.tasks, "docs": docs, "batch_size": bs, "wall_s": round(wall, 2),
            "build_s": round(build_s, 1), "generated_tokens": gen_tokens, "prompt_tokens": prompt_tokens,
            "gen_tokens_per_s": round(gen_tokens / wall, 1), "prompt_tokens_per_s": round(prompt_tokens / wall),
            "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1),
        }), flush=True)


if __name__ == "__main__":
    main()
