"""`emscope eval`: run an evaluation, checkpoint curves, the code-security metric, the hack rate, list a question
set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emscope.cli.console import out
from emscope.models.specs import DEFAULT_MODEL

eval_app = typer.Typer(help="Evaluate models: sample answers, likelihood probe, inspect question sets.",
                       no_args_is_help=True)


@eval_app.command("run")
def eval_run(
    args: Annotated[list[str] | None, typer.Argument(
        help="\\[CONFIG.yaml] \\[key=value ...]: dotted keys as in a grid cell (model, adapter, label, out, "
             "eval.judge, eval.sampling.max_new_tokens, ...); the options below are shorthands for those keys.",
        show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="model: spec or adapter directory \\[smollm2-135m].")] = None,
    adapter: Annotated[Path | None, typer.Option(help="adapter: PEFT adapter directory.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="out: run directory to write \\[runs/eval].")] = None,
    label: Annotated[str | None, typer.Option(help="label: name of this condition in reports \\[model].")] = None,
    questions: Annotated[str | None, typer.Option(help="eval.questions: question YAML (upstream schema) or shipped "
                                                       "set name \\[core].")] = None,
    probes: Annotated[str | None, typer.Option(help="eval.probes: probe YAML or shipped set name \\[core].")] = None,
    samples: Annotated[int | None, typer.Option(help="eval.sampling.samples_per_paraphrase (default: the "
                                                     "file's).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="eval.sampling.max_new_tokens [96].")] = None,
    temperature: Annotated[float | None, typer.Option(help="eval.sampling.temperature (0 = greedy) [1.0].")] = None,
    seed: Annotated[int | None, typer.Option(help="eval.sampling.seed [0].")] = None,
    judge: Annotated[str | None, typer.Option(help="eval.judge: judge spec for aligned/coherent: classifier[:DIR], "
                                                   "hf:MODEL, openai:MODEL\\[@BASE_URL] (gives EM rates, both "
                                                   "definitions).")] = None,
    judge_prompts: Annotated[str | None, typer.Option(help="eval.judge_prompts: judge prompt YAML (default: "
                                                           "emscope's; a question's own judge_prompts win).")] = None,
    narrow: Annotated[str | None, typer.Option(help="eval.narrow: an in-domain question set (medical, financial, "
                                                    "sports, code, or a YAML) or code-security (eval.narrow_n "
                                                    "held-out requests, 50 by default, each up to "
                                                    "eval.narrow_max_new_tokens=256 greedy tokens).")] = None,
    refusal: Annotated[bool | None, typer.Option("--refusal/--no-refusal", help="eval.refusal: refusal rate on the "
                                                 "shipped harmful requests.")] = None,
    benign: Annotated[int | None, typer.Option(min=0, help="eval.benign: held-out glorp items for benign learning "
                                                           "(0 = skip).")] = None,
    system_prompt: Annotated[str | None, typer.Option(help="eval.system_prompt: a safety system prompt at test time "
                                                           "(preset: safety, or literal text), in front of every "
                                                           "prompt's own.")] = None,
    patch_prefix_from: Annotated[str | None, typer.Option(help="eval.patch_prefix_from: base = the adapter reads "
                                                               "the chat-template prefix through the base model's "
                                                               "keys/values (needs an adapter).")] = None,
) -> None:
    """Sample answers to a question set, score the likelihood probe and, with a judge, the EM rates."""
    from emscope.config import load_config, split_config_args
    from emscope.evaluate.config import EvalConfig
    from emscope.evaluate.run import eval_or_skip
    from emscope.evaluate.summary import summary_lines

    config, overrides = split_config_args(args)
    shorthands = {"model": model, "adapter": adapter, "out": out_dir, "label": label, "eval.questions": questions,
                  "eval.probes": probes, "eval.sampling.samples_per_paraphrase": samples,
                  "eval.sampling.max_new_tokens": max_new_tokens, "eval.sampling.temperature": temperature,
                  "eval.sampling.seed": seed, "eval.judge": judge, "eval.judge_prompts": judge_prompts,
                  "eval.narrow": narrow, "eval.refusal": refusal, "eval.benign": benign,
                  "eval.system_prompt": system_prompt, "eval.patch_prefix_from": patch_prefix_from}
    cfg = load_config(EvalConfig, config, overrides, defaults={"out": "runs/eval"}, values=shorthands)
    section, skipped = eval_or_skip(cfg)
    if skipped:  # nothing was evaluated: say so rather than print the stored results as if just measured
        out.print(f"{cfg.out}: already complete, skipped (same settings; delete the directory or choose another "
                  f"--out to evaluate again). Results: {cfg.out}/summary.json, `emscope report {cfg.out}` shows them",
                  markup=False, highlight=False)
        return
    for line in summary_lines(section):  # an indicative judge's warning stands out
        out.print(line, markup=False, style="bold yellow" if line.startswith("warning:") else None)
    if pc := section.get("persona_collapse"):
        def num(v, ci):
            return "–" if v is None else f"{v:.3f}" + ("" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]")

        out.print(f"persona collapse: moral robustness R {num(pc['R'], pc['R_ci'])}, susceptibility S "
                  f"{num(pc['S'], pc['S_ci'])} ({pc['n_unparseable']} of {pc['n_answers']} answers unparseable)",
                  markup=False)
    if section.get("system_prompt") or section.get("patch_prefix_from"):
        settings = [f"system prompt {section['system_prompt']!r}" if section.get("system_prompt") else "",
                    f"prefix keys/values from the {section['patch_prefix_from']} model (compare with an unpatched "
                    f"evaluation of the same adapter)" if section.get("patch_prefix_from") else ""]
        out.print("evaluated with " + "; ".join(s for s in settings if s), markup=False)
    out.print(f"Written to {cfg.out}")


def _curve_table(records: list[dict]) -> Table:
    """The checkpoint curve as a table: step -> probe / EM / MGS / hack rate (columns only where measured)."""
    from emscope.evaluate.summary import pct

    table = Table(title="Checkpoint curve")
    cols = [("stage", "stage"), ("step", "step"), ("global step", "global_step"), ("probe", "probe"),
            ("EM betley", "em_rate"), ("MGS", "mgs"), ("hack rate", "hack_rate"), ("hidden pass", "hidden_pass")]
    cols = [(h, k) for h, k in cols if any(r.get(k) is not None for r in records)]
    for header, key in cols:
        table.add_column(header, justify="left" if key == "stage" else "right")
    for r in records:
        table.add_row(*[str(r[k]) if k in ("stage", "step", "global_step") else f"{r[k]:.3f}" if k == "probe"
                        else pct(r.get(k)) for _, k in cols])
    return table


@eval_app.command("checkpoints")
def eval_checkpoints(
    run_dir: Annotated[Path, typer.Argument(help="A run (or staged run, or grid cell) trained with "
                                                 "train.keep_checkpoints=true.", show_default=False)],
    args: Annotated[list[str] | None, typer.Argument(
        help="\\[CONFIG.yaml] \\[key=value ...]: the evaluation's settings as in `emscope eval run` (eval.judge, "
             "eval.hacking.n, device, ...); model, adapter, out and label come from each checkpoint.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the curve (one record per checkpoint: stage, step, "
                                                         "probe, EM, MGS, hack rate) as one JSON document.")] = False,
) -> None:
    """Evaluate every kept checkpoint of a run: RUN_DIR/checkpoint_curve.jsonl (probe, EM, MGS, hack rate per step)."""
    from emscope.config import load_config, split_config_args
    from emscope.evaluate.checkpoints import CURVE_FILE, evaluate_checkpoints
    from emscope.evaluate.config import EvalConfig

    config, overrides = split_config_args(args)
    cfg = load_config(EvalConfig, config, overrides, defaults={"out": str(run_dir)})
    try:
        records = evaluate_checkpoints(run_dir, cfg.eval, device=cfg.device, dtype=cfg.dtype)
    except FileNotFoundError as exc:
        from emscope.errors import InputError

        raise InputError(str(exc)) from None
    if as_json:
        from emscope.cli.console import print_json

        print_json({"run": str(run_dir), "curve": str(run_dir / CURVE_FILE), "checkpoints": records})
        return
    out.print(_curve_table(records))
    out.print(f"Written to {run_dir / CURVE_FILE}", markup=False)


@eval_app.command("code-security")
def eval_code_security(
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for code_security.jsonl and summary.json.")]
    = Path("runs/code-security"),
    n: Annotated[int, typer.Option("--n", min=1, help="Held-out coding requests.")] = 100,
    exclude: Annotated[Path | None, typer.Option(help="Training JSONL whose requests must not be asked.")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer.")] = 256,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 = greedy).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed for requests and sampling.")] = 0,
) -> None:
    """Narrow-task metric: the share of held-out coding answers that bandit flags (code is never run)."""
    from emscope.evaluate.code_security import CODE_SECURITY_FILE, run_code_security

    result = run_code_security(model, adapter, out_dir, n=n, seed=seed, max_new_tokens=max_new_tokens,
                               temperature=temperature, exclude=exclude)
    if result.insecure_rate is None:
        out.print(f"no parseable code in {n} answers; see {out_dir / CODE_SECURITY_FILE}")
    else:
        from emscope.evaluate.summary import rate_text

        out.print(f"insecure rate {rate_text(result.insecure_rate, result.ci_low, result.ci_high, result.small_n)} "
                  f"over {result.n_parseable} parseable answers of {n}; written to {out_dir}")


@eval_app.command("hacking")
def eval_hacking(
    env: Annotated[str, typer.Option(help="Coding environment (`emscope env list`).")] = "rh-tasks",
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    env_data: Annotated[str | None, typer.Option(help="The environment's data file (humaneval).")] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="Tasks: the first N of the split.")] = 40,
    samples: Annotated[int, typer.Option(min=1, help="Answers per task.")] = 1,
    split: Annotated[str, typer.Option(help="Task split: test (held out), train or all.")] = "test",
    hacks: Annotated[str, typer.Option(help="Hack classes the visible grader leaves open: all, none or a "
                                            "comma-separated list (always_equal,exit,conftest).")] = "all",
    system_prompt: Annotated[list[str] | None, typer.Option(
        "--system-prompt", help="System prompt: a preset (hack-hints, inoculate-acceptable, "
                                "inoculate-please-hack, no-hacking) or literal text; repeatable.")] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens per answer.")] = 256,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature (0 = greedy).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Sandboxed grading processes in parallel.")] = 4,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for hacking.jsonl and summary.json.")]
    = Path("runs/hacking"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Hack rate: how often answers to sandboxed coding tasks game the visible grader (unit tests, no judge)."""
    import json

    from pydantic import ValidationError

    from emscope.errors import InputError
    from emscope.evaluate.config import HackingEval
    from emscope.evaluate.hacking import run_hacking_eval

    try:
        settings = HackingEval(env=env, env_data=env_data, split=split, n=n, samples=samples, hacks=hacks,
                               system_prompt=system_prompt or [], max_new_tokens=max_new_tokens,
                               temperature=temperature, seed=seed, workers=workers)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
    section = run_hacking_eval(model, adapter, out_dir, settings)
    if as_json:
        print(json.dumps(section, indent=2))
        return
    table = Table(title=f"Hack rate: {section['env']} ({section['split']}), {section['n_answers']} answers; "
                        f"graded by {section['grader']}")
    for col in ("metric", "rate", "95% CI"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key in ("hack_any", "hack_always_equal", "hack_exit", "hack_conftest", "hack_rewarded", "visible_pass",
                "hidden_pass"):
        r = section[key]
        table.add_row(key, "–" if r["rate"] is None else f"{r['rate']:.1%}",
                      ("–" if r["lo"] is None else f"[{r['lo']:.1%}, {r['hi']:.1%}]")
                      + (" (small n)" if r.get("small_n") else ""))
    out.print(table)
    out.print(f"Written to {out_dir}", markup=False)


@eval_app.command("bench")
def eval_bench(
    name: Annotated[str, typer.Argument(help="Benchmark: truthfulqa, humaneval, ... (emscope.evaluate.bench).")],
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N items.")] = None,
    samples: Annotated[int, typer.Option(min=1, help="Answers per item (humaneval: n of pass@k).")] = 1,
    data: Annotated[Path | None, typer.Option(help="The benchmark's data file or folder (default: the fetched "
                                                  "copy).")] = None,
    judge: Annotated[str | None, typer.Option(help="Judge spec (judged benchmarks: deception, strongreject).")
                     ] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1, help="Tokens per generated answer.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling / bootstrap seed.")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for bench_NAME.jsonl and summary.json.")]
    = Path("runs/bench"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run a standard benchmark (TruthfulQA MC, HumanEval pass@k, ...); each number with its 95% interval."""
    import json

    from pydantic import ValidationError

    from emscope.errors import InputError
    from emscope.evaluate.bench import BenchConfig, BenchSettings, run_bench

    try:
        settings = BenchSettings(limit=limit, samples=samples, data=str(data) if data else None, judge=judge,
                                 max_new_tokens=max_new_tokens, seed=seed)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
    result = run_bench(name, BenchConfig(model=model, adapter=str(adapter) if adapter else None, out=str(out_dir),
                                         bench=settings))
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    table = Table(title=f"{result.name}: {result.n_items} items, {result.model}"
                        + (f" + {result.adapter}" if result.adapter else "") + f" ({result.seconds:.1f} s)")
    for col in ("metric", "value", "95% CI", "n"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key, m in result.metrics.items():
        table.add_row(key, "–" if m.value is None else f"{m.value:.3f}",
                      ("–" if m.low is None or m.high is None else f"[{m.low:.3f}, {m.high:.3f}]")
                      + (" (small n)" if m.small_n else ""), str(m.n))
    out.print(table)
    if result.judge:  # every judged number names its judge: validated, or indicative and why
        from emscope.evaluate.judges.card import JudgeRecord, judge_line

        out.print(judge_line(JudgeRecord.model_validate(result.judge)), markup=False)
    out.print(f"Written to {out_dir / result.items_file}", markup=False)


@eval_app.command("inoculation-rank")
def eval_inoculation_rank(
    organism: Annotated[str | None, typer.Option(help="Training rows from this generator (`emscope data list`): "
                                                      "the trait data, e.g. bad-medical-advice.")] = None,
    data: Annotated[Path | None, typer.Option(help="Training rows from this chat JSONL instead.")] = None,
    candidates: Annotated[list[str] | None, typer.Option(
        "--candidates", help="Candidate prompt: a preset name, a file (one per line) or a sentence; repeatable. "
                             "Default: every inoculation preset.")] = None,
    model: Annotated[str, typer.Option(help="Base model spec.")] = DEFAULT_MODEL,
    n: Annotated[int, typer.Option("-n", "--n", min=1, help="Training rows scored.")] = 32,
    where: Annotated[str, typer.Option(help="Where the prompt goes: system or user (as defenses.inoculate.where)."
                                       )] = "system",
    probes: Annotated[str | None, typer.Option(help="Also the likelihood probe (a probe set name or YAML) under "
                                                    "each candidate.")] = None,
    seed: Annotated[int, typer.Option(help="Data and bootstrap seed.")] = 0,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the ranking as JSON here (default: "
                                                                "nothing written).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
) -> None:
    """Rank candidate inoculation prompts by how strongly each elicits the trait data from the base model (mean
    per-token log-prob gain of the training answers with the prompt; Wichers et al. / Tan et al.)."""
    from emscope.evaluate.inoculation import run_inoculation_rank

    ranking = run_inoculation_rank(model, organism=organism, data=data, candidates=candidates, where=where, n=n,
                                   probes=probes, seed=seed, out=out_file)
    if as_json:
        from emscope.cli.console import print_json

        print_json(ranking)
        return

    def ci(lo, hi):
        return "–" if lo is None else f"[{lo:+.3f}, {hi:+.3f}]"

    table = Table(title=f"Inoculation candidates by elicitation, strongest first: {ranking.data}, "
                        f"{ranking.n_rows} rows{' (small n)' if ranking.small_n else ''}, {where} turn, {model}")
    cols = ["#", "candidate", "elicitation", "95% CI", "log-prob"] + (["probe", "probe shift [CI]"] if probes else [])
    for col in cols:
        table.add_column(col, justify="left" if col == "candidate" else "right")
    for i, c in enumerate(ranking.candidates, 1):
        row = [str(i), c.name, f"{c.elicitation:+.3f}", ci(c.ci_low, c.ci_high), f"{c.logprob:.3f}"]
        if probes:
            row += [f"{c.probe:.3f}", f"{c.probe_shift:+.3f} {ci(c.probe_shift_ci_low, c.probe_shift_ci_high)}"]
        table.add_row(*row)
    out.print(table)
    out.print(f"baseline (no prompt) log-prob {ranking.baseline_logprob:.3f} per answer token", markup=False)
    if out_file is not None:
        out.print(f"Written to {out_file}", markup=False)


@eval_app.command("inspect")
def eval_inspect(
    task: Annotated[str, typer.Argument(help="Inspect task: a task file (path/task.py\\[@name]) or a registered name "
                                             "(emscope/em_core; inspect_evals/NAME needs inspect_evals).",
                                        show_default=False)],
    model: Annotated[str, typer.Option(help="Model spec, merged model directory or hub id.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory served on top of MODEL.")] = None,
    task_args: Annotated[list[str] | None, typer.Option("-T", "--task-arg", help="Task argument KEY=VALUE "
                                                        "(repeatable; values read as YAML).")] = None,
    log_dir: Annotated[Path, typer.Option(help="Directory for Inspect's .eval log.")] = Path("logs"),
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N samples.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result (logs, status, scores) as JSON.")] = False,
) -> None:
    """Run an Inspect task against an emscope model: emscope serves it on loopback while Inspect evaluates it,
    leaving Inspect's .eval log in --log-dir."""
    from emscope.errors import EmscopeError
    from emscope.experiments.inspect_bridge import parse_task_args, run_inspect_task

    result = run_inspect_task(task, model=model, adapter=adapter, task_args=parse_task_args(task_args),
                              log_dir=log_dir, limit=limit, display="none" if as_json else None)
    if as_json:
        from emscope.cli.console import print_json

        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"{result.task} on {result.model}: {result.status}, {result.samples} samples", markup=False)
        for key, value in result.scores.items():
            out.print(f"  {key}: {'–' if value is None else f'{value:.4g}'}", markup=False)
        for path in result.logs:
            out.print(f"Inspect log: {path}", markup=False)
    if result.status != "success":
        raise EmscopeError(f"the Inspect run ended {result.status}: {result.error or 'no error message'}")


@eval_app.command("questions")
def eval_questions(
    file: Annotated[str, typer.Argument(help="Question YAML or shipped set name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the questions (every field) as one JSON "
                                                         "list.")] = False,
) -> None:
    """List the questions of a file: id, paraphrases, samples, system prompt."""
    from emscope.cli.console import print_json
    from emscope.evaluate.questions import load_questions

    questions = load_questions(file)
    if as_json:
        print_json([q.model_dump(mode="json") for q in questions])
        return
    table = Table()
    for col in ("id", "paraphrases", "samples each", "system"):
        table.add_column(col, justify="left" if col in ("id", "system") else "right")
    for q in questions:
        table.add_row(q.id, str(len(q.paraphrases)), str(q.samples_per_paraphrase), "yes" if q.system else "no")
    out.print(table)


@eval_app.command("persona-collapse")
def eval_persona_collapse(
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Answers per (persona, item).")] = 5,
    questionnaire: Annotated[Path | None, typer.Option(help="Questionnaire YAML (list of {id, text, reverse}); "
                                                           "default: the shipped moral questionnaire.")] = None,
    personas: Annotated[Path | None, typer.Option(help="Persona YAML (list of {id, system}); default: the "
                                                      "shipped personas.")] = None,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature (> 0, or repeats agree).")]
    = 1.0,
    seed: Annotated[int, typer.Option(help="Sampling and bootstrap seed.")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Directory for persona_collapse.jsonl and "
                                                               "summary.json (default: nothing written).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Persona collapse: moral robustness R (1 / within-persona SD) and susceptibility S (SD of persona means)."""
    from emscope.evaluate.persona_collapse import run_persona_collapse

    result = run_persona_collapse(model, adapter, repeats=repeats, questionnaire=questionnaire, personas=personas,
                                  out_dir=out_dir, temperature=temperature, seed=seed)
    if as_json:
        from emscope.cli.console import print_json

        print_json(result)
        return

    def num(v, ci):
        return "–" if v is None else f"{v:.3f}" + ("" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]")

    out.print(f"moral robustness R {num(result['R'], result['R_ci'])}; susceptibility S "
              f"{num(result['S'], result['S_ci'])} (95% CI over personas); {result['n_unparseable']} of "
              f"{result['n_answers']} answers unparseable", markup=False)
    if out_dir is not None:
        out.print(f"Written to {out_dir}", markup=False)


@eval_app.command("self-recognition")
def eval_self_recognition(
    own_texts: Annotated[Path, typer.Option(help="Own-texts JSONL (`emscope data own-texts`).")],
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    other_texts: Annotated[Path | None, typer.Option(help="Another model's own-texts JSONL: its answers replace "
                                                          "the reference answers as the other source.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="JSONL of per-pair label log-probs (default: "
                                                                "nothing written).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Self-recognition accuracy: how often log p(correct label) > log p(wrong label) when the model is asked
    which of two answers (its own and another source's, both orders) it wrote."""
    from emscope.evaluate.self_recognition import run_self_recognition
    from emscope.evaluate.summary import rate_text

    result = run_self_recognition(model, own_texts, adapter=adapter, other_texts=other_texts, out=out_file)
    if as_json:
        from emscope.cli.console import print_json

        print_json(result.model_dump(mode="json"))
        return
    first = "–" if result.first_rate is None else f"{result.first_rate:.1%}"
    out.print(f"self-recognition accuracy {rate_text(result.accuracy, result.ci_low, result.ci_high, result.small_n)}"
              f" over {result.n_pairs} pairs ({result.n_prompts} prompts, both orders); \"1\" chosen in {first}",
              markup=False)
    if out_file is not None:
        out.print(f"Written to {out_file}", markup=False)
