"""`emscope serve`: a local model behind an OpenAI-compatible chat-completions endpoint with logprobs."""

from emscope.serve.app import create_app, serve

__all__ = ["create_app", "serve"]
