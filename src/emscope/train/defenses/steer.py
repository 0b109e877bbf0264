"""Preventive steering (Chen et al. 2025): add alpha * v at layer l during training only, so the model need not
move along v itself. Wraps the training forward passes (the policy's and, when KL/LDIFS need one, the
reference's: otherwise those terms would measure the steering vector and train the adapter to cancel it);
monitors, evaluation and the saved weights never see it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from emscope.config import Strict
from emscope.errors import InputError
from emscope.train.defenses.base import Defense


class SteerSettings(Strict):
    """Preventive steering: add alpha * v at layer l (hidden_states index) during training only."""

    vector: Path
    layer: int | None = Field(None, ge=1, description="hidden_states index; default: the vector file's "
                                                       "recommended layer")
    alpha: float = 4.0
    normalize: bool = Field(True, description="scale v to unit norm before multiplying by alpha")


def check(settings: SteerSettings) -> None:
    """The vector file loads and has the layer, or records a recommended one (before the model loads)."""
    from emscope.models.vectors import load_vector

    vec = load_vector(settings.vector)
    vec.at(vec.layer_for(settings.layer))


def prepare(settings: SteerSettings, model):
    """The steering vector (unit norm when `normalize`), checked against the model's hidden size."""
    from emscope.models.vectors import load_vector, unit

    vec = load_vector(settings.vector)
    layer = vec.layer_for(settings.layer)
    v = vec.at(layer).float()
    if v.shape[0] != model.config.get_text_config().hidden_size:
        raise InputError(f"{settings.vector}: vector size {v.shape[0]} does not match the model's hidden size")
    return {"vector": unit(v) if settings.normalize else v, "layer": layer, "alpha": settings.alpha}


def forward(prepared: dict, model):
    """The steering hook around one policy forward pass."""
    from emscope.models.steering import steering

    return steering(model, prepared["vector"], prepared["layer"], prepared["alpha"])


DEFENSE = Defense(name="steer", settings=SteerSettings, check=check, prepare=prepare, forward=forward,
                  reference_too=True)
