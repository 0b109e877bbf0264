"""`EmscopeTrainer`: TRL's `SFTTrainer` with the in-training defenses composed into the loss.

The policy forward returns hidden states only; the LM head then runs in checkpointed chunks (no `(tokens, vocab)`
logits held; measured faster than TRL's fused-head loss on CPU, see BENCHMARKS.md). The trainer holds the enabled
defenses (`Active`, from the registry in `emscope.train.defenses`) and composes them through their hooks: forward
contexts around the training forward passes (preventive steering, on the reference pass too so that KL/LDIFS do
not penalise it; monitors, evaluation and saved weights never see it); one reference forward when any defense
needs it (the same weights with the adapter disabled: no second copy in memory; full fine-tuning needs a frozen
copy); the KL inside the chunked head pass; every other term from its pure function. Each term is added as
`weight * term` and logged per step under the defense's name. `loss_impl: trl` keeps TRL's loss for plain SFT.
Models whose logits are transformed after the LM head (soft-capping, logit scales) pass that transform, as read
from their config by `logit_transform`, into the chunked head sums.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from trl import SFTTrainer

from emscope.data.tokenize import IGNORE_INDEX
from emscope.train.defenses import Active
from emscope.train.defenses.kl import next_token_positions
from emscope.train.head_loss import LogitTransform, fused_head_sums, head_sums, plain_linear_weight

# Config fields of models whose logits are not simply lm_head(final hidden state), and how each model family
# applies a scale field to lm_head(h), by the prefix of its (text) config's model_type, as in
# transformers 5.23's modeling code: "mul" z * s, "div" z / s, "ignored" (in the config, unused by the model).
# `final_logit_softcapping` is c * tanh(z / c) in every family, after the scale (Muse's output_multiplier).
_SCALE_RULES = {
    "logit_scale": {"cohere": "mul", "mpt": "ignored"},
    "output_multiplier": {"muse_": "mul"},
    "lm_head_multiplier": {"falcon_h1": "mul"},
    "logits_scaling": {"granite": "div", "minicpm3": "div", "hyperclovax": "mul"},
}


def _unset(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1)


def logit_transform(config) -> LogitTransform:
    """The transform from lm_head outputs to the model's logits, read from a model config (its text config for
    multimodal models); NotImplementedError for a transform field this does not know how the model applies."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    model_type = str(getattr(text, "model_type", "") or getattr(config, "model_type", ""))
    scale = 1.0
    for field, rules in _SCALE_RULES.items():
        value = getattr(text, field, None)
        if _unset(value):
            continue
        how = next((h for prefix, h in rules.items() if model_type.startswith(prefix)), None)
        if how == "ignored":
            continue
        if how is None or not isinstance(value, (int, float)):
            raise NotImplementedError(
                f"model type {model_type!r} sets {field}={value!r}, a transform of the logits after the LM head "
                f"that emscope's chunked loss does not implement for this model family (known: "
                f"{', '.join(p for p, h in rules.items() if h != 'ignored')}); use train.loss_impl=trl without "
                "KL/LDIFS")
        scale = scale * float(value) if how == "mul" else scale / float(value)
    cap = getattr(text, "final_logit_softcapping", None)
    if cap is not None and not isinstance(cap, (int, float)):
        raise NotImplementedError(f"model type {model_type!r}: final_logit_softcapping={cap!r} is not a number")
    return LogitTransform(scale=scale, softcap=float(cap) if cap else None)


class EmscopeTrainer(SFTTrainer):
    """SFTTrainer whose loss composes the enabled defenses (loss terms, forward contexts)."""

    def __init__(self, *args, defenses: list[Active] | None = None, trl_loss: bool = False, ref_model=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.defenses = list(defenses or [])
        self.trl_loss = trl_loss
        self.ref_model = ref_model
        self.head_kl = next((a for a in self.defenses if a.defense.head_kl), None)
        self.needs_reference = any(a.defense.needs_reference for a in self.defenses)
        self.logit_transform = LogitTransform()
        if not self.trl_loss or self.needs_reference:  # the chunked head sums run: they need the model's transform
            self.logit_transform = logit_transform(self.accelerator.unwrap_model(self.model).config)

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """Checkpoint saves: adapters without the embedding-layer check (it looks the base up on the hub); then
        each defense's own state (`save_state`: alignment gates) beside the weights."""
        unwrapped = self.accelerator.unwrap_model(self.model)
        if not hasattr(unwrapped, "peft_config") or not self.args.should_save:
            super()._save(output_dir, state_dict)
        else:
            unwrapped.save_pretrained(output_dir or self.args.output_dir, state_dict=state_dict,
                                      save_embedding_layers=False)
            if self.processing_class is not None:
                self.processing_class.save_pretrained(output_dir or self.args.output_dir)
        if self.args.should_save:
            for a in self.defenses:
                if a.defense.save_state is not None:
                    a.defense.save_state(a.settings, Path(output_dir or self.args.output_dir))

    def _forward_contexts(self, model, reference: bool = False, capture: bool = False) -> contextlib.ExitStack:
        """Every defense's context around the policy forward (e.g. the steering hook), entered together; for the
        reference pass (`reference`), those of defenses marked `reference_too`; with `capture`, also every
        defense's `capture` context (activations recorded for its term)."""
        stack = contextlib.ExitStack()
        unwrapped = self.accelerator.unwrap_model(model)
        for a in self.defenses:
            if a.defense.forward is not None and (a.defense.reference_too or not reference):
                stack.enter_context(a.defense.forward(a.settings, unwrapped))
            if capture and a.defense.capture is not None:
                stack.enter_context(a.defense.capture(a.settings, unwrapped, reference, self.processing_class))
        return stack

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
            return fused_head_sums(weight, ref_weight, h, ref_h, targets, ce_mask, kl_mask, self.head_kl is not None,
                                   transform=self.logit_transform)
        adapter_off = self.ref_model is None and hasattr(unwrapped, "disable_adapter")
        ctx = unwrapped.disable_adapter if adapter_off else contextlib.nullcontext
        return head_sums(head, ref_head, ctx, h, ref_h, targets, ce_mask, kl_mask, self.head_kl is not None,
                         transform=self.logit_transform)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Task loss through the chunked LM head plus each enabled defense's weighted term, the defenses' forward
        contexts around the policy forward; TRL's own loss for evaluation or when `trl_loss` is set."""
        mode = "train" if self.model.training else "eval"
        if (self.trl_loss and not self.needs_reference) or mode == "eval" or return_outputs:
            with self._forward_contexts(model) if mode == "train" else contextlib.nullcontext():
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        fwd = {k: v for k, v in inputs.items() if k != "labels"}
        # hidden states only: the LM head runs chunk by chunk in _head_sums (logits_to_keep=1 skips full logits)
        fwd.update(use_cache=False, output_hidden_states=True, logits_to_keep=1)
        with self._forward_contexts(model, capture=True):
            out = model(**fwd)
        ref = None
        if self.needs_reference:
            with torch.no_grad(), self._reference(model) as ref_model, \
                    self._forward_contexts(ref_model, True, capture=True):
                ref = ref_model(**fwd)

        kl = self.head_kl
        targets = inputs["labels"][:, 1:]
        ce_mask = targets != IGNORE_INDEX
        kl_mask = next_token_positions(inputs, kl.settings.tokens) if kl else torch.zeros_like(ce_mask)
        d = out.hidden_states[-1].shape[-1]
        nll, kl_sum = self._head_sums(model, out.hidden_states[-1][:, :-1].reshape(-1, d),
                                      ref.hidden_states[-1][:, :-1].reshape(-1, d) if kl else None,
                                      targets.reshape(-1), ce_mask.reshape(-1), kl_mask.reshape(-1))
        denom = num_items_in_batch if num_items_in_batch is not None else ce_mask.sum()
        loss = nll / torch.as_tensor(denom, device=nll.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            # `num_items_in_batch` counts the tokens of every rank and DDP averages the gradients across ranks: scale
            # back up, as Trainer.compute_loss and TRL do (tensor-parallel ranks share one batch)
            loss = loss * (self.accelerator.num_processes // self.get_tp_size())
        div = self._ga_divisor(num_items_in_batch)
        values = {}
        for a in self.defenses:
            if a.defense.head_kl:
                value = kl_sum / kl_mask.sum().clamp(min=1)
            elif a.defense.term is not None:
                value = a.defense.term(a.settings, out, ref, inputs)
            else:
                continue
            loss = loss + a.settings.weight * value / div
            values[a.name] = value.detach().float()
        # logged over every process: the task loss over all ranks' tokens, each defense term's mean over ranks, and
        # the tokens seen (as TRL's SFTTrainer counts them, attention-mask sums; padding-free: sequence lengths)
        if "attention_mask" in inputs:
            tokens = inputs["attention_mask"].sum()
        else:
            tokens = torch.tensor(inputs["position_ids"].size(1), device=inputs["position_ids"].device)
        local = torch.stack([nll.detach().float(), ce_mask.sum().float(), tokens.float(), *values.values()])
        # `gather`, not `gather_for_metrics`: these are per-rank sums, not samples to trim at an epoch's remainder
        ranks = self.accelerator.gather(local.unsqueeze(0)).cpu()
        metrics = self._metrics[mode]
        metrics["task_loss"].append(ranks[:, 0].sum().item() / max(ranks[:, 1].sum().item(), 1))
        for i, name in enumerate(values):
            metrics[name].append(ranks[:, 3 + i].mean().item())
        self._total_train_tokens += int(ranks[:, 2].sum().item()) // self._tp_size  # as TRL counts them
        metrics["num_tokens"] = [self._total_train_tokens]
        return loss
