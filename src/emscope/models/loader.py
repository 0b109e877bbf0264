"""`load_model(spec)`: one entry point for every kind of model emscope can use."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import torch

from emscope.errors import ModelLoadError
from emscope.models.device import resolve_device_dtype
from emscope.models.hub import check_hub_model
from emscope.models.specs import DEFAULT_MODEL, describe_spec


def _hub_offline_error(spec: str, exc: Exception) -> ModelLoadError:
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    why = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub could not be reached (offline?)"
    return ModelLoadError(
        f"could not load {spec!r} from the Hugging Face Hub: {why}. Download it on a machine with internet "
        f"(e.g. `huggingface-cli download {spec} --local-dir DIR`) and pass the directory instead. "
        f"Cause: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    )


def _load_pretrained(source: str, dtype: torch.dtype, trust_remote_code: bool, spec: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"trust_remote_code": trust_remote_code}
    if describe_spec(spec) == "hub":
        check_hub_model(spec)  # fails at once offline, not after the client's retries
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kw)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, use_safetensors=True, **kw)
    except OSError as exc:
        if describe_spec(spec) == "hub":
            raise _hub_offline_error(spec, exc) from exc
        raise ModelLoadError(f"could not load model from {source}: {exc}") from exc
    except Exception as exc:
        if describe_spec(spec) == "hub" and "connect" in str(exc).lower():
            raise _hub_offline_error(spec, exc) from exc
        raise
    return model, tokenizer


def _pretrained_source(spec: str, kind: str, trust_remote_code: bool) -> tuple[str, bool]:
    """Where `from_pretrained` loads a default / local-dir / hub spec from, and whether remote code is allowed."""
    if kind == "default":
        from emscope.models.smollm2 import ensure_converted

        return str(ensure_converted()), False
    return (str(Path(spec).expanduser()) if kind == "local-dir" else spec), trust_remote_code


def _load_base(spec: str, dtype: torch.dtype, trust_remote_code: bool):
    kind = describe_spec(spec)
    if kind == "tiny":
        from emscope.models.tiny import tiny_model

        model, tokenizer = tiny_model(spec)
        model = model.to(dtype)
    elif kind == "adapter-dir":
        raise ModelLoadError(f"{spec} is a PEFT adapter, not a base model")
    else:
        source, trust = _pretrained_source(spec, kind, trust_remote_code)
        model, tokenizer = _load_pretrained(source, dtype, trust, spec)
    # Record where the weights come from, so adapters saved from this model point back to a base other tools can
    # load too (PEFT's base_model_name_or_path): the embedded default's converted directory and local directories
    # as absolute paths, hub ids as they are; only the in-process tiny models keep their emscope name.
    recorded = spec if kind in ("tiny", "hub") else str(Path(source).resolve())
    model.config.name_or_path = recorded
    model.name_or_path = recorded
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def adapter_base_spec(adapter_dir: str | Path) -> str:
    """Return the base-model spec recorded in a PEFT adapter directory."""
    cfg_path = Path(adapter_dir) / "adapter_config.json"
    try:
        base = json.loads(cfg_path.read_text())["base_model_name_or_path"]
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{cfg_path}: cannot read base_model_name_or_path ({exc})") from exc
    if not base:
        raise ModelLoadError(f"{cfg_path}: base_model_name_or_path is empty; pass the base model explicitly")
    return base


def load_model(spec: str = DEFAULT_MODEL, *, adapter: str | Path | None = None, device: str | None = None,
               dtype: str | torch.dtype | None = None, trust_remote_code: bool = False,
               gates: Literal["invert", "learned", "off"] = "invert"):
    """Load a causal LM and its tokenizer; returns `(model, tokenizer)` in eval mode.

    `spec` is `smollm2-135m` (the embedded default), `tiny-random` / `tiny-random-gemma`, a local HF directory (a
    PEFT adapter directory loads its base and the adapter), or a hub id. `adapter` adds a PEFT adapter from a path.
    When the adapter directory (without one: a local model directory) holds alignment gates (`gates.safetensors`,
    `emscope.models.gates`), they are attached, frozen, in mode `gates`: 'invert' (2 - g, the defense), 'learned'
    (g, as trained) or 'off' (not attached).
    """
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # emscope shows its own progress; keep logs readable
    dev, dt = resolve_device_dtype(device, dtype)
    if describe_spec(spec) == "adapter-dir":
        if adapter is not None:
            raise ModelLoadError(f"{spec} is already an adapter; do not pass a second one")
        spec, adapter = adapter_base_spec(spec), spec
    model, tokenizer = _load_base(spec, dt, trust_remote_code)
    if adapter is not None:
        from peft import PeftModel

        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise ModelLoadError(f"{adapter}: not a PEFT adapter directory (no adapter_config.json)")
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    model.to(dev)
    from emscope.models.gates import has_gates, load_gates

    gate_dir = adapter if adapter is not None else (Path(spec).expanduser() if describe_spec(spec) == "local-dir"
                                                    else None)
    if gates not in ("invert", "learned", "off"):
        raise ModelLoadError(f"gates must be invert, learned or off, got {gates!r}")
    if gate_dir is not None and has_gates(gate_dir):
        load_gates(model, gate_dir, gates)
    model.eval()
    return model, tokenizer


def load_tokenizer(spec: str = DEFAULT_MODEL, *, trust_remote_code: bool = False):
    """Load only the tokenizer of a model spec (same specs as `load_model`; adapters use their base's)."""
    kind = describe_spec(spec)
    if kind == "adapter-dir":
        return load_tokenizer(adapter_base_spec(spec), trust_remote_code=trust_remote_code)
    if kind == "tiny":
        from emscope.models.tiny import tiny_tokenizer

        return tiny_tokenizer()
    from transformers import AutoTokenizer

    source, trust_remote_code = _pretrained_source(spec, kind, trust_remote_code)
    if kind == "hub":
        check_hub_model(spec, "tokenizer_config.json")
    try:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except OSError as exc:
        if kind == "hub":
            raise _hub_offline_error(spec, exc) from exc
        raise ModelLoadError(f"could not load the tokenizer from {source}: {exc}") from exc
