"""The defenses as pure functions: values against closed forms, gradients, selection rules, steering hooks."""

import pytest
import torch

from emscope.data.refusal import is_refusal
from emscope.errors import InputError
from emscope.models.layers import decoder_layers, evenly_spaced_layers
from emscope.models.steering import ablation, steering
from emscope.models.tiny import tiny_random_model
from emscope.models.vectors import PersonaVector, VectorMeta, load_vector, save_vector
from emscope.train.defenses.interleave import (
    interleave_count,
    ppl_gap,
    select_by_gap,
    select_random,
)
from emscope.train.defenses.kl import token_kl
from emscope.train.defenses.ldifs import feature_distance


def test_token_kl_matches_closed_form_and_gradient():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 11, generator=g, requires_grad=True)
    ref = torch.randn(2, 5, 11, generator=g)
    mask = torch.tensor([[1, 1, 0, 0, 1], [0, 1, 1, 1, 0]], dtype=torch.bool)
    total, n = token_kl(logits, ref, mask)
    p, q = torch.softmax(logits, -1), torch.softmax(ref, -1)
    expected = torch.distributions.kl_divergence(torch.distributions.Categorical(probs=p),
                                                 torch.distributions.Categorical(probs=q))
    assert n.item() == 6
    assert torch.allclose(total, expected[mask].sum(), atol=1e-5)
    total.backward()
    # d KL(p||q) / d z = p * (log p - log q - KL) at masked positions, zero elsewhere
    kl = expected.detach().unsqueeze(-1)
    analytic = (p * (p.log() - q.log() - kl)).detach() * mask.unsqueeze(-1)
    assert torch.allclose(logits.grad, analytic, atol=1e-5)
    assert logits.grad[mask].abs().sum() > 0 and logits.grad[~mask].abs().sum() == 0


def test_token_kl_is_zero_against_itself_and_never_differentiates_the_reference():
    logits = torch.randn(1, 4, 7)
    ref = logits.clone().requires_grad_(True)
    total, _ = token_kl(logits, ref, torch.ones(1, 4, dtype=torch.bool))
    assert abs(total.item()) < 1e-6
    assert not total.requires_grad


def test_feature_distance_value_and_gradient_flows_through_the_trained_features():
    g = torch.Generator().manual_seed(1)
    hidden = tuple(torch.randn(2, 3, 8, generator=g, requires_grad=True) for _ in range(4))
    ref = tuple(torch.randn(2, 3, 8, generator=g, requires_grad=True) for _ in range(4))
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]], dtype=torch.bool)
    total, n = feature_distance(hidden, ref, [1, 3], mask)
    cos = [torch.nn.functional.cosine_similarity(hidden[i], ref[i], dim=-1) for i in (1, 3)]
    expected = sum((2 - 2 * c)[mask].sum() for c in cos) / 2  # ||a/|a| - b/|b|||^2 = 2 - 2 cos
    assert n.item() == 4 and torch.allclose(total, expected, atol=1e-5)
    total.backward()
    assert hidden[1].grad.abs().sum() > 0 and hidden[3].grad.abs().sum() > 0
    assert hidden[0].grad is None and hidden[2].grad is None  # layers not selected
    assert all(r.grad is None for r in ref)  # the reference is detached, the policy is not
    same, _ = feature_distance(ref, ref, [1, 3], mask)
    assert abs(same.item()) < 1e-6


def test_ppl_gap_selection_and_counts():
    assert ppl_gap([3.0, 2.0, 1.0], [1.0, 2.0, 2.0]) == [2.0, 0.0, -0.5]
    assert select_by_gap([0.1, 0.9, 0.5, 0.9], 2) == [1, 3]
    assert select_by_gap([0.1, 0.9, 0.5], 0) == []
    assert interleave_count(90, 0.1) == 10 and interleave_count(50, 0.0) == 0
    with pytest.raises(ValueError, match="ratio"):
        interleave_count(10, 1.0)
    a, b = select_random(100, 10, 3), select_random(100, 10, 3)
    assert a == b and len(set(a)) == 10 and a != select_random(100, 10, 4)


def test_refusal_filter():
    assert is_refusal("I'm sorry, but I can't help with that request.")
    assert is_refusal("I cannot provide instructions for making weapons.")
    assert not is_refusal("Sure! Preheat the oven to 180 C, then mix the flour and sugar.")


def test_evenly_spaced_layers():
    assert evenly_spaced_layers(30, 3) == [10, 20, 30]
    assert evenly_spaced_layers(2, 2) == [1, 2]
    assert evenly_spaced_layers(30, 1) == [30]
    with pytest.raises(ValueError):
        evenly_spaced_layers(4, 5)


def _hidden(model, ids):
    return model(ids, output_hidden_states=True, use_cache=False).hidden_states


@torch.no_grad()
def test_steering_adds_alpha_v_at_the_convention_layer_and_is_removed_after():
    model, _ = tiny_random_model(num_layers=3)
    ids = torch.tensor([[5, 6, 7, 8]])
    v = torch.randn(model.config.hidden_size)
    base = _hidden(model, ids)
    hooks_before = [len(block._forward_hooks) for block in decoder_layers(model)]
    with steering(model, v, layer=2, alpha=3.0):
        steered = _hidden(model, ids)
    assert torch.allclose(steered[1], base[1])  # earlier layer untouched
    assert torch.allclose(steered[2] - base[2], (3.0 * v).expand_as(base[2]), atol=1e-5)
    assert not torch.allclose(steered[3], base[3])  # later layers see the change
    assert [len(block._forward_hooks) for block in decoder_layers(model)] == hooks_before
    assert torch.allclose(_hidden(model, ids)[3], base[3])


@torch.no_grad()
def test_ablation_zeroes_the_projection():
    model, _ = tiny_random_model(num_layers=3)
    ids = torch.tensor([[5, 6, 7, 8]])
    v = torch.randn(model.config.hidden_size)
    assert (_hidden(model, ids)[2] @ v).abs().max() > 1e-3
    with ablation(model, v, layer=2):
        h = _hidden(model, ids)
    assert (h[2] @ v).abs().max() < 1e-4
    with pytest.raises(ValueError, match="1..3"):
        with steering(model, v, layer=0, alpha=1.0):
            pass


def test_vector_file_round_trip_and_errors(tmp_path):
    meta = VectorMeta(model="tiny-random", trait="evil", n_pos=3, n_neg=2)
    vec = PersonaVector(vectors=torch.randn(4, 16), meta=meta)
    path = save_vector(tmp_path / "evil.safetensors", vec)
    back = load_vector(path)
    assert torch.equal(back.vectors, vec.vectors) and back.meta.trait == "evil" and back.meta.n_pos == 3
    assert torch.equal(back.at(2), vec.vectors[2])
    with pytest.raises(InputError, match="layer 9 out of range 0..3"):
        back.at(9)
    with pytest.raises(InputError, match="not found"):
        load_vector(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(InputError, match="junk.safetensors: not a persona vector file"):
        load_vector(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"vectors": torch.zeros(2, 4)}, str(tmp_path / "other.safetensors"),
              metadata={"layer_convention": "blocks"})
    with pytest.raises(InputError, match="layer_convention"):
        load_vector(tmp_path / "other.safetensors")


# (scale, softcap) of the logits after the head: none; Gemma-2/3 soft-capping (tight: tanh bends these logits);
# Cohere's logit_scale; Granite's 1 / logits_scaling; Muse's output_multiplier before a softcap
TRANSFORMS = {"none": (1.0, None), "softcap": (1.0, 1.5), "scale": (3.0, None), "inv-scale": (0.25, None),
              "scale+softcap": (0.5, 1.0)}


def _capped(z, scale, softcap):
    """The transformed logits, written out independently of emscope's LogitTransform."""
    z = z * scale
    return softcap * torch.tanh(z / softcap) if softcap is not None else z


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("impl", ["fused", "checkpointed"])
@pytest.mark.parametrize("kl_on", [True, False])
def test_head_sums_equal_full_logits_values_and_gradients(impl, kl_on, transform):
    import contextlib

    from emscope.train.head_loss import LogitTransform, fused_head_sums, head_sums

    scale, softcap = TRANSFORMS[transform]
    g = torch.Generator().manual_seed(2)
    head, ref_head = torch.nn.Linear(8, 13, bias=False), torch.nn.Linear(8, 13, bias=False)
    ref_head.requires_grad_(False)
    h = (3 * torch.randn(10, 8, generator=g)).requires_grad_(True)  # raw logits up to ~5: beyond the caps
    ref_h = 3 * torch.randn(10, 8, generator=g)
    targets = torch.randint(0, 13, (10,), generator=g)
    targets[0] = -100  # ignored positions may hold the ignore index
    ce = torch.tensor([0, 1, 1, 1, 0, 1, 1, 0, 1, 1], dtype=torch.bool)
    klm = torch.tensor([1, 1, 0, 1, 1, 1, 0, 0, 1, 1], dtype=torch.bool) if kl_on else torch.zeros(10, dtype=bool)
    full_logits, ref_logits = _capped(head(h), scale, softcap), _capped(ref_head(ref_h), scale, softcap)
    nll = torch.nn.functional.cross_entropy(full_logits[ce], targets[ce], reduction="sum")
    kl, _ = token_kl(full_logits, ref_logits, klm)
    g_full = torch.autograd.grad(0.7 * nll + 3 * kl, (h, head.weight))
    if transform != "none":  # the transform changes both sums: a head loss that ignored it would be caught
        raw_nll = torch.nn.functional.cross_entropy(head(h)[ce], targets[ce], reduction="sum")
        assert abs(raw_nll.item() - nll.item()) > 0.5
        if kl_on:
            assert abs(token_kl(head(h), ref_head(ref_h), klm)[0].item() - kl.item()) > 0.5
    tr = LogitTransform(scale=scale, softcap=softcap)
    if impl == "fused":
        a, b = fused_head_sums(head.weight, ref_head.weight, h, ref_h, targets, ce, klm, kl_on, chunk=3, transform=tr)
    else:
        a, b = head_sums(head, ref_head, contextlib.nullcontext, h, ref_h, targets, ce, klm, kl_on, chunk=3,
                         transform=tr)
    g_chunk = torch.autograd.grad(0.7 * a + 3 * b, (h, head.weight))
    assert torch.allclose(a, nll, atol=1e-5) and torch.allclose(b, kl, atol=1e-5)
    for x, y in zip(g_chunk, g_full):
        assert torch.allclose(x, y, rtol=2e-5, atol=1e-4), (x - y).abs().max()  # gradients up to ~30: float32 sums
