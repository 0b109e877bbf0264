"""An on-disk cache of judge answers: SQLite (WAL), one table, safe for concurrent readers and writers.

A row is keyed by the sha256 of a canonical JSON of the request that decides the answer (endpoint, model, messages,
max_tokens, temperature, top_logprobs, seed; never the API key) and holds the raw first-token candidates as a JSON
list of `[token, logprob]`, so scores can be recomputed later with any rule. The default file is
`$EMSCOPE_HOME/judge-cache.sqlite`; `EMSCOPE_JUDGE_CACHE` names another file, or `off` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from emscope.errors import EmscopeError
from emscope.paths import emscope_home

CACHE_ENV = "EMSCOPE_JUDGE_CACHE"
_OFF = ("", "0", "off", "false", "no", "none")
_SCHEMA = "CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, top TEXT NOT NULL, created REAL NOT NULL)"
_VERSION = 1
"""Bumped when the meaning of a cached value changes, so old rows are no longer found."""

TopLogprobs = list[tuple[str, float]]


def default_cache_path() -> Path | None:
    """`EMSCOPE_JUDGE_CACHE` when set (None when it is off/0/false), else `$EMSCOPE_HOME/judge-cache.sqlite`."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    return emscope_home() / "judge-cache.sqlite"


def request_key(request: dict) -> str:
    """The cache key of a request: sha256 of its canonical JSON (sorted keys, no spaces, UTF-8) and the version."""
    text = json.dumps({"v": _VERSION, **request}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Cache lookups of one judge: hits (answered from disk) and misses (asked the server)."""

    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        """hits / lookups (0.0 before any lookup)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class JudgeCache:
    """The cache file: `get_many` / `put`; one connection guarded by a lock, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        """Open (creating it and its folder if needed) the cache at `path`; EmscopeError naming it when it is not a
        usable SQLite file or cannot be created."""
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            raise self._error("cannot be opened", e) from e
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.execute("SELECT key, top FROM judgements LIMIT 1").fetchall()
        except sqlite3.Error as e:
            self._db.close()
            raise self._error("is not a readable judge cache", e) from e

    def __repr__(self) -> str:
        return f"JudgeCache({str(self.path)!r})"

    def get_many(self, keys: list[str]) -> dict[str, TopLogprobs]:
        """The cached candidates of those `keys` that are in the cache."""
        found: dict[str, TopLogprobs] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):  # stay below SQLite's bound-parameter limit
            chunk = unique[i:i + 500]
            rows = self._run(f"SELECT key, top FROM judgements WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for key, top in rows:
                found[key] = self._decode(key, top)
        return found

    def get(self, key: str) -> TopLogprobs | None:
        """The cached candidates for `key`, or None."""
        return self.get_many([key]).get(key)

    def put(self, key: str, top: TopLogprobs) -> None:
        """Store the candidates for `key` (a concurrent writer of the same key wins or loses harmlessly)."""
        value = json.dumps([[t, lp] for t, lp in top], ensure_ascii=False)
        self._run("INSERT OR REPLACE INTO judgements (key, top, created) VALUES (?, ?, ?)", (key, value, time.time()))

    def __len__(self) -> int:
        return self._run("SELECT COUNT(*) FROM judgements", ())[0][0]

    def close(self) -> None:
        """Close the connection (the cache object is unusable afterwards)."""
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params) -> list[tuple]:
        """Execute under the lock; SQLite errors become EmscopeError naming the file."""
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise self._error("failed", e) from e

    def _decode(self, key: str, top: str) -> TopLogprobs:
        """A stored value back as `[(token, logprob), ...]`; EmscopeError naming the file when it is not one."""
        try:
            return [(str(t), float(lp)) for t, lp in json.loads(top)]
        except (ValueError, TypeError) as e:
            raise self._error(f"holds an unreadable entry {key[:12]}...", e) from e

    def _error(self, what: str, e: Exception) -> EmscopeError:
        return EmscopeError(f"judge cache {self.path} {what} ({type(e).__name__}: {e}); delete the file, point "
                            f"{CACHE_ENV} at another one, or turn the cache off ({CACHE_ENV}=off / cache=False)")
