"""Training monitors: a registry of factories and the `TrainerCallback` that runs them every k steps.

A monitor is any callable `(model, tokenizer, step) -> dict | None`. It runs with the model in eval mode and
without gradients; its result is appended to `train_log.jsonl` as `{"step", "monitor", ...}`. A monitor may
also have `begin(model, tokenizer, history)`, called when training (re)starts with its earlier log rows (to fix
a reference or rebuild state); a `begin(..., reference=None)` also gets full fine-tuning's frozen step-0 model.
Every monitor also runs once at step 0 of a fresh run, so curves start from the untrained model. A result with
`"alarm": true` logs an `alarm` event; `"stop": true` also ends training early (the adapter is still saved).
Monitors are named in the config by registry name (`register_monitor`; shipped: `likelihood` in
`emscope.evaluate.likelihood`, `persona` in `emscope.persona.monitor`, `trait_space` (several persona vectors at
once, for the leave-one-run-out detector of `emscope.persona.trait_detector`) in `emscope.persona.trait_space`) or
as `package.module:factory`.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import torch

from emscope.errors import InputError
from emscope.io import append_jsonl, read_jsonl


class Monitor(Protocol):
    """What a monitor factory returns."""

    def __call__(self, model, tokenizer, step: int) -> dict[str, Any] | None: ...


_REGISTRY: dict[str, Callable[..., Monitor] | str] = {
    # shipped monitors live in the layers that measure (evaluate, persona); named here by import path, so
    # `train` never imports them and they load on first use
    "likelihood": "emscope.evaluate.likelihood:likelihood_monitor",
    "persona": "emscope.persona.monitor:persona_monitor",
    "trait_space": "emscope.persona.trait_space:trait_space_monitor",
}


def _import_factory(path: str) -> Callable[..., Monitor]:
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise InputError(f"monitors: name: cannot import {path!r} ({e})") from e


def register_monitor(name: str):
    """Decorator registering a monitor factory under `name`."""
    def deco(factory: Callable[..., Monitor]) -> Callable[..., Monitor]:
        _REGISTRY[name] = factory
        return factory
    return deco


def monitor_names() -> list[str]:
    """Registered monitor names."""
    return sorted(_REGISTRY)


def build_monitor(name: str, params: dict[str, Any]) -> Monitor:
    """Instantiate a monitor from a registry name or a `module:factory` import path."""
    if name in _REGISTRY:
        factory = _REGISTRY[name]
        factory = _import_factory(factory) if isinstance(factory, str) else factory
    elif ":" in name:
        factory = _import_factory(name)
    else:
        raise InputError(f"monitors: name: unknown monitor {name!r}; known: {', '.join(monitor_names())} "
                         "or module:factory")
    try:
        return factory(**params)
    except TypeError as e:
        raise InputError(f"monitors: params of {name!r}: {e}") from e


@contextlib.contextmanager
def _evaluating(model) -> Iterator[None]:
    """The model in eval mode without gradients, its training mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _run_one(name: str, mon: Monitor, model, tokenizer, step: int, log_path: Path) -> bool:
    """Run one monitor in eval mode without grad, log its row (and an alarm event); True asks to stop."""
    t0 = time.time()
    with _evaluating(model):
        result = mon(model, tokenizer, step) or {}
    append_jsonl(log_path, {"step": step, "monitor": name, "seconds": round(time.time() - t0, 3), **result})
    if result.get("alarm") or result.get("stop"):
        event = {"step": step, "event": "alarm", "monitor": name, "stop": bool(result.get("stop"))}
        if "alarm_metric" in result:
            event.update(metric=result["alarm_metric"], value=result.get(result["alarm_metric"]))
        append_jsonl(log_path, event)
    return bool(result.get("stop"))


def _stop_everywhere(stop: bool, device) -> bool:
    """Rank 0's stop decision, on every rank of a torch.distributed run (as is outside one): a rank that stepped
    on alone would wait for the others in its next gradient all-reduce forever."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return stop
    flag = torch.tensor([int(stop)], device=device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def wants_reference(monitor: tuple[str, int, Monitor]) -> bool:
    """Whether a `(name, every, monitor)`'s `begin` takes the reference model (`begin(..., reference=None)`)."""
    begin = getattr(monitor[2], "begin", None)
    return begin is not None and "reference" in inspect.signature(begin).parameters


def monitor_callback(monitors: list[tuple[str, int, Monitor]], log_path: Path, tokenizer, reference=None):
    """A TrainerCallback running `(name, every, monitor)` triples on rank 0 and logging to `log_path`.

    `reference` (full fine-tuning: the frozen step-0 weights, the same the KL defense uses) is handed to the
    `begin` of monitors that take it, also after a resume."""
    from transformers import TrainerCallback

    def read(args, state, control, model, due: list[tuple[str, int, Monitor]]) -> None:
        """Rank 0 takes the due readings; every rank stops at this step when one of them asks to."""
        stop = False
        if state.is_world_process_zero:
            for name, _every, mon in due:
                stop = _run_one(name, mon, model, tokenizer, state.global_step, log_path) or stop
        if _stop_everywhere(stop, args.device):
            control.should_training_stop = True

    class _Monitors(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kw):
            if state.is_world_process_zero:
                earlier = [r for r in (read_jsonl(log_path) if log_path.exists() else [])
                           if "event" not in r and r.get("step", 0) <= state.global_step]  # readings kept on resume
                for name, every, mon in monitors:
                    if hasattr(mon, "begin"):
                        kw = {"reference": reference} if wants_reference((name, every, mon)) else {}
                        with _evaluating(model):
                            mon.begin(model, tokenizer, [r for r in earlier if r.get("monitor") == name], **kw)
            if state.global_step == 0:
                read(args, state, control, model, monitors)
            return control

        def on_step_end(self, args, state, control, model=None, **kw):
            due = [m for m in monitors if state.global_step % m[1] == 0]
            if due:
                read(args, state, control, model, due)
            return control

    return _Monitors()
