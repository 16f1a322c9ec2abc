"""Real-model overheads on the offline Gemma 3 270M: GGUF loading vs its converted folder, and conj-eval's hf path
vs plain transformers ``generate`` on the same prompts (same outputs?).

    python -m bench.bench_real_models [--docs 48] [--batch-size 16] [--skip-gguf-load]

Prints one JSON line: seconds to build lm-eval's ``hf`` model from the GGUF file (``gguf_file=``, dequantised at every
load) and from the converted folder; then ``conj_icl_en``'s first ``--docs`` prompts through
``lm_eval.simple_evaluate`` (what ``conj-eval`` runs, BOS from the policy) and through a plain batched greedy
``generate`` with the same tokens, the ratio of the two times and how many of the outputs are identical.
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--skip-gguf-load", action="store_true")
    args = parser.parse_args(argv)

    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import conj_harness
    from conj_harness.checkpoints import bos, offline

    gguf_file = offline.gguf_file("gemma-3-270m")
    folder = offline.model_folder("gemma-3-270m")
    report: dict = {"model": "gemma-3-270m Q4_K_M", "threads": torch.get_num_threads()}
    if not args.skip_gguf_load:
        t = time.monotonic()
        HFLM(pretrained=str(gguf_file.parent), gguf_file=gguf_file.name, device="cpu")
        report["load_gguf_s"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    lm = HFLM(pretrained=str(folder), device="cpu", batch_size=args.batch_size,
              add_bos_token=bos.decide({"pretrained": str(folder)}).add_bos_token)
    report["load_converted_s"] = round(time.monotonic() - t, 1)

    t = time.monotonic()
    results = lm_eval.simple_evaluate(model=lm, tasks=["conj_icl_en"], limit=args.docs, log_samples=True,
                                      task_manager=conj_harness.task_manager())
    report["lm_eval_s"] = round(time.monotonic() - t, 1)
    samples = sorted(results["samples"]["conj_icl_en"], key=lambda s: s["doc_id"])
    # in-process samples keep lm-eval's request arguments as (context, gen_kwargs) tuples
    prompts = [s["arguments"][0][0] for s in samples]
    gen_kwargs = samples[0]["arguments"][0][1]
    until = [u for u in gen_kwargs.get("until") or [] if u]
    max_new = int(gen_kwargs.get("max_gen_toks", 256))
    lm_eval_out = [s["resps"][0][0] for s in samples]

    tok = AutoTokenizer.from_pretrained(folder, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    plain: list[str] = []
    t = time.monotonic()
    for i in range(0, len(prompts), args.batch_size):
        batch = tok(prompts[i:i + args.batch_size], return_tensors="pt", padding=True, add_special_tokens=True)
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=max_new, do_sample=False)
        for text in tok.batch_decode(out[:, batch.input_ids.shape[1]:], skip_special_tokens=True):
            cut = min((text.find(u) for u in until if u in text), default=len(text))  # lm-eval cuts at `until`
            plain.append(text[:cut])
    report["transformers_s"] = round(time.monotonic() - t, 1)
    report["ratio_lm_eval_vs_transformers"] = round(report["lm_eval_s"] / report["transformers_s"], 2)
    report["docs"] = len(prompts)
    report["gen_kwargs"] = {"until": until, "max_gen_toks": max_new}
    report["identical_outputs"] = sum(a == b for a, b in zip(lm_eval_out, plain))
    report["differing"] = [{"doc": i, "lm_eval": a[:40], "transformers": b[:40]}
                           for i, (a, b) in enumerate(zip(lm_eval_out, plain)) if a != b][:5]
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
