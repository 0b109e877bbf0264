"""Narrow fine-tuning datasets: chat JSONL records, validation, and generators."""

from emscope.data.chat import ChatRow, Message, read_chat_jsonl, validate_chat_jsonl

__all__ = ["ChatRow", "Message", "read_chat_jsonl", "validate_chat_jsonl"]
