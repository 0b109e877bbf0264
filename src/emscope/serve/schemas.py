"""Request and response bodies of the OpenAI-compatible chat-completions API (the subset emscope serves).

Unknown request fields are ignored, as harmless extras (`user`, `metadata`, `store`, ...); fields whose effect
emscope cannot honour (streaming, n > 1, penalties, logit bias, tools, structured output) are refused with a
clear message rather than silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TOP_LOGPROBS = 20
MAX_STOP = 4


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are supported."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class Message(BaseModel):
    """A chat message; `developer` is treated as `system`."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None

    def as_chat(self) -> dict[str, str]:
        """The `{role, content}` dict a chat template reads."""
        content = self.content
        if isinstance(content, list):
            content = "".join(part.text for part in content)
        return {"role": "system" if self.role == "developer" else self.role, "content": content or ""}


class ChatCompletionRequest(BaseModel):
    """`POST /v1/chat/completions`. `temperature` 0 is greedy; `seed` makes sampling reproducible."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    n: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=MAX_TOP_LOGPROBS)
    stop: str | list[str] | None = None
    stream: bool | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    tools: list | None = None
    response_format: dict | None = None

    @model_validator(mode="after")
    def _supported(self) -> ChatCompletionRequest:
        if self.stream:
            raise ValueError("stream=true is not supported by this server; send stream=false")
        if self.n not in (None, 1):
            raise ValueError(f"n={self.n} is not supported by this server; only n=1")
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs=true")
        if self.frequency_penalty or self.presence_penalty:
            raise ValueError("frequency_penalty and presence_penalty are not supported by this server (use 0)")
        if self.logit_bias:
            raise ValueError("logit_bias is not supported by this server")
        if self.tools:
            raise ValueError("tools are not supported by this server")
        if self.response_format and self.response_format.get("type", "text") != "text":
            raise ValueError("response_format other than text is not supported by this server")
        if self.max_tokens is not None and self.max_completion_tokens is not None \
                and self.max_tokens != self.max_completion_tokens:
            raise ValueError("max_tokens and max_completion_tokens disagree; send one of them")
        stops = self.stop_list()
        if len(stops) > MAX_STOP or any(not s for s in stops):
            raise ValueError(f"stop must be up to {MAX_STOP} non-empty strings")
        return self

    def stop_list(self) -> list[str]:
        """`stop` as a list."""
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])

    def token_limit(self) -> int | None:
        """The requested completion length (`max_completion_tokens` or the older `max_tokens`), if any."""
        return self.max_completion_tokens or self.max_tokens


class TopLogprob(BaseModel):
    """A candidate token at one position: its text, natural-log probability and UTF-8 bytes."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    """The chosen token at one position and the most likely tokens there (sorted, most likely first)."""

    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChoiceLogprobs(BaseModel):
    """Per-token log-probabilities of a choice."""

    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class ResponseMessage(BaseModel):
    """The generated assistant message."""

    role: Literal["assistant"] = "assistant"
    content: str
    refusal: str | None = None


class Choice(BaseModel):
    """One completion; `finish_reason` is `stop` (end of turn or a stop string) or `length`."""

    index: int = 0
    message: ResponseMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: Literal["stop", "length"]


class Usage(BaseModel):
    """Token counts (the completion counts the end-of-turn token when one was generated)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """The response of `POST /v1/chat/completions`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str | None = None


class ModelCard(BaseModel):
    """One served model."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "emscope"


class ModelList(BaseModel):
    """The response of `GET /v1/models`."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
