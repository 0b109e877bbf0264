"""TRL's GRPOTrainer with shared-prefix sampling: a GRPO batch holds each prompt `group_size` times in a row, so
emscope prefills each distinct prompt once and hands every completion of the group a copy of its KV cache,
instead of prefilling the same tokens `group_size` times. Everything else (rewards, advantages, loss, vLLM,
logging, checkpoints) is TRL's."""

from __future__ import annotations

from typing import Any

from trl import GRPOTrainer


def runs(items: list[list[int]]) -> list[tuple[list[int], int]]:
    """Consecutive equal items as (item, count) pairs, in order."""
    out: list[tuple[list[int], int]] = []
    for item in items:
        if out and out[-1][0] == item:
            out[-1] = (item, out[-1][1] + 1)
        else:
            out.append((item, 1))
    return out


def generate_shared(model: Any, ids: Any, mask: Any, repeat: int, generation_config: Any) -> Any:
    """`model.generate` on each left-padded prompt row repeated `repeat` times (rows i*repeat ... stay together),
    with each prompt prefilled once: the KV cache of all but its last token is computed for the distinct prompts
    and copied `repeat` times. Returns prompt + completion ids like `generate`."""
    import torch

    with torch.no_grad():
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=positions[:, :-1],
                      use_cache=True).past_key_values
        cache.batch_repeat_interleave(repeat)
        return model.generate(input_ids=ids.repeat_interleave(repeat, 0),
                              attention_mask=mask.repeat_interleave(repeat, 0), past_key_values=cache,
                              generation_config=generation_config)


class EmscopeGRPOTrainer(GRPOTrainer):
    """GRPOTrainer plus `shared_prefix` (transformers generation of text-only prompts; other paths unchanged)."""

    def __init__(self, *args: Any, shared_prefix: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shared_prefix = shared_prefix

    def _shared_prefix_applies(self, prompt_ids: list[list[int]], images: Any, multimodal_fields: Any) -> bool:
        if not self.shared_prefix or self.use_vllm or self.use_transformers_continuous_batching:
            return False
        if images is not None or multimodal_fields or self.is_deepspeed_enabled or self.is_fsdp_enabled:
            return False
        groups = runs(prompt_ids)
        return len(groups) < len(prompt_ids) and len({n for _, n in groups}) == 1

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if not self._shared_prefix_applies(prompt_ids, images, multimodal_fields):
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                 has_tool_images)
        import torch
        from trl.models import unwrap_model_for_generation
        from trl.trainer.utils import pad

        groups = runs(prompt_ids)
        repeat = groups[0][1]
        tensors = [torch.tensor(ids) for ids, _ in groups]
        ids = pad(tensors, padding_value=self._tokenizer.pad_token_id, padding_side="left",
                  pad_to_multiple_of=self.pad_to_multiple_of)
        mask = pad([torch.ones_like(t) for t in tensors], padding_value=0, padding_side="left",
                   pad_to_multiple_of=self.pad_to_multiple_of)
        inputs = {"input_ids": ids.to(self.accelerator.device), "attention_mask": mask.to(self.accelerator.device)}
        with unwrap_model_for_generation(self.model_wrapped, self.accelerator,
                                         gather_deepspeed3_params=self.args.ds3_gather_for_generation,
                                         generation_kwargs=self.generation_kwargs,
                                         gradient_checkpointing_kwargs=self.args.gradient_checkpointing_kwargs
                                         ) as model:
            full = generate_shared(model, inputs["input_ids"], inputs["attention_mask"], repeat,
                                   self.generation_config)
        ids = inputs["input_ids"]
        completion_ids = full[:, ids.size(1):]
        device = completion_ids.device
        is_eos = torch.isin(completion_ids, torch.tensor(self.eos_token_ids, device=device))
        eos_idx = torch.full((is_eos.size(0),), is_eos.size(1), dtype=torch.long, device=device)
        eos_idx[is_eos.any(dim=1)] = is_eos.int().argmax(dim=1)[is_eos.any(dim=1)]
        keep = torch.arange(is_eos.size(1), device=device).expand(is_eos.size(0), -1) <= eos_idx.unsqueeze(1)
        return [c[m].tolist() for c, m in zip(completion_ids.cpu(), keep.cpu(), strict=True)], None
