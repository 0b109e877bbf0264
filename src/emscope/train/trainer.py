"""`EmscopeTrainer`: TRL's `SFTTrainer` with the in-training defenses composed into the loss.

The policy forward returns hidden states only; the LM head then runs in checkpointed chunks (no `(tokens, vocab)`
logits held; measured faster than TRL's fused-head loss on CPU, see BENCHMARKS.md). The trainer holds the enabled
defenses (`Active`, from the registry in `emscope.train.defenses`) and composes them through their hooks: forward
contexts around the training forward passes (preventive steering, on the reference pass too so that KL/LDIFS do
not penalise it; monitors, evaluation and saved weights never see it); one reference forward when any defense
needs it (the same weights with the adapter disabled: no second copy in memory; full fine-tuning needs a frozen
copy); the KL inside the chunked head pass; every other term from its pure function. Each term is added as
`weight * term` and logged per step under the defense's name. `loss_impl: trl` keeps TRL's loss for plain SFT.
"""

from __future__ import annotations

import contextlib

import torch
from trl import SFTTrainer

from emscope.data.tokenize import IGNORE_INDEX
from emscope.train.defenses import Active
from emscope.train.defenses.kl import next_token_positions
from emscope.train.head_loss import fused_head_sums, head_sums, plain_linear_weight

# config fields of models whose logits are not simply lm_head(final hidden state)
_HEAD_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling", "output_multiplier",
                    "lm_head_multiplier")


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
        if not self.trl_loss or self.needs_reference:
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

    def _forward_contexts(self, model, reference: bool = False) -> contextlib.ExitStack:
        """Every defense's context around the policy forward (e.g. the steering hook), entered together; for the
        reference pass (`reference`), those of defenses marked `reference_too`."""
        stack = contextlib.ExitStack()
        unwrapped = self.accelerator.unwrap_model(model)
        for a in self.defenses:
            if a.defense.forward is not None and (a.defense.reference_too or not reference):
                stack.enter_context(a.defense.forward(a.settings, unwrapped))
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
            return fused_head_sums(weight, ref_weight, h, ref_h, targets, ce_mask, kl_mask, self.head_kl is not None)
        adapter_off = self.ref_model is None and hasattr(unwrapped, "disable_adapter")
        ctx = unwrapped.disable_adapter if adapter_off else contextlib.nullcontext
        return head_sums(head, ref_head, ctx, h, ref_h, targets, ce_mask, kl_mask, self.head_kl is not None)

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
        with self._forward_contexts(model):
            out = model(**fwd)
        ref = None
        if self.needs_reference:
            with torch.no_grad(), self._reference(model) as ref_model, self._forward_contexts(ref_model, True):
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
        div = self._ga_divisor(num_items_in_batch)
        metrics = self._metrics[mode]
        metrics["task_loss"].append(nll.detach().item() / max(int(ce_mask.sum()), 1))
        for a in self.defenses:
            if a.defense.head_kl:
                value = kl_sum / kl_mask.sum().clamp(min=1)
            elif a.defense.term is not None:
                value = a.defense.term(a.settings, out, ref, inputs)
            else:
                continue
            loss = loss + a.settings.weight * value / div
            metrics[a.name].append(value.detach().item())
        if "attention_mask" in inputs:
            self._total_train_tokens += int(inputs["attention_mask"].sum().item())
        else:
            self._total_train_tokens += int(inputs["position_ids"].size(1))
        metrics["num_tokens"] = [self._total_train_tokens]
        return loss
