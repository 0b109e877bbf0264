"""`steer_answers` (behind `emscope persona steer`) and `check_fits` on the real tiny-random model."""

import pytest
import torch

from emscope.errors import InputError
from emscope.evaluate.sampling import SamplingSettings, generate
from emscope.models import load_model
from emscope.models.steering import steering
from emscope.models.vectors import PersonaVector, VectorMeta, check_fits, save_vector, unit
from emscope.persona.steer import steer_answers

PROMPTS = ["Hello there", "Tell me a story"]
SETTINGS = SamplingSettings(max_new_tokens=10, temperature=0.0, seed=0)


@pytest.fixture(scope="module")
def tiny():
    return load_model("tiny-random")


def _vec(model, scale=1.0, layer=None):
    v = torch.randn(model.config.num_hidden_layers + 1, model.config.hidden_size,
                    generator=torch.Generator().manual_seed(4))
    return PersonaVector(vectors=scale * v, meta=VectorMeta(model="tiny-random", trait="x", layer=layer))


def test_rows_per_alpha_and_prompt_alpha_zero_is_unsteered(tiny):
    model, tok = tiny
    rows = steer_answers(model, tok, _vec(model), PROMPTS, alphas=[0.0, 30.0], layer=1, settings=SETTINGS)
    assert [(r["alpha"], r["prompt"], r["layer"], r["ablated"]) for r in rows] == [
        (0.0, "Hello there", 1, False), (0.0, "Tell me a story", 1, False),
        (30.0, "Hello there", 1, False), (30.0, "Tell me a story", 1, False)]
    plain = generate(model, tok, [[{"role": "user", "content": p}] for p in PROMPTS], SETTINGS)
    assert [r["answer"] for r in rows[:2]] == plain
    assert [r["answer"] for r in rows[2:]] != plain
    # the hooks are removed afterwards
    assert generate(model, tok, [[{"role": "user", "content": p}] for p in PROMPTS], SETTINGS) == plain


def test_steering_uses_the_unit_direction(tiny):
    """alpha is in residual-stream units: scaling the stored vector does not change the steered answers."""
    model, tok = tiny
    vec = _vec(model, scale=1000.0)
    with steering(model, unit(vec.at(1)), 1, 2.0):
        expected = generate(model, tok, [[{"role": "user", "content": p}] for p in PROMPTS], SETTINGS)
    for v in (vec, _vec(model)):
        rows = steer_answers(model, tok, v, PROMPTS, alphas=[2.0], layer=1, settings=SETTINGS)
        assert [r["answer"] for r in rows] == expected


def test_ablation_and_the_files_recommended_layer(tiny, tmp_path):
    model, tok = tiny
    path = save_vector(tmp_path / "v.safetensors", _vec(model, layer=2))
    rows = steer_answers(model, tok, path, PROMPTS, alphas=[1.0, 2.0], ablate=True, settings=SETTINGS)
    assert [(r["alpha"], r["ablated"], r["layer"], r["prompt"]) for r in rows] == [
        (None, True, 2, "Hello there"), (None, True, 2, "Tell me a story")]
    assert all(isinstance(r["answer"], str) for r in rows)


def test_check_fits_rejects_a_vector_of_another_model(tiny):
    model, tok = tiny
    check_fits(_vec(model), model, "v.safetensors", "tiny-random")  # fits: no error
    wrong_hidden = PersonaVector(vectors=torch.zeros(3, model.config.hidden_size + 1), meta=VectorMeta(
        model="m", trait="x"))
    with pytest.raises(InputError, match=r"v.safetensors: vectors shape \(3, 65\) does not fit tiny-random "
                                         r"\(2 layers, hidden 64\)"):
        check_fits(wrong_hidden, model, "v.safetensors", "tiny-random")
    wrong_depth = PersonaVector(vectors=torch.zeros(5, model.config.hidden_size), meta=VectorMeta(model="m",
                                                                                                 trait="x"))
    with pytest.raises(InputError, match="does not fit"):
        check_fits(wrong_depth, model, "v")
    with pytest.raises(InputError, match="x vector: vectors shape"):
        steer_answers(model, tok, wrong_depth, PROMPTS, alphas=[1.0], layer=1, settings=SETTINGS)
