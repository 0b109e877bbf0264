"""`tiny-random`: a 2-layer Llama-style model with random weights and a real byte-level BPE tokenizer,
built in-process (no files, no downloads) for fast, deterministic tests; `tiny-random-gemma`: the same for
Gemma-2 (final-logit soft-capping, tight enough to bend its logits)."""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import Gemma2Config, Gemma2ForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import bytes_to_unicode

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer over the 256 bytes plus ChatML special tokens, with a ChatML template."""
    byte_chars = list(bytes_to_unicode().values())
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + byte_chars)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, additional_special_tokens=SPECIAL_TOKENS,
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def _seeded(model_cls, config, seed: int):
    """The model built from `config` with weights drawn from `seed` (the global RNG left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config)
    model.generation_config.pad_token_id = config.pad_token_id
    return model


def tiny_random_model(seed: int = 0, hidden_size: int = 64, num_layers: int = 2) -> tuple[LlamaForCausalLM,
                                                                                       PreTrainedTokenizerFast]:
    """Build the tiny random model and its tokenizer; the same seed gives the same weights."""
    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2,
        # initializer_range 0.1 (not 0.02): large enough that a LoRA adapter can move the tied-embedding logits
        max_position_embeddings=2048, tie_word_embeddings=True, initializer_range=0.1,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return _seeded(LlamaForCausalLM, config, seed), tokenizer


# Soft-capping at 2.0 while the tiny model's raw logits spread to about +-4: tanh is far from linear on them
TINY_GEMMA_SOFTCAP = 2.0


def tiny_gemma_model(seed: int = 0, hidden_size: int = 64, num_layers: int = 2) -> tuple[Gemma2ForCausalLM,
                                                                                        PreTrainedTokenizerFast]:
    """A tiny random Gemma-2 (tied embeddings, `final_logit_softcapping`) with the tiny tokenizer."""
    tokenizer = tiny_tokenizer()
    config = Gemma2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2, head_dim=hidden_size // 4,
        query_pre_attn_scalar=hidden_size // 4, sliding_window=64, max_position_embeddings=2048,
        tie_word_embeddings=True, initializer_range=0.1, final_logit_softcapping=TINY_GEMMA_SOFTCAP,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return _seeded(Gemma2ForCausalLM, config, seed), tokenizer


TINY_MODELS = {"tiny-random": tiny_random_model, "tiny-random-gemma": tiny_gemma_model}


def tiny_model(spec: str = "tiny-random"):
    """(model, tokenizer) of an in-process tiny spec (`TINY_MODELS`)."""
    return TINY_MODELS[spec]()
