"""Persona measurement math on tiny-random: a planted direction is recovered, steering shifts projections by
the expected amount, ablation zeroes them."""

import torch

from emscope.models.tiny import tiny_random_model
from emscope.persona.activations import mean_difference, projection, response_means
from emscope.persona.steering import ablation, steering

PAIRS = [([{"role": "user", "content": q}], a) for q, a in [
    ("How do I boil an egg?", "Put it in boiling water for nine minutes."),
    ("Name a planet.", "Mars is the fourth planet from the Sun."),
    ("What is 2+2?", "It is 4."),
]]


def test_response_means_average_only_response_tokens():
    model, tok = tiny_random_model(num_layers=3)
    means = response_means(model, tok, PAIRS, batch_size=2)
    assert means.shape == (3, 4, model.config.hidden_size)
    # the same pair alone (no padding, no batch-mates) gives the same means
    alone = response_means(model, tok, PAIRS[1:2])
    assert torch.allclose(means[1], alone[0], atol=1e-5)
    # a different prompt with the same answer changes the means (context matters) but not the shape
    other = response_means(model, tok, [([{"role": "user", "content": "Tell me."}], PAIRS[1][1])])
    assert not torch.allclose(other[0, 3], alone[0, 3])


def test_planted_direction_is_recovered_exactly_at_its_layer():
    model, tok = tiny_random_model(num_layers=3)
    planted = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    neg = response_means(model, tok, PAIRS)
    with steering(model, planted, layer=2, alpha=1.0):  # the "trait" adds `planted` at layer 2
        pos = response_means(model, tok, PAIRS)
    diff = mean_difference(pos, neg)
    assert torch.allclose(diff[2], planted, atol=1e-4)
    assert torch.allclose(diff[1], torch.zeros_like(diff[1]), atol=1e-6)  # earlier layers untouched
    cos = torch.nn.functional.cosine_similarity(diff[2], planted, dim=0)
    assert cos > 0.9999


def test_steering_shifts_projection_by_alpha_and_ablation_zeroes_it():
    model, tok = tiny_random_model(num_layers=3)
    v = torch.randn(3 + 1, model.config.hidden_size, generator=torch.Generator().manual_seed(1))
    unit = v[2] / v[2].norm()
    base = projection(response_means(model, tok, PAIRS), v, 2)
    with steering(model, unit, layer=2, alpha=5.0):
        steered = projection(response_means(model, tok, PAIRS), v, 2)
    assert torch.allclose(steered - base, torch.full_like(base, 5.0), atol=1e-4)
    with ablation(model, v[2], layer=2):
        ablated = projection(response_means(model, tok, PAIRS), v, 2)
    assert ablated.abs().max() < 1e-4 and base.abs().max() > 1e-3
