"""`EmscopeTrainer`: TRL's `SFTTrainer` with the in-training defenses composed into the loss.

The policy forward returns hidden states only; the LM head then runs in checkpointed chunks (no `(tokens, vocab)`
logits held; measured faster than TRL's fused-head loss on CPU, see BENCHMARKS.md). With KL or LDIFS, one
reference forward (the same weights with the adapter disabled: no second copy in memory; full fine-tuning
needs a frozen copy) feeds the pure functions in `emscope.train.defenses`. `loss_impl: trl` keeps TRL's loss
for plain SFT. Preventive
steering wraps only the policy forward, so the reference, evaluation and saved weights never see it. Each term
is logged per step.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from trl import SFTTrainer

from emscope.models.steering import steering
from emscope.train.defenses.ldifs import feature_distance
from emscope.train.head_loss import fused_head_sums, head_sums, plain_linear_weight
from emscope.data.tokenize import IGNORE_INDEX


@dataclass
class LossTerms:
    """The loss-side defenses, resolved for one run (weights, layers, steering vector)."""

    kl_weight: float = 0.0
    kl_tokens: str = "completion"
    ldifs_weight: float = 0.0
    ldifs_layers: list[int] = field(default_factory=list)
    ldifs_tokens: str = "all"
    steer_vector: torch.Tensor | None = None
    steer_layer: int = 0
    steer_alpha: float = 0.0
    kl_enabled: bool = False
    ldifs_enabled: bool = False
    trl_loss: bool = False  # plain SFT through TRL's fused LM-head loss instead of emscope's chunked head

    @property
    def needs_reference(self) -> bool:
        """Whether a reference forward pass is needed."""
        return self.kl_enabled or self.ldifs_enabled


# config fields of models whose logits are not simply lm_head(final hidden state)
_HEAD_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling", "output_multiplier",
                    "lm_head_multiplier")


def _positions(inputs: dict, kind: str) -> torch.Tensor:
    """Bool mask `(batch, seq - 1)` of next-token predictions to regularize ('completion' or 'all')."""
    labels = inputs["labels"]
    if kind == "completion":
        return labels[:, 1:] != IGNORE_INDEX
    if "attention_mask" in inputs and inputs["attention_mask"] is not None:
        valid = inputs["attention_mask"].bool()
        return valid[:, 1:] & valid[:, :-1]
    # padding-free: a position predicting the first token of the next packed sequence is not a prediction
    return inputs["position_ids"][:, 1:] != 0


def _token_positions(inputs: dict, kind: str) -> torch.Tensor:
    """Bool mask `(batch, seq)` of token positions whose hidden states are regularized."""
    if kind == "completion":
        return inputs["labels"] != IGNORE_INDEX
    if "attention_mask" in inputs and inputs["attention_mask"] is not None:
        return inputs["attention_mask"].bool()
    return torch.ones_like(inputs["input_ids"], dtype=torch.bool)


class EmscopeTrainer(SFTTrainer):
    """SFTTrainer whose loss adds the configured KL / LDIFS terms and applies preventive steering."""

    def __init__(self, *args, terms: LossTerms | None = None, ref_model=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.terms = terms or LossTerms()
        self.ref_model = ref_model
        if not self.terms.trl_loss or self.terms.needs_reference:
            text = self.accelerator.unwrap_model(self.model).config.get_text_config()
            scaled = [k for k in _HEAD_TRANSFORMS if getattr(text, k, None) not in (None, 1, 1.0)]
            if scaled:
                raise NotImplementedError(f"models whose logits are transformed after the LM head ({', '.join(scaled)})"
                                          " need train.loss_impl=trl and no KL/LDIFS for now")

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """Checkpoint saves: adapters without the embedding-layer check (it looks the base up on the hub)."""
        unwrapped = self.accelerator.unwrap_model(self.model)
        if not hasattr(unwrapped, "peft_config") or not self.args.should_save:
            return super()._save(output_dir, state_dict)
        output_dir = output_dir or self.args.output_dir
        unwrapped.save_pretrained(output_dir, state_dict=state_dict, save_embedding_layers=False)
        if self.processing_class is not None:
            self.processing_class.save_pretrained(output_dir)

    def _steer(self, model):
        t = self.terms
        if t.steer_vector is None:
            return contextlib.nullcontext()
        return steering(self.accelerator.unwrap_model(model), t.steer_vector, t.steer_layer, t.steer_alpha)

    def _reference(self, model):
        if self.ref_model is not None:
            return contextlib.nullcontext(self.ref_model)
        unwrapped = self.accelerator.unwrap_model(model)
        if not hasattr(unwrapped, "disable_adapter"):
            raise RuntimeError("KL/LDIFS need a PEFT adapter to disable, or a reference model for full fine-tuning")

        @contextlib.contextmanager
        def disabled():
            with unwrapped.disable_adapter():
                yield model
        return disabled()

    def _ga_divisor(self, num_items_in_batch) -> int:
        """Accumulation steps to divide a per-micro-batch mean by, when the Trainer will not do it itself."""
        scaled = self.loss_is_scaled_for_ga
        if scaled is None:
            scaled = (self.model_accepts_loss_kwargs and num_items_in_batch is not None) or \
                self.compute_loss_func is not None
        return self.current_gradient_accumulation_steps if scaled else 1

    def _head_sums(self, model, h, ref_h, targets, ce_mask, kl_mask):
        unwrapped = self.accelerator.unwrap_model(model)
        head = unwrapped.get_output_embeddings()
        ref_head = self.ref_model.get_output_embeddings() if self.ref_model is not None else head
        weight, ref_weight = plain_linear_weight(head), plain_linear_weight(ref_head)
        if weight is not None and ref_weight is not None:
            return fused_head_sums(weight, ref_weight, h, ref_h, targets, ce_mask, kl_mask, self.terms.kl_enabled)
        adapter_off = self.ref_model is None and hasattr(unwrapped, "disable_adapter")
        ctx = unwrapped.disable_adapter if adapter_off else contextlib.nullcontext
        return head_sums(head, ref_head, ctx, h, ref_h, targets, ce_mask, kl_mask, self.terms.kl_enabled)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Task loss through the chunked LM head (+ weighted KL/LDIFS terms when on), steering around the policy
        forward; TRL's own loss for evaluation or when `trl_loss` is set."""
        t = self.terms
        mode = "train" if self.model.training else "eval"
        if (t.trl_loss and not t.needs_reference) or mode == "eval" or return_outputs:
            with self._steer(model) if mode == "train" else contextlib.nullcontext():
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        fwd = {k: v for k, v in inputs.items() if k != "labels"}
        # hidden states only: the LM head runs chunk by chunk in _head_sums (logits_to_keep=1 skips full logits)
        fwd.update(use_cache=False, output_hidden_states=True, logits_to_keep=1)
        with self._steer(model):
            out = model(**fwd)
        ref = None
        if t.needs_reference:
            with torch.no_grad(), self._reference(model) as ref_model:
                ref = ref_model(**fwd)

        labels = inputs["labels"]
        targets = labels[:, 1:]
        ce_mask = targets != IGNORE_INDEX
        kl_mask = _positions(inputs, t.kl_tokens) if t.kl_enabled else torch.zeros_like(ce_mask)
        d = out.hidden_states[-1].shape[-1]
        nll, kl_sum = self._head_sums(model, out.hidden_states[-1][:, :-1].reshape(-1, d),
                                      ref.hidden_states[-1][:, :-1].reshape(-1, d) if t.kl_enabled else None,
                                      targets.reshape(-1), ce_mask.reshape(-1), kl_mask.reshape(-1))
        denom = num_items_in_batch if num_items_in_batch is not None else ce_mask.sum()
        loss = nll / torch.as_tensor(denom, device=nll.device).clamp(min=1)
        div = self._ga_divisor(num_items_in_batch)
        metrics = self._metrics[mode]
        metrics["task_loss"].append(nll.detach().item() / max(int(ce_mask.sum()), 1))
        if t.kl_enabled:
            kl = kl_sum / kl_mask.sum().clamp(min=1)
            loss = loss + t.kl_weight * kl / div
            metrics["kl"].append(kl.detach().item())
        if t.ldifs_enabled:
            d_sum, n = feature_distance(out.hidden_states, ref.hidden_states, t.ldifs_layers,
                                        _token_positions(inputs, t.ldifs_tokens))
            dist = d_sum / n.clamp(min=1)
            loss = loss + t.ldifs_weight * dist / div
            metrics["ldifs"].append(dist.detach().item())
        if "attention_mask" in inputs:
            self._total_train_tokens += int(inputs["attention_mask"].sum().item())
        else:
            self._total_train_tokens += int(inputs["position_ids"].size(1))
        metrics["num_tokens"] = [self._total_train_tokens]
        return loss
