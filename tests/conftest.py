import os
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
