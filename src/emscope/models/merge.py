"""Merging a PEFT adapter into its base weights: the starting point of the next stage of a staged run, and a
directory any tool (vLLM, Inspect's HF provider, `emscope eval`/`serve`) loads as a plain model."""

from __future__ import annotations

from pathlib import Path

from emscope.io import atomic_dir


def merge_adapter(spec: str, adapter: str | Path, out: str | Path, *, dtype: str | None = None,
                  trust_remote_code: bool = False) -> Path:
    """Load `spec` with `adapter`, merge the adapter into the weights (in `dtype`: the precision it was trained
    in; default: the loader's) and save model + tokenizer atomically as safetensors in `out`."""
    from emscope.errors import ModelLoadError
    from emscope.models.gates import GATES_FILE, has_gates
    from emscope.models.loader import load_model

    if has_gates(adapter):
        raise ModelLoadError(f"{adapter} holds alignment gates ({GATES_FILE}): input-dependent gates cannot be merged "
                             "into the weights; evaluate the adapter directory itself (defenses.gate belongs to the "
                             "last stage of a staged run)")
    model, tokenizer = load_model(spec, adapter=adapter, device="cpu", dtype=dtype,
                                  trust_remote_code=trust_remote_code)
    merged = model.merge_and_unload()
    out = Path(out)
    with atomic_dir(out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return out
