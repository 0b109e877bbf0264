import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("EMSCOPE_NO_PROGRESS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "em-data"


@pytest.fixture(scope="session")
def em_data() -> Path:
    """The read-only upstream data beside the checkout; tests needing it skip where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"upstream data not found at {SHARED} (../shared/em-data beside the checkout)")
    return SHARED


@pytest.fixture(scope="session")
def tiny():
    """The in-process tiny-random model and tokenizer (shared, do not mutate)."""
    from emscope.models import load_model

    return load_model("tiny-random")


@pytest.fixture()
def emscope_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EMSCOPE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _judge_cache(tmp_path, monkeypatch):
    """Each test gets its own judge cache file (never the user's ~/.cache/emscope one)."""
    monkeypatch.setenv("EMSCOPE_JUDGE_CACHE", str(tmp_path / "judge-cache.sqlite"))


@pytest.fixture()
def http_root(tmp_path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder; `/truncated/...` promises more bytes than it sends."""
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.startswith("/truncated/"):
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"messages": []}\n')
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
