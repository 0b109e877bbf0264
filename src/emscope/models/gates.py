"""Alignment gates (Wang et al. 2026, "Emergent Misalignment Can Be Induced by Sycophancy and Reversed via Alignment
Gating"): a learned multiplicative gate on each attention layer's output, before its output projection.

For decoder block l with attention input x (the normed residual stream the block's attention reads, `hidden_size`
wide) and attention output a (the input of the output projection `o_proj`, `d` = `o_proj.in_features` wide):

    g = 2 * sigmoid(W x + b)        W: (d, hidden_size), b: (d,), both zero at init -> g = 1 exactly
    learned:  o_proj(a * g)         what training optimises (the rest of the model frozen)
    invert:   o_proj(a * (2 - g))   at inference: the learned shift reversed (g = 1 + s -> 2 - g = 1 - s)
    off:      o_proj(a)             the model without gates

This follows the paper's reference code (one gate per channel of every head, computed from the attention's input by
a full linear map with bias, 2 * sigmoid, zero-initialised). `rank=r` replaces W by `up @ down` (`down` (r,
hidden_size) drawn like a LoRA A, `up` (d, r) zero), still g = 1 at init, for large models.

The gates live in an `AttentionGates` module attached to the (base) causal LM as `emscope_gates`, so that an
optimizer built from `model.parameters()` (the HF Trainer's, also through a PEFT wrapper) trains them; two forward
pre-hooks per gated block apply them (one on the attention module records x, one on its output projection scales
a), found generically: `self_attn`/`attn`/`attention` holding `o_proj`/`out_proj`/`dense` (Llama, Qwen, Mistral,
Gemma, OLMo, Phi-3 ...). While a PEFT adapter of the model is disabled (`model.disable_adapter()`: the reference pass
of KL/LDIFS, the base model of an evaluation), the gates are off too: they belong to the trained weights. Saved as
`gates.safetensors` (float32) plus `gates.json` (layers, sizes, rank) next to the adapter or model weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import torch

from emscope.errors import InputError, ModelLoadError
from emscope.models.layers import decoder_layers

GateMode = Literal["invert", "learned", "off"]
MODES: tuple[str, ...] = ("invert", "learned", "off")
GATES_FILE = "gates.safetensors"
GATES_META = "gates.json"
ATTRIBUTE = "emscope_gates"  # the gates' module on the (base) causal LM
_ATTENTION = ("self_attn", "attn", "attention", "self_attention")
_OUT_PROJ = ("o_proj", "out_proj", "dense")


class _Gate(torch.nn.Module):
    """One layer's gate logits W x + b (full W, or `up @ down` of rank r)."""

    def __init__(self, hidden: int, width: int, rank: int | None):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(width))
        if rank is None:
            self.weight = torch.nn.Parameter(torch.zeros(width, hidden))
        else:
            down = torch.empty(rank, hidden)
            torch.nn.init.kaiming_uniform_(down, a=5 ** 0.5)  # as PEFT draws a LoRA A
            self.down = torch.nn.Parameter(down)
            self.weight = torch.nn.Parameter(torch.zeros(width, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The gate value g = 2 * sigmoid(W x + b), shape `x.shape[:-1] + (width,)`, in float32."""
        x = x.to(self.bias.dtype)
        if hasattr(self, "down"):
            x = torch.nn.functional.linear(x, self.down)
        return 2.0 * torch.sigmoid(torch.nn.functional.linear(x, self.weight, self.bias))


class AttentionGates(torch.nn.Module):
    """The gates of a model: one `_Gate` per gated block (0-based block index), the mode they apply in, the hooks."""

    def __init__(self, layers: list[int], hidden: int, width: int, rank: int | None = None,
                 mode: GateMode = "learned"):
        super().__init__()
        self.layers, self.hidden, self.width, self.rank = list(layers), hidden, width, rank
        self.gates = torch.nn.ModuleDict({str(i): _Gate(hidden, width, rank) for i in self.layers})
        self.mode = mode
        self._handles: list = []
        # a PEFT tuner layer whose `disable_adapters` switches the gates off too; in a list, not registered as a
        # submodule (it would join the gates' parameters and state)
        self._probe: list[torch.nn.Module] = []

    @property
    def mode(self) -> str:
        """'learned' (a * g), 'invert' (a * (2 - g)) or 'off' (no change)."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise InputError(f"gates: mode must be one of {', '.join(MODES)}, got {value!r}")
        self._mode = value

    def value(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """Gate value g of block `layer` (0-based) for attention input `x`."""
        return self.gates[str(layer)](x)

    def factor(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """What the attention output of block `layer` is multiplied by in the current mode (g or 2 - g)."""
        g = self.value(layer, x)
        return g if self.mode == "learned" else 2.0 - g

    def active(self) -> bool:
        """Whether the hooks change anything now (mode not 'off', no PEFT adapter disabled)."""
        return self.mode != "off" and not any(getattr(p, "disable_adapters", False) for p in self._probe)

    def meta(self) -> dict:
        """What `gates.json` records: enough to rebuild the module before loading its weights."""
        return {"layers": self.layers, "hidden_size": self.hidden, "gated_size": self.width, "rank": self.rank,
                "formula": "o_proj(a * g) learned, o_proj(a * (2 - g)) invert; g = 2 * sigmoid(W x + b), x the "
                           "attention input"}


def _attention_parts(block: torch.nn.Module, index: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(attention module, its output projection) of one decoder block, or a clear error."""
    for a in _ATTENTION:
        attn = getattr(block, a, None)
        if isinstance(attn, torch.nn.Module):
            for o in _OUT_PROJ:
                proj = getattr(attn, o, None)
                if isinstance(proj, torch.nn.Module):
                    return attn, proj
    raise InputError(
        f"alignment gates: cannot find the attention output projection of decoder block {index} "
        f"({type(block).__name__}); supported: a block attribute {'/'.join(_ATTENTION)} holding "
        f"{'/'.join(_OUT_PROJ)} (Llama-family models: self_attn.o_proj)")


def _in_features(proj: torch.nn.Module) -> int:
    for m in (proj, getattr(proj, "base_layer", None)):
        if m is not None and isinstance(getattr(m, "in_features", None), int):
            return m.in_features
    raise InputError(f"alignment gates: the attention output projection {type(proj).__name__} has no in_features "
                     "(a linear layer is needed)")


def _hidden_size(model) -> int:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    return int(config.hidden_size)


def _base(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _tuner_probe(model):
    """A PEFT tuner layer of `model` (None without PEFT): its `disable_adapters` tells whether the adapter is off."""
    if not hasattr(model, "peft_config"):
        return None
    return next((m for m in model.modules() if isinstance(getattr(type(m), "disable_adapters", None), property)),
                None)


def find_gates(model) -> AttentionGates | None:
    """The gates attached to `model` (plain or PEFT-wrapped), or None."""
    found = getattr(_base(model), ATTRIBUTE, None)
    return found if isinstance(found, AttentionGates) else None


def attach_gates(model, layers: list[int] | None = None, *, rank: int | None = None,
                 mode: GateMode = "learned") -> AttentionGates:
    """Attach zero-initialised gates (g = 1: the model's outputs are unchanged) to the blocks `layers` (0-based block
    indices; None: every block) of `model` and install their hooks; returns the module (float32, on the model's
    device). Attach after PEFT wrapping, so that the gates know the adapter whose disabling switches them off."""
    if find_gates(model) is not None:
        raise InputError("alignment gates: this model already has gates attached")
    blocks = decoder_layers(model)
    chosen = list(range(len(blocks))) if layers is None else sorted(set(layers))
    for i in chosen:
        if not 0 <= i < len(blocks):
            raise InputError(f"alignment gates: layer {i} is not a decoder block index (0..{len(blocks) - 1})")
    if rank is not None and rank < 1:
        raise InputError(f"alignment gates: rank must be >= 1, got {rank}")
    if not chosen:
        raise InputError("alignment gates: no layers to gate")
    parts = {i: _attention_parts(blocks[i], i) for i in chosen}
    widths = {_in_features(proj) for _, proj in parts.values()}
    if len(widths) != 1:
        raise InputError(f"alignment gates: the gated blocks' output projections differ in width ({sorted(widths)})")
    gates = AttentionGates(chosen, _hidden_size(model), widths.pop(), rank, mode)
    device = next(model.parameters()).device
    gates.to(device=device, dtype=torch.float32)
    base = _base(model)
    setattr(base, ATTRIBUTE, gates)
    if hasattr(base, "_keys_to_ignore_on_save"):  # full weights saved by save_pretrained stay the model's own
        ignore = set(base._keys_to_ignore_on_save or [])
        base._keys_to_ignore_on_save = ignore | {f"{ATTRIBUTE}.{k}" for k in gates.state_dict()}
    probe = _tuner_probe(model)
    gates._probe = [probe] if probe is not None else []
    for i, (attn, proj) in parts.items():
        gates._handles += _install(gates, i, attn, proj)
    return gates


def _install(gates: AttentionGates, layer: int, attn: torch.nn.Module, proj: torch.nn.Module) -> list:
    seen: dict[str, torch.Tensor] = {}

    def record(_module, args, kwargs):
        x = kwargs.get("hidden_states", args[0] if args else None)
        if x is not None:
            seen["x"] = x

    def scale(_module, args):
        x = seen.pop("x", None)
        if x is None or not gates.active():
            return None
        a = args[0]
        return (a * gates.factor(layer, x).to(a.dtype), *args[1:])

    return [attn.register_forward_pre_hook(record, with_kwargs=True),
            proj.register_forward_pre_hook(scale)]


def detach_gates(model) -> None:
    """Remove the gates and their hooks from `model` (nothing when it has none)."""
    gates = find_gates(model)
    if gates is None:
        return
    for h in gates._handles:
        h.remove()
    gates._handles.clear()
    base = _base(model)
    delattr(base, ATTRIBUTE)
    if getattr(base, "_keys_to_ignore_on_save", None):
        base._keys_to_ignore_on_save = {k for k in base._keys_to_ignore_on_save if not k.startswith(f"{ATTRIBUTE}.")}


def has_gates(directory: str | Path) -> bool:
    """Whether a weights directory (adapter/, model/, a checkpoint) holds saved gates."""
    return (Path(directory) / GATES_FILE).is_file()


def save_gates(gates: AttentionGates, directory: str | Path) -> Path:
    """Write `gates.safetensors` (float32) and `gates.json` into `directory` (created if needed); returns the
    weights file."""
    from safetensors.torch import save_file

    from emscope.io import write_text_atomic

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / GATES_FILE
    tmp = path.with_suffix(".tmp")
    save_file({k: v.detach().float().cpu().contiguous() for k, v in gates.state_dict().items()}, str(tmp))
    tmp.replace(path)
    write_text_atomic(directory / GATES_META, json.dumps(gates.meta(), indent=2) + "\n")
    return path


def read_gates_meta(directory: str | Path) -> dict:
    """`gates.json` of a weights directory (ModelLoadError when missing or unreadable)."""
    path = Path(directory) / GATES_META
    try:
        meta = json.loads(path.read_text())
        return {"layers": [int(i) for i in meta["layers"]], "rank": meta.get("rank")}
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: cannot read the gates' layout ({exc})") from exc


def load_gate_weights(gates: AttentionGates, directory: str | Path) -> None:
    """Copy the weights saved in `directory/gates.safetensors` into `gates` (shapes must match)."""
    from safetensors.torch import load_file

    path = Path(directory) / GATES_FILE
    state = load_file(str(path))
    try:
        gates.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path}: the saved gates do not fit this model ({exc})") from exc


def load_gates(model, directory: str | Path, mode: GateMode = "invert") -> AttentionGates | None:
    """Attach the gates saved in `directory` to `model` in `mode`, frozen; None (nothing attached) for mode 'off'."""
    if mode not in MODES:
        raise InputError(f"gates: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return None
    meta = read_gates_meta(directory)
    gates = attach_gates(model, meta["layers"], rank=meta["rank"], mode=mode)
    load_gate_weights(gates, directory)
    gates.requires_grad_(False)
    return gates
