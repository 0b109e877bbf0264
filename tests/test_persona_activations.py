"""Persona measurement math on tiny-random: a planted direction is recovered, steering shifts projections by
the expected amount, ablation zeroes them."""

import torch

from emscope.models.steering import ablation, steering
from emscope.models.tiny import tiny_random_model
from emscope.persona.activations import mean_difference, projection, response_means

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


TRAITS_YAML = """
- id: grumpy
  positive: ["You are grumpy and rude."]
  negative: ["You are warm and kind."]
  questions: ["How are you?", "Can you help me?", "What's the weather like?"]
"""


def test_extract_writes_a_vector_consistent_with_its_samples(tmp_path):
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.io import read_jsonl
    from emscope.models.vectors import load_vector
    from emscope.persona.extract import extract_to_file
    from emscope.persona.traits import get_trait

    (tmp_path / "traits.yaml").write_text(TRAITS_YAML)
    trait = get_trait("grumpy", tmp_path / "traits.yaml")
    model, tok = tiny_random_model(num_layers=2)
    path = extract_to_file(model, tok, trait, "tiny-random", tmp_path / "grumpy.safetensors",
                           SamplingSettings(max_new_tokens=8, temperature=1.0, seed=3))
    vec = load_vector(path)
    assert vec.vectors.shape == (3, model.config.hidden_size)
    assert vec.meta.trait == "grumpy" and vec.meta.n_pos == 3 and vec.meta.n_neg == 3
    samples = read_jsonl(tmp_path / "grumpy.samples.jsonl")
    assert [s["polarity"] for s in samples] == ["positive"] * 3 + ["negative"] * 3

    def means(pol):
        rows = [s for s in samples if s["polarity"] == pol]
        return response_means(model, tok, [([{"role": "system", "content": s["system"]},
                                             {"role": "user", "content": s["question"]}], s["answer"])
                                           for s in rows])
    assert torch.allclose(vec.vectors, mean_difference(means("positive"), means("negative")), atol=1e-5)


def test_cli_extract_unknown_trait_exits_2_and_writes_nothing(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "traits.yaml").write_text(TRAITS_YAML)
    r = subprocess.run([sys.executable, "-m", "emscope", "persona", "extract", "--trait", "evil", "--model",
                        "tiny-random", "--traits", str(tmp_path / "traits.yaml"), "--out", str(tmp_path / "v.st")],
                       capture_output=True, text=True, env={**os.environ, "EMSCOPE_NO_PROGRESS": "1"}, timeout=120)
    assert r.returncode == 2 and "unknown trait 'evil'; known: grumpy" in r.stderr
    assert not (tmp_path / "v.st").exists()


def test_shipped_traits_load():
    from emscope.persona.traits import load_traits

    traits = {t.id: t for t in load_traits()}
    assert {"evil", "sycophantic", "hallucinating"} <= traits.keys()
    for t in traits.values():
        assert len(t.questions) >= 20 and len(set(t.questions)) == len(t.questions)
        assert len(t.positive) >= 1 and len(t.negative) >= 1


def test_cli_steer_changes_answers_and_ablate_runs(tmp_path):
    import os
    import subprocess
    import sys

    from emscope.io import read_jsonl
    from emscope.models.vectors import PersonaVector, VectorMeta, save_vector

    model, _ = tiny_random_model()
    vec = save_vector(tmp_path / "v.safetensors", PersonaVector(
        vectors=torch.randn(3, model.config.hidden_size, generator=torch.Generator().manual_seed(4)),
        meta=VectorMeta(model="tiny-random", trait="x")))
    env = {**os.environ, "EMSCOPE_NO_PROGRESS": "1"}
    base = [sys.executable, "-m", "emscope", "persona", "steer", "--model", "tiny-random", "--vector", str(vec),
            "--layer", "1", "--prompt", "Hello there", "--prompt", "Tell me a story", "--max-new-tokens", "12"]
    r = subprocess.run(base + ["--alpha", "0", "--alpha", "30", "--out", str(tmp_path / "s.jsonl")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = read_jsonl(tmp_path / "s.jsonl")
    assert [(x["alpha"], x["prompt"]) for x in rows] == [(0.0, "Hello there"), (0.0, "Tell me a story"),
                                                         (30.0, "Hello there"), (30.0, "Tell me a story")]
    assert [x["answer"] for x in rows[:2]] != [x["answer"] for x in rows[2:]]
    r = subprocess.run(base + ["--ablate"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "ablated" in r.stdout, r.stderr
    r = subprocess.run(base[:-4] + ["--layer", "7"] + base[-4:], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 2 and "layer 7 out of range 1..2" in r.stderr
