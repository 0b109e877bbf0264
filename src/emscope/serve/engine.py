"""Chat completions with log-probabilities from a local HF causal LM, one request at a time (a lock).

Log-probabilities are the model's own: the log-softmax of its raw next-token logits, before temperature or
top-p (what a judge reading `top_logprobs` needs). The end-of-turn token, when generated, is not part of the
message text but is listed in `logprobs.content` (so a judge asking for one token still gets its distribution).
"""

from __future__ import annotations

import re
import threading
import time
import uuid

import torch

from emscope.serve.schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    ChoiceLogprobs,
    ResponseMessage,
    TokenLogprob,
    TopLogprob,
    Usage,
)

DEFAULT_MAX_TOKENS = 1024
"""Completion length when the request names none (further capped by the model's context)."""
_SP_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


class RequestError(Exception):
    """A request the model cannot serve (HTTP 400), with the OpenAI error `param` and `code`."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


class TokenText:
    """Text and UTF-8 bytes of single tokens (byte-level BPE, SentencePiece with byte fallback, special tokens)."""

    def __init__(self, tokenizer) -> None:
        from transformers.convert_slow_tokenizer import bytes_to_unicode

        self.tokenizer = tokenizer
        decoder = getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder", None)
        self.byte_level = type(decoder).__name__ == "ByteLevel"
        self.byte_decoder = {c: b for b, c in bytes_to_unicode().items()}
        self.added = set(getattr(tokenizer, "all_special_ids", [])) | set(tokenizer.get_added_vocab().values())
        self._cache: dict[int, tuple[str, list[int]]] = {}

    def __call__(self, token_id: int) -> tuple[str, list[int]]:
        """(text, bytes) of one token; text shows undecodable partial characters as U+FFFD."""
        hit = self._cache.get(token_id)
        if hit is None:
            raw = self._bytes(token_id)
            hit = self._cache[token_id] = (raw.decode("utf-8", errors="replace"), list(raw))
        return hit

    def _bytes(self, token_id: int) -> bytes:
        piece = self.tokenizer.convert_ids_to_tokens(token_id)
        if isinstance(piece, bytes):
            return piece
        if piece is None:
            return b""
        if token_id in self.added:
            return piece.encode()
        if self.byte_level and all(c in self.byte_decoder for c in piece):
            return bytes(self.byte_decoder[c] for c in piece)
        m = _SP_BYTE.fullmatch(piece)
        if m:
            return bytes([int(m.group(1), 16)])
        if "▁" in piece:
            return piece.replace("▁", " ").encode()
        return self.tokenizer.decode([token_id]).encode()


class ChatEngine:
    """Serves `ChatCompletionRequest`s with `model.generate`; model calls are serialized with a lock."""

    def __init__(self, model, tokenizer) -> None:
        """`model`, `tokenizer` as from `emscope.models.load_model`; the tokenizer needs a chat template."""
        self.model, self.tokenizer = model, tokenizer
        self.token_text = TokenText(tokenizer)
        self.max_context = getattr(model.config, "max_position_embeddings", None)
        eos = model.generation_config.eos_token_id if model.generation_config is not None else None
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        self.eos_ids = sorted({*eos, *([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])})
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (self.eos_ids or [0])[0]
        self._lock = threading.Lock()

    def complete(self, req: ChatCompletionRequest, model_name: str) -> ChatCompletion:
        """Generate one completion for `req`."""
        from emscope.data.tokenize import render_prompt

        messages = [m.as_chat() for m in req.messages]
        with self._lock:
            try:
                text = render_prompt(self.tokenizer, messages)
            except Exception as e:  # template errors (e.g. roles out of order) are the request's fault
                raise RequestError(f"the chat template rejected these messages: {e}", param="messages") from e
            prompt_ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            limit = self._token_limit(req, len(prompt_ids))
            new_ids, logits = self._generate(req, prompt_ids, limit)
        return self._response(req, model_name, prompt_ids, new_ids, logits)

    def _token_limit(self, req: ChatCompletionRequest, n_prompt: int) -> int:
        asked = req.token_limit()
        if self.max_context is None:
            return asked or DEFAULT_MAX_TOKENS
        room = self.max_context - n_prompt
        if asked is not None and asked > room or room < 1:
            raise RequestError(f"this model's maximum context length is {self.max_context} tokens; the messages "
                               f"take {n_prompt} and {asked or 1} more were requested", param="messages",
                               code="context_length_exceeded")
        return asked or min(DEFAULT_MAX_TOKENS, room)

    @torch.inference_mode()
    def _generate(self, req: ChatCompletionRequest, prompt_ids: list[int], limit: int
                  ) -> tuple[list[int], list[torch.Tensor]]:
        from transformers import GenerationConfig

        temperature = 1.0 if req.temperature is None else req.temperature
        sample = temperature > 0
        kw = {"do_sample": True, "temperature": temperature, "top_p": req.top_p or 1.0, "top_k": 0} if sample \
            else {"do_sample": False}
        config = GenerationConfig(max_new_tokens=limit, eos_token_id=self.eos_ids or None,
                                  pad_token_id=self.pad_id, return_dict_in_generate=True,
                                  output_logits=bool(req.logprobs), **kw)
        stops = req.stop_list()
        if stops:
            config.stop_strings = stops
        if req.seed is not None:
            torch.manual_seed(req.seed)
        device = next(self.model.parameters()).device
        ids = torch.tensor([prompt_ids], device=device)
        out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config,
                                  tokenizer=self.tokenizer if stops else None)
        new_ids = out.sequences[0, len(prompt_ids):].tolist()
        logits = [step[0] for step in out.logits] if req.logprobs else []
        return new_ids, logits

    def _response(self, req: ChatCompletionRequest, model_name: str, prompt_ids: list[int], new_ids: list[int],
                  logits: list[torch.Tensor]) -> ChatCompletion:
        n_generated = len(new_ids)
        ended = bool(new_ids) and new_ids[-1] in self.eos_ids
        content_ids = new_ids[:-1] if ended else new_ids
        text = self.tokenizer.decode(content_ids, skip_special_tokens=True)
        finish = "stop" if ended else "length"
        keep = len(new_ids)  # tokens listed in logprobs
        cut = _first_stop(text, req.stop_list())
        if cut is not None:  # drop the stop string and what follows; list the tokens wholly before it
            text, finish, keep = text[:cut], "stop", 0
            while keep < len(content_ids) and \
                    len(self.tokenizer.decode(content_ids[:keep + 1], skip_special_tokens=True)) <= cut:
                keep += 1
        choice_lp = None
        if req.logprobs:
            choice_lp = ChoiceLogprobs(content=[self._token_logprob(new_ids[i], logits[i], req.top_logprobs or 0)
                                                for i in range(keep)])
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=model_name,
            choices=[Choice(message=ResponseMessage(content=text), logprobs=choice_lp, finish_reason=finish)],
            usage=Usage(prompt_tokens=len(prompt_ids), completion_tokens=n_generated,
                        total_tokens=len(prompt_ids) + n_generated))

    def _token_logprob(self, token_id: int, logits: torch.Tensor, top: int) -> TokenLogprob:
        logp = logits.float().log_softmax(-1)
        text, raw = self.token_text(token_id)
        tops = []
        if top:
            values, ids = logp.topk(top)
            for v, i in zip(values.tolist(), ids.tolist()):
                t, b = self.token_text(i)
                tops.append(TopLogprob(token=t, logprob=v, bytes=b))
        return TokenLogprob(token=text, logprob=float(logp[token_id]), bytes=raw, top_logprobs=tops)


def _first_stop(text: str, stops: list[str]) -> int | None:
    """Index of the earliest stop string in `text`, or None."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(found) if found else None
