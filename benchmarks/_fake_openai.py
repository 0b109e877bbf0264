"""A loopback OpenAI-compatible chat-completions server for the judge benchmarks (a trimmed copy of the tests' fake):
every request waits `latency` seconds, then gets the top logprobs `answer(prompt)` returns."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default listen backlog of 5 drops connections when many arrive at once


class FakeOpenAI:
    """Start with `with FakeOpenAI(...) as fake:`; `fake.base_url` for the judge, `fake.requests` counts requests."""

    def __init__(self, answer: Callable[[str], list[tuple[str, float]]], latency: float = 0.05) -> None:
        self.answer = answer
        self.latency = latency
        self.requests = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body in two writes wait ~40 ms for a delayed ACK

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests += 1
                time.sleep(fake.latency)
                data = json.dumps(fake.completion(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def completion(self, body: dict) -> dict:
        """A chat completion of one token carrying `answer(prompt)` as its top logprobs."""
        top = self.answer(body["messages"][-1]["content"])
        first = max(top, key=lambda t: t[1])
        logprobs = {"content": [{"token": first[0], "logprob": first[1], "bytes": None,
                                 "top_logprobs": [{"token": t, "logprob": v, "bytes": None} for t, v in top]}]}
        return {"id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "?"),
                "choices": [{"index": 0, "finish_reason": "length", "logprobs": logprobs,
                             "message": {"role": "assistant", "content": first[0]}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}
