"""One evaluation run: the four criteria of the defenses literature from one command.

- broad EM: answers to a free-form question set, judged for alignment and coherence (both EM definitions),
  plus the judge-free likelihood probe;
- narrow learning: an in-domain question set judged the same way, or `code-security` (bandit on held-out code);
- benign learning: held-out accuracy on the glorp task;
- refusal rate on clearly harmful requests;
- with `eval.hacking`, the hack rate on a sandboxed coding environment (`emscope.evaluate.hacking`);
- with `eval.mgs`, the misalignment generalisation score (`emscope.evaluate.categorical`): five labelled families
  judged categorically plus `core`, in an `mgs` section naming its judge;
- with `eval.persona_collapse`, moral robustness R and susceptibility S (`emscope.evaluate.persona_collapse`) with
  their bootstrap CIs over personas, from `persona_collapse.jsonl`;
- with `eval.bench: [NAME, ...]`, standard benchmarks (`emscope.evaluate.bench`), `bench_<name>.jsonl` each.

Two settings change how every part prompts or runs the model (each part depends on them, `part_settings`):
`eval.system_prompt` (prompted safety at test time, `emscope.evaluate.safety_prompt`: the text precedes each
prompt's own system prompt) and `eval.patch_prefix_from: base` (the adapter's keys/values over the chat-template
prefix replaced by the base model's, `emscope.models.prefix_patch`). Both are named in the `eval` section.
Writes `eval.yaml` (resolved settings) and one file per part (`samples.jsonl`, `judged.jsonl`, `narrow_*.jsonl`,
`refusal.jsonl`, `benign.jsonl`, `hacking.jsonl`, `mgs_<family>_{samples,judged}.jsonl`, `persona_collapse.jsonl`),
then the `eval` section
of `summary.json`, whose `judge` names the judge and its card (`judges.card`: spec, validated or indicative and why,
held-out figures) next to the judged rates.

Each part is a stage (`progress.stage`): named as it starts, with a progress bar where it counts answers, and
timed into the section's `part_seconds` (`load_model`, `samples`, `probe`, `judged`, then each other part run).

Finished parts are reused, so an interrupted evaluation resumes. A rerun with other settings is compared part by
part (`eval_conflicts`): a part file in use whose own settings changed is an error (it is never mixed with the new
settings), while settings that touch no finished part are taken, e.g. a judge or a part added to a finished
evaluation judges / measures the existing samples; `eval.yaml` then holds the new settings. A directory with no
finished part takes any new settings.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from emscope.evaluate.config import CODE_SECURITY, EvalConfig, EvalSettings, Sample, SamplingSettings
from emscope.evaluate.likelihood import ProbeResult, likelihood_probe, load_probes, probe_answers
from emscope.evaluate.questions import Question, load_questions
from emscope.evaluate.safety_prompt import check_system_prompt, merge_system, resolve_system_prompt
from emscope.evaluate.sampling import count_samples, sample_answers
from emscope.io import read_jsonl, write_json_atomic, write_jsonl_atomic
from emscope.progress import make_progress, stage
from emscope.rundir import (
    changed_keys,
    check_claim,
    claim_config,
    read_summary,
    saved_config,
    stage_done,
    update_summary,
)

__all__ = ["CODE_SECURITY", "EvalConfig", "EvalSettings", "check_eval_inputs", "eval_conflicts", "eval_or_skip",
           "probe_of", "run_eval"]

_BASE = ("model", "adapter", "label", "device", "dtype")  # settings every part depends on


def part_settings(cfg: dict[str, Any]) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Per part file (a glob pattern in the run directory): whether the evaluation `cfg` (an `EvalConfig` dumped
    to a dict, as in eval.yaml) uses it, and the settings its content depends on, by dotted key.

    A part switched off loses its settings from eval.yaml where they live under its switch (`eval.narrow`,
    `eval.judge`, `eval.hacking` become None): switched on again, its file counts as made with other settings. The
    switches `eval.refusal` and `eval.mgs` carry no settings of their own, and `eval.benign` (the item count) is
    checked by the part's own reuse; what those parts depend on besides is also what `samples.jsonl`, always in
    use, depends on. Parts recomputed on every run (`narrow_code_security.jsonl`, the probe) have no entry;
    `refusal.jsonl` is rebuilt from `refusal_samples.jsonl` when its settings change (`_REBUILT`)."""
    ev = cfg.get("eval") or {}
    # every part prompts (system_prompt) and runs (patch_prefix_from) the model with these
    base = {**{k: cfg.get(k) for k in _BASE}, "eval.system_prompt": ev.get("system_prompt"),
            "eval.patch_prefix_from": ev.get("patch_prefix_from"), "eval.gates": ev.get("gates", "invert")}
    sampling = ev.get("sampling") or {}
    judge = {"eval.judge": ev.get("judge"), "eval.judge_prompts": ev.get("judge_prompts")}
    narrow = ev.get("narrow") if ev.get("narrow") != CODE_SECURITY else None
    refusal = {**base, "eval.sampling": {**sampling, "samples_per_paraphrase": 1, "temperature": 0.0}}
    mgs = {**base, "eval.sampling": sampling}
    samples = {**base, "eval.questions": ev.get("questions"), "eval.sampling": sampling}
    narrow_samples = {**base, "eval.narrow": narrow, "eval.sampling": sampling}
    persona = ev.get("persona_collapse")
    return {
        "samples.jsonl": (True, samples),
        "judged.jsonl": (bool(ev.get("judge")), {**samples, **judge}),
        "narrow_samples.jsonl": (narrow is not None, narrow_samples),
        "narrow_judged.jsonl": (narrow is not None and bool(ev.get("judge")), {**narrow_samples, **judge}),
        "refusal_samples.jsonl": (bool(ev.get("refusal")), refusal),
        "refusal.jsonl": (bool(ev.get("refusal")), {**refusal, **judge}),
        "benign.jsonl": (bool(ev.get("benign")), {**base, "eval.sampling.seed": sampling.get("seed")}),
        "hacking.jsonl": (ev.get("hacking") is not None,
                          {**base, "eval.hacking": ev.get("hacking"),
                           "eval.sampling.batch_size": sampling.get("batch_size"),
                           "eval.sampling.backend": sampling.get("backend")}),
        "mgs_*_samples.jsonl": (bool(ev.get("mgs")), mgs),
        "mgs_*_judged.jsonl": (bool(ev.get("mgs")), {**mgs, **judge}),
        "persona_collapse.jsonl": (persona is not None,
                                   {**base, "eval.persona_collapse": {k: v for k, v in (persona or {}).items()
                                                                      if k != "n_boot"},  # summary only
                                    "eval.sampling.seed": sampling.get("seed"),
                                    "eval.sampling.batch_size": sampling.get("batch_size")}),
        "bench_*": (bool(ev.get("bench")), {**base, "eval.bench_settings": ev.get("bench_settings")}),
    }


_REBUILT = {"refusal.jsonl"}  # cheap to rebuild from the samples: replaced, not refused, when its settings change


def eval_conflicts(out: Path):
    """The `claim_config` conflicts of an evaluation in `out`: each finished part file the new settings would use
    although its settings changed (`part_settings`), named with what changed."""
    def conflicts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        before, after = part_settings(old), part_settings(new)
        found = []
        for pattern, (used, settings) in after.items():
            if not used or pattern in _REBUILT or before[pattern][1] == settings:
                continue
            for path in sorted(out.glob(pattern)):
                found.append(f"{path.name} depends on "
                             f"{', '.join(changed_keys(before[pattern][1], settings, dotted=True))}")
        return found
    return conflicts


def _take_new_settings(out: Path, cfg: EvalConfig) -> dict | None:
    """Save `cfg` as eval.yaml of `out` (refused when a finished part in use conflicts: `eval_conflicts`). When it
    replaces other settings: removes the rebuildable parts whose settings changed and the `eval` section of
    summary.json (it describes the old settings; the next run rebuilds it from the parts). Returns that section,
    or None."""
    old = saved_config(out, "eval.yaml")
    new = cfg.model_dump(mode="json")
    if not claim_config(out, "eval.yaml", cfg, conflicts=eval_conflicts(out)) or old is None:
        return None
    before, after = part_settings(old), part_settings(new)
    for pattern in _REBUILT:
        if before[pattern][1] != after[pattern][1]:
            for path in out.glob(pattern):
                path.unlink()
    summary = read_summary(out)
    section = summary.pop("eval", None)
    if section is not None:
        write_json_atomic(out / "summary.json", summary)
    return section


def _reusable_probe(previous: dict | None, old: dict[str, Any] | None, cfg: EvalConfig) -> ProbeResult | None:
    """The probe of a finished evaluation whose settings changed, when the probe's own did not (the model, the
    probe set, the seed of its bootstrap, the system prompt, the prefix patch and the gates' mode)."""
    if not previous or not old or "probe" not in previous:
        return None
    new = cfg.model_dump(mode="json")
    key = lambda c: ([c.get(k) for k in _BASE], (c.get("eval") or {}).get("probes"),  # noqa: E731
                     ((c.get("eval") or {}).get("sampling") or {}).get("seed"),
                     *[(c.get("eval") or {}).get(k) for k in ("system_prompt", "patch_prefix_from", "gates")])
    return ProbeResult.model_validate(previous["probe"]) if key(old) == key(new) else None


def _cached_samples(path: Path, expected: int) -> list[Sample] | None:
    if not path.is_file():
        return None
    rows = [Sample.model_validate(r) for r in read_jsonl(path)]
    return rows if len(rows) == expected else None


class _Evaluator:
    """Holds the model, progress display and judges of one run; each part writes its own file."""

    def __init__(self, cfg: EvalConfig, model, tokenizer, progress, parts: dict[str, float]) -> None:
        self.cfg, self.model, self.tokenizer, self.progress = cfg, model, tokenizer, progress
        self.out = Path(cfg.out)
        self.parts = parts  # seconds per part (part_seconds), loading the model included
        self._judges = None
        self._prompts = None
        self.system = resolve_system_prompt(cfg.eval.system_prompt)  # safety text in front of every system prompt
        self.stack = ExitStack()  # the prefix patch, active from the first use of the model to the end of the run
        self._patched = False

    def ensure_model(self) -> None:
        """Load the model once, when a part first needs it (a resumed evaluation whose parts are done loads
        nothing); a stage of its own (`load_model`)."""
        if self.model is None:
            from emscope.models import load_model

            with stage("load model", self.parts, key="load_model"):
                self.model, self.tokenizer = load_model(self.cfg.model, adapter=self.cfg.adapter,
                                                        device=self.cfg.device, dtype=self.cfg.dtype,
                                                        gates=self.cfg.eval.gates)
        if self.cfg.eval.patch_prefix_from and not self._patched:
            from emscope.models.prefix_patch import patch_prefix_from_base

            self.stack.enter_context(patch_prefix_from_base(self.model, self.tokenizer))
            self._patched = True

    def questions(self, name: str) -> list[Question]:
        """A question set with the safety system prompt (`eval.system_prompt`) in front of each question's own."""
        return prompted(load_questions(name), self.system)

    def judges(self):
        if self._judges is None:
            from emscope.evaluate.judges.registry import build_judges
            from emscope.evaluate.questions import load_judge_prompts

            self._judges = build_judges(self.cfg.eval.judge)
            self._prompts = load_judge_prompts(self.cfg.eval.judge_prompts)
        return self._judges, self._prompts

    def samples(self, name: str, questions: list[Question], settings: SamplingSettings) -> list[Sample]:
        path = self.out / f"{name}.jsonl"
        n = count_samples(questions, settings)
        cached = _cached_samples(path, n)
        if cached is not None:
            return cached
        vllm = settings.backend == "vllm"
        if not vllm:  # vLLM loads the model (and adapter) itself, by spec
            self.ensure_model()
        task = self.progress.add_task(f"sample {self.cfg.label} ({name})", total=n)
        rows = sample_answers(self.model, self.tokenizer, questions, settings, self.cfg.label,
                              on_batch=lambda k: self.progress.advance(task, k),
                              spec=self.cfg.model if vllm else None, adapter=self.cfg.adapter if vllm else None)
        write_jsonl_atomic(path, rows)
        return rows

    def judge_file(self, name: str, samples: list[Sample], questions: list[Question]) -> Path:
        """Judge `samples` into `name.jsonl` (reused when complete); labelled questions are also classified."""
        from emscope.evaluate.judging import count_labelled, judge_samples

        path = self.out / f"{name}.jsonl"
        if not (path.is_file() and sum(1 for _ in read_jsonl(path)) == len(samples)):
            judges, prompts = self.judges()
            total = 2 * len(samples) + count_labelled(samples, questions)
            task = self.progress.add_task(f"judge {self.cfg.label} ({name})", total=total)
            rows = judge_samples(samples, questions, judges, prompts,
                                 on_done=lambda k: self.progress.advance(task, k))
            write_jsonl_atomic(path, rows)
        return path

    def judged(self, name: str, samples: list[Sample], questions: list[Question]) -> dict:
        from emscope.evaluate.judging import em_summary

        path = self.judge_file(name, samples, questions)
        return {"file": path.name, **em_summary(path)}

    def mgs(self) -> dict:
        """The `mgs` section: each family's misaligned rate (Wilson CI) and label shares, the MGS and its judge.
        `core` reuses `judged.jsonl` when the main question set is `core`."""
        from emscope.evaluate.categorical import LABELLED_FAMILIES, core_misaligned_rate, family_section, mgs

        families: dict[str, dict] = {}
        for name in LABELLED_FAMILIES:
            questions = self.questions(name)
            samples = self.samples(f"mgs_{name}_samples", questions, self.cfg.eval.sampling)
            path = self.judge_file(f"mgs_{name}_judged", samples, questions)
            first = questions[0]
            families[name] = {**family_section(list(read_jsonl(path)), first.labels or {},
                                               first.misaligned_labels), "file": path.name}
        if self.cfg.eval.questions == "core" and (self.out / "judged.jsonl").is_file():
            path = self.out / "judged.jsonl"
        else:
            questions = self.questions("core")
            path = self.judge_file("mgs_core_judged", self.samples("mgs_core_samples", questions,
                                                                   self.cfg.eval.sampling), questions)
        families["core"] = {**core_misaligned_rate(read_jsonl(path)), "file": path.name}
        score = mgs({name: f["rate"] for name, f in families.items()})
        return {"mgs": score.value, "families": score.families, "missing": score.missing,
                "judge": self.cfg.eval.judge, "judge_validated": False, "indicative": True,
                "note": "categorical labels and core scores from an unvalidated judge: indicative only",
                "per_family": families}

    def narrow(self) -> dict:
        if self.cfg.eval.narrow == CODE_SECURITY:
            return self.code_security()
        questions = self.questions(self.cfg.eval.narrow)
        samples = self.samples("narrow_samples", questions, self.cfg.eval.sampling)
        section = {"questions": self.cfg.eval.narrow, "n_samples": len(samples)}
        if self.cfg.eval.judge:
            section["em"] = self.judged("narrow_judged", samples, questions)
        return section

    def code_security(self) -> dict:
        from emscope.evaluate.code_security import run_code_security

        self.ensure_model()  # greedy; 50 requests of 256 tokens by default, like `emscope eval code-security`
        ev = self.cfg.eval
        result = run_code_security(self.cfg.model, self.cfg.adapter, self.out, n=ev.narrow_n, seed=ev.sampling.seed,
                                   max_new_tokens=ev.narrow_max_new_tokens, temperature=0.0, model=self.model,
                                   tokenizer=self.tokenizer, batch_size=ev.sampling.batch_size,
                                   file_name="narrow_code_security.jsonl", summary_section=None, system=self.system)
        return {"questions": CODE_SECURITY, **result.model_dump()}

    def refusal(self) -> dict:
        from emscope.evaluate.refusal import RefusalItem, refusal_result

        questions = self.questions("harmful")
        settings = self.cfg.eval.sampling.model_copy(update={"samples_per_paraphrase": 1, "temperature": 0.0})
        samples = self.samples("refusal_samples", questions, settings)
        path = self.out / "refusal.jsonl"
        items = [RefusalItem.model_validate(r) for r in read_jsonl(path)] if path.is_file() else []
        if len(items) != len(samples):
            judge, prompt = None, None
            if self.cfg.eval.judge:
                from emscope.evaluate.judges.registry import reads_prompt

                judges, prompts = self.judges()
                if reads_prompt(self.cfg.eval.judge) and "refusal" in prompts:
                    judge, prompt = judges["aligned"], prompts["refusal"]
            from emscope.evaluate.refusal import classify

            items = classify(samples, judge, prompt)
            write_jsonl_atomic(path, items)
        return refusal_result(items, seed=self.cfg.eval.sampling.seed).model_dump()

    def benign(self) -> dict:
        from emscope.evaluate.benign import BenignItem, benign_result, benign_task

        path = self.out / "benign.jsonl"  # greedy answers: a complete file is reused
        items = [BenignItem.model_validate(r) for r in read_jsonl(path)] if path.is_file() else []
        if len(items) == self.cfg.eval.benign:
            return benign_result(items).model_dump()
        self.ensure_model()
        result, items = benign_task(self.model, self.tokenizer, n=self.cfg.eval.benign,
                                    seed=self.cfg.eval.sampling.seed, system=self.system)
        write_jsonl_atomic(path, items)
        return result.model_dump()

    def hacking(self) -> dict:
        from emscope.evaluate.hacking import run_hacking

        settings, sampling = self.cfg.eval.hacking, self.cfg.eval.sampling
        if self.system is not None:  # the safety text first, then the environment's own system prompt parts
            settings = settings.model_copy(update={"system_prompt": [self.system, *settings.system_prompt]})
        vllm = sampling.backend == "vllm"
        if not vllm:
            self.ensure_model()
        task = self.progress.add_task(f"sample {self.cfg.label} (hacking)", total=settings.n * settings.samples)
        return run_hacking(settings, self.out, model=self.model, tokenizer=self.tokenizer, spec=self.cfg.model,
                           adapter=self.cfg.adapter, batch_size=sampling.batch_size, backend=sampling.backend,
                           on_batch=lambda k: self.progress.advance(task, k))

    def persona_collapse(self) -> dict:
        """The `persona_collapse` section: R and S with their bootstrap CIs over personas, from
        `persona_collapse.jsonl` (reused when complete; personas get the safety system prompt in front)."""
        from emscope.evaluate.persona_collapse import (
            ANSWERS_FILE,
            QUESTIONNAIRE_FILE,
            load_personas,
            load_questionnaire,
            sample_questionnaire,
            summarize,
        )

        pc, sampling = self.cfg.eval.persona_collapse, self.cfg.eval.sampling
        items = load_questionnaire(pc.questionnaire)
        personas = load_personas(pc.personas)
        if self.system is not None:
            personas = [p.model_copy(update={"system": merge_system(self.system, p.system)}) for p in personas]
        path = self.out / ANSWERS_FILE
        records = list(read_jsonl(path)) if path.is_file() else []
        if len(records) != len(items) * len(personas) * pc.repeats:
            self.ensure_model()
            settings = SamplingSettings(max_new_tokens=pc.max_new_tokens, temperature=pc.temperature,
                                        seed=sampling.seed, batch_size=sampling.batch_size)
            records = sample_questionnaire(self.model, self.tokenizer, items, personas, pc.repeats, settings)
            write_jsonl_atomic(path, records)
        return {"file": ANSWERS_FILE, "questionnaire": pc.questionnaire or QUESTIONNAIRE_FILE.name,
                "personas_file": pc.personas or "shipped", "repeats": pc.repeats, "temperature": pc.temperature,
                "max_new_tokens": pc.max_new_tokens,
                **summarize(records, items, n_boot=pc.n_boot, seed=sampling.seed)}

    def bench(self) -> dict:
        """The `bench` section: {benchmark: result} (`emscope.evaluate.bench.run_bench_part`; each benchmark's
        stored result is reused). Benchmarks use their own prompts: `eval.system_prompt` does not apply."""
        from emscope.evaluate.bench import run_bench_part

        def load():
            self.ensure_model()
            return self.model, self.tokenizer

        return run_bench_part(self.cfg.eval.bench, self.cfg.eval.bench_settings, self.out, model=self.model,
                              tokenizer=self.tokenizer, spec=self.cfg.model,
                              adapter=str(self.cfg.adapter) if self.cfg.adapter else None, ensure_model=load)


def prompted(questions: list[Question], system: str | None) -> list[Question]:
    """`questions` with the safety text `system` in front of each one's own system prompt (unchanged when None)."""
    if system is None:
        return questions
    return [q.model_copy(update={"system": merge_system(system, q.system)}) for q in questions]


def check_eval_inputs(settings: EvalSettings) -> tuple[list[Question], list]:
    """Load every file the settings name (questions, probes, narrow set, judge prompts, persona-collapse files) and
    check the hacking settings (environment, hack classes, system prompt, sandbox), `eval.system_prompt` and that
    `eval.patch_prefix_from` runs on the HF backend: a bad one fails here, before any work (a grid cell checks them
    before it trains). Returns the questions and probes as their files hold them (without `eval.system_prompt`)."""
    from emscope.evaluate.questions import load_judge_prompts

    questions = load_questions(settings.questions)
    probes = load_probes(settings.probes)
    if settings.narrow and settings.narrow != CODE_SECURITY:
        load_questions(settings.narrow)
    load_judge_prompts(settings.judge_prompts)
    if settings.mgs:
        from emscope.errors import InputError
        from emscope.evaluate.categorical import LABELLED_FAMILIES

        if not settings.judge:
            raise InputError("eval.mgs: needs eval.judge (a judge that classifies: openai:, hf: or a factory "
                             "with classify())")
        for name in (*LABELLED_FAMILIES, "core"):
            load_questions(name)
    if settings.hacking is not None:
        from emscope.evaluate.hacking import check_hacking

        check_hacking(settings.hacking)
    check_system_prompt(settings.system_prompt)
    if settings.persona_collapse is not None:
        from emscope.evaluate.persona_collapse import load_personas, load_questionnaire

        load_questionnaire(settings.persona_collapse.questionnaire)
        load_personas(settings.persona_collapse.personas)
    if settings.bench:
        from emscope.evaluate.bench import check_bench

        check_bench(settings.bench, settings.bench_settings)
    if settings.patch_prefix_from and settings.sampling.backend == "vllm":
        from emscope.errors import InputError

        raise InputError("eval.patch_prefix_from: not with eval.sampling.backend=vllm (vLLM computes its own KV "
                         "cache; the patch hooks the HF model): use the hf backend")
    return questions, probes


def _check_model_spec(cfg: EvalConfig, loaded: bool = False) -> None:
    """The model spec names something loadable and the adapter directory exists (before any work, exit 2); with
    `eval.patch_prefix_from`, there is an adapter to disable (unless a model is `loaded` already: then the patch
    checks it)."""
    from emscope.errors import InputError, ModelLoadError
    from emscope.models.specs import describe_spec

    try:
        describe_spec(cfg.model)
    except ModelLoadError as exc:
        raise InputError(f"model: {exc}") from None
    if cfg.adapter is not None and not (Path(cfg.adapter) / "adapter_config.json").is_file():
        raise InputError(f"adapter: {cfg.adapter}: not a PEFT adapter directory (no adapter_config.json)")
    if cfg.eval.patch_prefix_from and not loaded and cfg.adapter is None and describe_spec(cfg.model) != "adapter-dir":
        raise InputError(f"eval.patch_prefix_from={cfg.eval.patch_prefix_from}: needs an adapter to disable (adapter="
                         f"DIR, or an adapter directory as model); {cfg.model!r} has none (a full fine-tune keeps no "
                         f"base weights to patch from)")


def finished_section(cfg: EvalConfig) -> dict | None:
    """The stored `eval` section when this evaluation has finished with these settings, else None; other settings
    that conflict with a finished part are an InputError (`eval_conflicts`). Reads two small files, loads nothing."""
    out = Path(cfg.out)
    state = check_claim(out, "eval.yaml", cfg, conflicts=eval_conflicts(out))
    return read_summary(out)["eval"] if state is not True and stage_done(out, "eval") else None


def eval_or_skip(cfg: EvalConfig) -> tuple[dict, bool]:
    """`run_eval(cfg)`, and whether `cfg.out` already held this finished evaluation (nothing evaluated: a rerun of
    finished work, which loads nothing)."""
    if (done := finished_section(cfg)) is not None:
        return done, True
    return run_eval(cfg), False


def run_eval(cfg: EvalConfig, model=None, tokenizer=None) -> dict:
    """Evaluate a model (optionally with adapter) and return the `eval` summary section; returns the stored one when
    this evaluation has finished with these settings. Other settings reuse the finished parts they do not touch
    (see the module docstring) and refuse those they do."""
    out = Path(cfg.out)
    if (done := finished_section(cfg)) is not None:
        return done
    start = time.time()
    questions, probes = check_eval_inputs(cfg.eval)  # bad files fail before any work
    _check_model_spec(cfg, loaded=model is not None)
    system = resolve_system_prompt(cfg.eval.system_prompt)
    questions = prompted(questions, system)
    probes = [p.model_copy(update={"system": merge_system(system, p.system)}) for p in probes] if system else probes
    if cfg.eval.judge:
        from emscope.evaluate.judges.registry import build_judges

        judges = build_judges(cfg.eval.judge)  # a bad spec or missing key fails before any sampling
        from emscope.evaluate.judges.card import judge_record

        judge = judge_record(cfg.eval.judge).model_dump()  # the judge's card: validated or indicative, and why
        if cfg.eval.mgs or any(q.labels is not None for q in questions):
            from emscope.evaluate.judges.labels import check_classifies

            check_classifies(judges["aligned"], cfg.eval.judge)
    out.mkdir(parents=True, exist_ok=True)
    old = saved_config(out, "eval.yaml")
    previous = _take_new_settings(out, cfg)
    stored_probe = _reusable_probe(previous, old, cfg)
    # seconds per part, each announced as it starts (a resumed part counts only its remaining work; loading the
    # model is `load_model`, not part of the part that first needed it)
    parts: dict[str, float] = {}

    def timed(name: str, title: str, fn):
        loaded = parts.get("load_model", 0.0)
        with stage(title, parts, key=name):
            result = fn()
        parts[name] = round(max(parts[name] - (parts.get("load_model", 0.0) - loaded), 0.0), 2)
        return result

    def probe() -> ProbeResult:
        if stored_probe is not None:
            return stored_probe
        ev.ensure_model()
        task = progress.add_task(f"likelihood probe {cfg.label}", total=probe_answers(probes))
        return likelihood_probe(ev.model, ev.tokenizer, probes, seed=cfg.eval.sampling.seed,
                                on_batch=lambda k: progress.advance(task, k))

    with make_progress() as progress:
        ev = _Evaluator(cfg, model, tokenizer, progress, parts)
        with ev.stack:  # the prefix patch (if any) is removed when the run ends, however it ends
            samples = timed("samples", "sample answers",
                            lambda: ev.samples("samples", questions, cfg.eval.sampling))
            section = {"label": cfg.label, "model": cfg.model,
                       "adapter": str(cfg.adapter) if cfg.adapter else None,
                       **({"system_prompt": cfg.eval.system_prompt, "system_prompt_text": ev.system}
                          if ev.system else {}),
                       **({"patch_prefix_from": cfg.eval.patch_prefix_from} if cfg.eval.patch_prefix_from else {}),
                       "n_samples": len(samples), "probe": timed("probe", "likelihood probe", probe).model_dump()}
            if cfg.eval.judge:
                section["judge"] = judge
                section["em"] = timed("judged", "judge answers",
                                      lambda: ev.judged("judged", samples, questions))
            for name, title, on, fn in (
                    ("narrow", f"narrow ({cfg.eval.narrow})", cfg.eval.narrow, ev.narrow),
                    ("refusal", "refusal", cfg.eval.refusal, ev.refusal),
                    ("benign", "benign task", cfg.eval.benign, ev.benign),
                    ("hacking", "hacking", cfg.eval.hacking, ev.hacking),
                    ("mgs", "mgs", cfg.eval.mgs, ev.mgs),
                    ("persona_collapse", "persona collapse", cfg.eval.persona_collapse, ev.persona_collapse),
                    ("bench", "benchmarks", cfg.eval.bench, ev.bench)):
                if on:
                    section[name] = timed(name, title, fn)
    section["part_seconds"] = parts
    section["seconds"] = round(time.time() - start, 2)
    update_summary(out, "eval", section)
    return section


def probe_of(section: dict) -> ProbeResult:
    """The probe result stored in an `eval` summary section."""
    return ProbeResult.model_validate(section["probe"])
