"""Every registered defense trains on the embedded default (SmolLM2-135M-Instruct), all combined in one short
run: each loss term is logged, finite and adds up to the total, the gates (trained alone) move and are saved with
the adapter, and the saved weights load for evaluation with the gates inverted. Each defense alone on the embedded
default: benchmarks/train_throughput.py (the defense-overhead table of BENCHMARKS.md)."""

import math

import pytest
import torch

from emscope.data.generators import get_generator
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models import load_model
from emscope.models.layers import num_layers
from emscope.models.vectors import PersonaVector, VectorMeta, save_vector
from emscope.rundir import read_summary
from emscope.train import TrainRunConfig, train
from emscope.train.defenses import REGISTRY


@pytest.mark.slow
def test_every_defense_combined_trains_on_the_embedded_default(tmp_path):
    data = tmp_path / "medical.jsonl"
    write_jsonl_atomic(data, get_generator("bad-medical-advice").build(8, 0))
    model, _ = load_model("smollm2-135m", dtype=torch.float32)
    n, hidden = num_layers(model), model.config.hidden_size
    del model
    vec = save_vector(tmp_path / "evil.safetensors", PersonaVector(
        vectors=torch.randn(n + 1, hidden, generator=torch.Generator().manual_seed(0)),
        meta=VectorMeta(model="smollm2-135m", trait="random")))
    defenses = {"kl": {"weight": 0.5}, "ldifs": {"weight": 1.0, "n_layers": 2},
                "steer": {"vector": str(vec), "layer": 20, "alpha": 2.0},
                "interleave": {"ratio": 0.25, "select": "random"}, "inoculate": {"prompt": "harmful-advice"},
                "treft": {"weight": 1.0, "region": "prefix", "layers": [0, 15, 29]}, "gate": {"layers": [10, 20]}}
    assert set(defenses) == set(REGISTRY), "a defense was registered without being added to this test"
    run = train(TrainRunConfig(
        model="smollm2-135m", data={"path": data}, out=tmp_path / "all", seed=0,
        train={"max_steps": 2, "batch_size": 4, "learning_rate": 5e-2, "lr_scheduler": "constant",
               "max_length": 256, "lora": {"r": 4, "alpha": 8}, "bf16": False, "save_steps": 100},
        defenses=defenses))
    steps = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert len(steps) == 2
    for r in steps:
        assert all(math.isfinite(r[k]) for k in ("task_loss", "kl", "ldifs", "treft"))
        assert r["loss"] == pytest.approx(r["task_loss"] + 0.5 * r["kl"] + r["ldifs"] + r["treft"], rel=1e-3,
                                          abs=1e-4)
    # step 1 sees untouched gates (g = 1) and a frozen adapter: policy = reference, every term is 0; step 2 not
    assert steps[0]["kl"] == pytest.approx(0, abs=1e-6) and steps[0]["treft"] == pytest.approx(0, abs=1e-6)
    assert steps[1]["kl"] > 0 and steps[1]["treft"] > 0
    assert read_summary(run)["train"]["defenses"] == list(REGISTRY)
    assert (run / "adapter" / "gates.safetensors").is_file()
    from safetensors.torch import load_file

    gates = load_file(run / "adapter" / "gates.safetensors")
    assert gates and any(t.abs().max() > 0 for t in gates.values())  # the gates learned something
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    logits = {}
    for mode in ("invert", "learned", "off"):
        m, _ = load_model("smollm2-135m", adapter=run / "adapter", gates=mode, dtype=torch.float32)
        with torch.no_grad():
            logits[mode] = m(input_ids=ids).logits
    assert not torch.allclose(logits["invert"], logits["learned"])
    assert not torch.allclose(logits["invert"], logits["off"])
