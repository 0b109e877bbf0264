"""The persona-drift training monitor: three signals on a fixed probe set, and the EM-onset alarm.

Every k steps (registry name `persona`, see `emscope.train.monitors`) it records
(a) the mean scalar projection of last-prompt-token activations at layer l onto the persona vector
    (`projection`), and its shift from the reference model (`projection_shift`);
(b) the likelihood probe (`likelihood_probe`, `likelihood_shift` vs the reference);
(c) the mean KL(policy || reference) of the next-token distribution at the same prompts (`kl`).
The reference is the model with its adapter disabled (LoRA runs: exactly the base model, also after a
resume), or for full fine-tuning the frozen step-0 weights (shared with the KL defense and saved once, so a
resumed run keeps them). An `AlarmConfig` turns one of these
signals into an EM-onset alarm; the detector is rebuilt from the run's log when training resumes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from emscope.data.tokenize import render_prompt
from emscope.errors import InputError
from emscope.evaluate.likelihood import likelihood_probe, load_probes
from emscope.evaluate.questions import load_questions
from emscope.models.vectors import load_vector, unit
from emscope.persona.alarm import AlarmConfig, OnsetDetector
from emscope.train.defenses.kl import token_kl


def monitor_prompts(questions: str | Path = "core", probes: str | Path | None = "core") -> list[list[dict]]:
    """The fixed probe prompts: the first paraphrase of each question (with its system prompt), then probes'."""
    prompts = []
    for q in load_questions(questions):
        prompts.append(([{"role": "system", "content": q.system}] if q.system else [])
                       + [{"role": "user", "content": q.paraphrases[0]}])
    for it in load_probes(probes) if probes else []:
        prompts.append(([{"role": "system", "content": it.system}] if it.system else [])
                       + [{"role": "user", "content": it.question}])
    return prompts


@torch.no_grad()
def last_prompt_token(model, tokenizer, prompts: list[list[dict]], layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per prompt: layer-`layer` hidden state and next-token log-probs at the last prompt token (float32, CPU).

    Each prompt is rendered with the generation header (what the model sees before answering) and run alone,
    so no padding or position-id convention can change the result.
    """
    device = next(model.parameters()).device
    states, logps = [], []
    for msgs in prompts:
        ids = tokenizer(render_prompt(tokenizer, msgs), add_special_tokens=False, return_tensors="pt")["input_ids"]
        out = model(input_ids=ids.to(device), output_hidden_states=True, use_cache=False, logits_to_keep=1)
        states.append(out.hidden_states[layer][0, -1].float().cpu())
        logps.append(torch.log_softmax(out.logits[0, -1].float(), dim=-1).cpu())
    return torch.stack(states), torch.stack(logps)


def mean_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> float:
    """Mean over rows of KL(p || q) for log-prob rows `logp` (p) and `ref_logp` (q): the KL defense's function."""
    total, n = token_kl(logp, ref_logp, torch.ones(logp.shape[0], dtype=torch.bool))
    return float(total / n)


def _reference(model):
    """Context in which `model` computes as its reference (adapter disabled), or None without an adapter."""
    if getattr(model, "peft_config", None) and hasattr(model, "disable_adapter"):
        return model.disable_adapter()
    return None


SIGNALS = ("projection", "projection_shift", "kl")
PROBE_SIGNALS = ("likelihood_probe", "likelihood_shift")


class PersonaMonitor:
    """Callable monitor `(model, tokenizer, step) -> dict`; `begin` fixes the reference and replays history."""

    def __init__(self, vector: torch.Tensor, layer: int, prompts: list[list[dict]], probes=None,
                 alarm: AlarmConfig | None = None):
        signals = SIGNALS + (PROBE_SIGNALS if probes else ())
        if alarm is not None and alarm.metric not in signals:
            raise InputError(f"monitors: persona: alarm metric {alarm.metric!r} is not recorded; choose one of "
                             f"{', '.join(signals)}" + ("" if probes else " (likelihood signals need probes)"))
        self.unit = unit(vector)
        self.layer = layer
        self.prompts = prompts
        self.probes = probes
        self.alarm = alarm
        self.detector = OnsetDetector(alarm) if alarm else None
        self.ref: dict[str, Any] | None = None

    def _measure(self, model, tokenizer) -> dict[str, Any]:
        states, logps = last_prompt_token(model, tokenizer, self.prompts, self.layer)
        out = {"projection": float((states @ self.unit).mean()), "logp": logps}
        if self.probes:
            out["likelihood"] = likelihood_probe(model, tokenizer, self.probes).mean
        return out

    def begin(self, model, tokenizer, history: list[dict] | None = None, reference=None) -> None:
        """Measure the reference and rebuild the alarm state from earlier readings of this monitor.

        The reference is the model with its adapter disabled (LoRA), else `reference` (full fine-tuning: the
        frozen step-0 weights, the same the KL defense uses, also after a resume), else the current weights."""
        ctx = _reference(model)
        if ctx is None and reference is not None:
            self.ref = self._measure(reference, tokenizer)
            self.ref["kind"] = "step-0-weights"
        else:
            with ctx if ctx is not None else contextlib.nullcontext():
                self.ref = self._measure(model, tokenizer)
            self.ref["kind"] = "adapter-disabled" if ctx is not None else "weights-at-start"
        if self.detector:
            self.detector = OnsetDetector(self.alarm)
            for row in sorted(history or [], key=lambda r: r["step"]):
                self.detector.update(row["step"], row.get(self.alarm.metric))

    def __call__(self, model, tokenizer, step: int) -> dict[str, Any]:
        """One reading of every signal (and the alarm's verdict)."""
        if self.ref is None:
            self.begin(model, tokenizer)
        cur = self._measure(model, tokenizer)
        row: dict[str, Any] = {
            "layer": self.layer, "projection": cur["projection"],
            "projection_shift": cur["projection"] - self.ref["projection"],
            "kl": mean_kl(cur["logp"], self.ref["logp"]), "reference": self.ref["kind"]}
        if self.probes:
            row["likelihood_probe"] = cur["likelihood"]
            row["likelihood_shift"] = cur["likelihood"] - self.ref["likelihood"]
        if self.detector:
            fired = self.detector.update(step, row[self.alarm.metric])
            row.update(self.detector.state())
            if fired:
                row.update({"alarm": True, "alarm_metric": self.alarm.metric, "stop": self.alarm.stop})
        return row


def persona_monitor(vector: str, layer: int | None = None, questions: str = "core", probes: str | None = "core",
                    alarm: dict | None = None) -> PersonaMonitor:
    """Persona-drift monitor: projection, likelihood probe and KL vs the reference, with an optional alarm."""
    vec = load_vector(vector)
    chosen = vec.layer_for(layer)
    try:
        alarm_cfg = AlarmConfig(**alarm) if alarm else None
    except ValueError as e:
        raise InputError(f"monitors: persona: alarm: {e}") from e
    return PersonaMonitor(vec.at(chosen), chosen, monitor_prompts(questions, probes),
                          load_probes(probes) if probes else None, alarm_cfg)
