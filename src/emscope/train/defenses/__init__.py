"""In-training defenses against emergent misalignment: one registry, one module per defense.

Each module holds its settings model (the key under `defenses:` in a training YAML), its pure functions and a
`DEFENSE` (`emscope.train.defenses.base.Defense`) naming the hooks through which the trainer composes it.
- `kl`: KL(p_theta || p_ref) per token, the reference being the model with its adapter disabled.
- `ldifs`: squared distance between normalized hidden states of the trained and the reference model.
- `steer`: preventive steering, adding alpha * v to the residual stream during training only.
- `interleave`: mixing general instruct data, chosen at random or by the perplexity gap.
- `inoculate`: a train-time inoculation text on every task row (system prompt, or in front of the user turn).
- `gate`: alignment gating, gates on the attention outputs trained alone, inverted (2 - g) at evaluation.
- `treft`: relative drift of the chat template's prefix (or postfix) keys and values from the reference.
Adding a defense: a new module with its settings model, functions and `DEFENSE`, listed in `_MODULES` below.
"""

from __future__ import annotations

import importlib

from pydantic import create_model

from emscope.config import Strict
from emscope.train.defenses.base import Active, Defense, RowContext

# this order: config, logs and summaries
_MODULES = ("kl", "ldifs", "steer", "interleave", "inoculate", "gate", "treft")

REGISTRY: dict[str, Defense] = {}
for _name in _MODULES:
    _defense = importlib.import_module(f"{__name__}.{_name}").DEFENSE
    REGISTRY[_defense.name] = _defense


class _DefensesBase(Strict):
    def enabled(self) -> list[str]:
        """Names of the enabled defenses, in registry order."""
        return [k for k in REGISTRY if getattr(self, k) is not None]

    def items(self) -> list[tuple[Defense, Strict]]:
        """(defense, settings) of every enabled defense, in registry order."""
        return [(REGISTRY[k], getattr(self, k)) for k in self.enabled()]


Defenses = create_model(
    "Defenses", __base__=_DefensesBase, __doc__="In-training defenses; any combination may be enabled.",
    **{name: (d.settings | None, None) for name, d in REGISTRY.items()})

__all__ = ["REGISTRY", "Active", "Defense", "Defenses", "RowContext"]
