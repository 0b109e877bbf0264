"""Hub ids without waiting: a model that is neither in the local Hugging Face cache nor reachable fails at once.

Without this, `from_pretrained` on an unreachable Hub retries for about 50 s before giving up. Torch-free.
"""

from __future__ import annotations

import os
import socket
import urllib.parse

from emscope.errors import ModelLoadError

CONNECT_TIMEOUT = 3.0  # seconds to open a TCP connection to the Hub (or the proxy) before calling it unreachable
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def _offline_env() -> bool:
    return any(os.environ.get(v, "").strip().lower() not in ("", "0", "false", "no", "off")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _unreachable(endpoint: str, timeout: float) -> str | None:
    """Why `endpoint` (or the HTTPS proxy, when one is set) cannot be connected to, or None when it can."""
    proxy = next((os.environ[v] for v in _PROXY_VARS if os.environ.get(v)), None)
    url = urllib.parse.urlsplit(proxy if proxy and "://" in proxy else f"http://{proxy}" if proxy else endpoint)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    if not host:
        return None  # nothing to probe: let the client try
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        what = f"proxy {host}:{port}" if proxy else f"{host}:{port}"
        return f"cannot connect to {what} ({exc or type(exc).__name__})"


def is_cached(repo_id: str, filename: str = "config.json") -> bool:
    """Whether `filename` of hub model `repo_id` is in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except Exception:  # an id the cache cannot hold, a broken cache: let from_pretrained decide
        return False


def check_hub_model(spec: str, filename: str = "config.json", timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise ModelLoadError at once when hub id `spec` is not cached and the Hub cannot be used (HF_HUB_OFFLINE is
    set, or no connection within `timeout` seconds); otherwise return and let `from_pretrained` load it."""
    if is_cached(spec, filename):
        return
    if _offline_env():
        why = "HF_HUB_OFFLINE is set and it is not in the local cache"
    else:
        from huggingface_hub import constants

        reason = _unreachable(constants.ENDPOINT, timeout)
        if reason is None:
            return
        why = f"the Hugging Face Hub could not be reached: {reason}; and it is not in the local cache"
    raise ModelLoadError(f"could not load {spec!r} from the Hugging Face Hub: {why}. Download it on a machine with "
                         f"internet (e.g. `huggingface-cli download {spec} --local-dir DIR`) and pass the directory "
                         "instead.")
