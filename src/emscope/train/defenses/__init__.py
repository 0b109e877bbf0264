"""In-training defenses against emergent misalignment, each a small pure function (see each module).

- `kl`: KL(p_theta || p_ref) per token, the reference being the model with its adapter disabled.
- `ldifs`: squared distance between normalized hidden states of the trained and the reference model.
- `steer`: preventive steering, adding alpha * v to the residual stream during training only.
- `interleave`: mixing general instruct data, chosen at random or by the perplexity gap.
- `inoculate`: a train-time system prompt (the `emscope.data.transforms.inoculate` transform).
"""

from emscope.train.defenses.interleave import ppl_gap, select_by_gap
from emscope.train.defenses.kl import token_kl
from emscope.train.defenses.ldifs import feature_distance

__all__ = ["feature_distance", "ppl_gap", "select_by_gap", "token_kl"]
