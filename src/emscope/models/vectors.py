"""Persona vector files: per-layer trait directions stored as safetensors with metadata.

A file holds one tensor `vectors` of shape `(L + 1, hidden)`: row l is the direction at layer l in emscope's
layer convention (`hidden_states[l]`, see `emscope.models.layers`). Metadata (strings) records the model,
trait, convention and how the vector was obtained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict

from emscope.errors import InputError
from emscope.io import write_bytes_atomic
from emscope.models.layers import LAYER_CONVENTION


class VectorMeta(BaseModel):
    """Metadata stored in a persona vector file."""

    model_config = ConfigDict(extra="allow")
    model: str
    trait: str
    layer_convention: str = LAYER_CONVENTION
    n_pos: int = 0
    n_neg: int = 0
    layer: int | None = None  # recommended layer (best separation at extraction); None: choose one


def unit(vector: torch.Tensor) -> torch.Tensor:
    """`vector` scaled to unit L2 norm, in float32 (a zero vector stays zero)."""
    v = vector.float()
    return v / v.norm().clamp(min=1e-12)


def default_layer(n_layers: int) -> int:
    """Layer used when neither the call nor the vector file names one: two thirds of the depth."""
    return max(1, round(2 * n_layers / 3))


def vector_layer(meta_layer: Any, n_rows: int, layer: int | None) -> int:
    """The layer to read: explicit `layer`, else the vector file's recommended layer, else two thirds depth."""
    if layer is not None:
        chosen = layer
    elif meta_layer is not None:
        chosen = int(meta_layer)
    else:
        chosen = default_layer(n_rows - 1)
    if not 1 <= chosen < n_rows:
        raise InputError(f"layer {chosen} out of range 1..{n_rows - 1} for this persona vector")
    return chosen


class PersonaVector(BaseModel):
    """Per-layer trait directions and their metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    vectors: torch.Tensor
    meta: VectorMeta

    def at(self, layer: int) -> torch.Tensor:
        """The direction at layer `layer` (emscope convention)."""
        if not 0 <= layer < self.vectors.shape[0]:
            raise InputError(f"layer {layer} out of range 0..{self.vectors.shape[0] - 1} for this vector file")
        return self.vectors[layer]

    def layer_for(self, layer: int | None = None) -> int:
        """The layer to read or steer at: `layer` if given, else this file's recommended one (see `vector_layer`)."""
        return vector_layer(self.meta.layer, self.vectors.shape[0], layer)


def check_fits(vec: PersonaVector, model, name: str | Path = "persona vector", model_name: str | None = None) -> None:
    """Raise InputError unless `vec` has one row per hidden state of `model` (layers + 1) of its hidden size.

    `name` names the vector (usually its file) and `model_name` the model (default: its config's name) in the
    message."""
    cfg = model.config
    n_layers, hidden = cfg.num_hidden_layers, cfg.hidden_size
    if tuple(vec.vectors.shape) != (n_layers + 1, hidden):
        who = model_name or getattr(cfg, "_name_or_path", None) or "the model"
        raise InputError(f"{name}: vectors shape {tuple(vec.vectors.shape)} does not fit {who} "
                         f"({n_layers} layers, hidden {hidden})")


def save_vector(path: str | Path, vec: PersonaVector) -> Path:
    """Write a persona vector file atomically."""
    from safetensors.torch import save

    meta = {k: str(v) for k, v in vec.meta.model_dump().items() if v is not None}
    return write_bytes_atomic(path, save({"vectors": vec.vectors.detach().float().contiguous().cpu()}, metadata=meta))


def load_vector(path: str | Path) -> PersonaVector:
    """Read a persona vector file; a missing file or a foreign layer convention is a clear error."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: persona vector file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            vectors = f.get_tensor("vectors")
    except Exception as e:  # safetensors raises several error types for corrupt files
        raise InputError(f"{path}: not a persona vector file ({e})") from e
    if vectors.ndim != 2:
        raise InputError(f"{path}: field vectors: expected shape (layers + 1, hidden), got {tuple(vectors.shape)}")
    if meta.get("layer_convention", LAYER_CONVENTION) != LAYER_CONVENTION:
        raise InputError(f"{path}: field layer_convention: {meta['layer_convention']!r} is not {LAYER_CONVENTION!r}")
    try:
        for key in ("n_pos", "n_neg"):
            meta[key] = int(meta.get(key, 0))
        if meta.get("layer") is not None:
            meta["layer"] = int(meta["layer"])
    except ValueError as e:
        raise InputError(f"{path}: metadata: {e}") from e
    meta.setdefault("model", "unknown")
    meta.setdefault("trait", path.stem)
    return PersonaVector(vectors=vectors, meta=VectorMeta(**meta))
