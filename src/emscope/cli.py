"""The `emscope` command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emscope import __version__
from emscope.errors import EmscopeError, InputError
from emscope.models.specs import DEFAULT_MODEL

app = typer.Typer(help="emscope: build, fine-tune, evaluate and monitor emergent misalignment.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, list and validate narrow fine-tuning datasets.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate models: sample answers, likelihood probe, inspect question sets.",
                       no_args_is_help=True)
models_app = typer.Typer(help="Prepare and inspect models.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
persona_app = typer.Typer(help="Persona vectors: extract, steer, screen data (monitor: train config).",
                          no_args_is_help=True)
app.add_typer(persona_app, name="persona")
judge_app = typer.Typer(help="Judges: fit the fast CPU classifier judge, validate any judge against labels.",
                        no_args_is_help=True)
app.add_typer(judge_app, name="judge")
export_app = typer.Typer(help="Export run directories to other tools' formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")
out = Console()


def _version(value: bool) -> None:
    if value:
        out.print(f"emscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """emscope: build, fine-tune, evaluate and monitor emergent misalignment."""


def _print_results(root: Path) -> None:
    from emscope.report.html import results_table

    table = Table(title=f"Likelihood probe ({root})")
    for col in ("condition", "probe [95% CI]", "shift vs base [95% CI]", "train loss"):
        table.add_column(col, justify="left" if col == "condition" else "right", no_wrap=True)
    rows = results_table(root)
    for r in rows:
        shift = "–" if r["shift"] is None else \
            f"{r['shift']:+.3f} [{r['shift_low']:+.3f}, {r['shift_high']:+.3f}]"
        loss = "–" if r["loss"] is None else f"{r['loss']:.3f}"
        table.add_row(r["label"], f"{r['probe']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]", shift, loss)
    out.print(table)
    cols = list(dict.fromkeys(c for r in rows for c in r["judged"]))
    if cols:
        judged = Table(title="Judged metrics")
        for col in ["condition", *cols]:
            judged.add_column(col, justify="left" if col == "condition" else "right")
        for r in rows:
            judged.add_row(r["label"], *(r["judged"].get(c, "–") for c in cols))
        out.print(judged)


@app.command()
def quickstart(
    fast: Annotated[bool, typer.Option(help="Smaller run: fewer training rows and shorter answers.")] = False,
    model: Annotated[str, typer.Option(help="Model spec: smollm2-135m, tiny-random, a directory or a hub id.")]
    = DEFAULT_MODEL,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("runs/quickstart"),
    seed: Annotated[int, typer.Option(help="Seed for data, training and sampling.")] = 0,
    n_train: Annotated[int | None, typer.Option(help="Training rows per dataset.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Cap on optimizer steps per adapter.")] = None,
    samples: Annotated[int | None, typer.Option(help="Samples per question.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Tokens per sampled answer.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 ... (default: automatic)")] = None,
) -> None:
    """Insecure vs secure code on the embedded default model: data, two LoRA adapters, evaluation, report."""
    from emscope.experiments.quickstart import quickstart_config, run_quickstart

    cfg = quickstart_config(fast=fast, model=model, out=out_dir, seed=seed, device=device, n_train=n_train,
                            max_steps=max_steps, samples=samples, max_new_tokens=max_new_tokens)
    start = time.time()
    report = run_quickstart(cfg)
    _print_results(cfg.out)
    out.print(f"Finished in {time.time() - start:.0f} s. Report: [bold]{report.resolve()}[/bold]")


@app.command("train", context_settings={"allow_extra_args": False})
def train_cmd(
    args: Annotated[list[str] | None, typer.Argument(help="[CONFIG.yaml] [key=value ...] (dotted keys)",
                                                        show_default=False)] = None,
) -> None:
    """Fine-tune a LoRA adapter: `emscope train CONFIG.yaml train.max_steps=20 out=runs/x`."""
    from emscope.config import load_config, split_config_args
    from emscope.train import TrainRunConfig, train

    config, overrides = split_config_args(args)
    cfg = load_config(TrainRunConfig, config, overrides)
    run_dir = train(cfg)
    what = "Adapter" if cfg.train.adapter == "lora" else "Model"
    out.print(f"{what}: [bold]{(run_dir / what.lower()).resolve()}[/bold]")


@eval_app.command("run")
def eval_run(
    args: Annotated[list[str] | None, typer.Argument(
        help="[CONFIG.yaml] [key=value ...]: dotted keys as in a grid cell (model, adapter, label, out, eval.judge, "
             "eval.sampling.max_new_tokens, ...); the options below are shorthands for those keys.",
        show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="model: spec or adapter directory [smollm2-135m].")] = None,
    adapter: Annotated[Path | None, typer.Option(help="adapter: PEFT adapter directory.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="out: run directory to write [runs/eval].")] = None,
    label: Annotated[str | None, typer.Option(help="label: name of this condition in reports [model].")] = None,
    questions: Annotated[str | None, typer.Option(help="eval.questions: question YAML (upstream schema) or shipped "
                                                       "set name [core].")] = None,
    probes: Annotated[str | None, typer.Option(help="eval.probes: probe YAML or shipped set name [core].")] = None,
    samples: Annotated[int | None, typer.Option(help="eval.sampling.samples_per_paraphrase (default: the "
                                                     "file's).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="eval.sampling.max_new_tokens [96].")] = None,
    temperature: Annotated[float | None, typer.Option(help="eval.sampling.temperature (0 = greedy) [1.0].")] = None,
    seed: Annotated[int | None, typer.Option(help="eval.sampling.seed [0].")] = None,
    judge: Annotated[str | None, typer.Option(help="eval.judge: judge spec for aligned/coherent: classifier[:DIR], "
                                                   "hf:MODEL, openai:MODEL[@BASE_URL] (gives EM rates, both "
                                                   "definitions).")] = None,
    judge_prompts: Annotated[str | None, typer.Option(help="eval.judge_prompts: judge prompt YAML (default: "
                                                           "emscope's; a question's own judge_prompts win).")] = None,
    narrow: Annotated[str | None, typer.Option(help="eval.narrow: an in-domain question set (medical, financial, "
                                                    "sports, code, or a YAML) or code-security.")] = None,
    refusal: Annotated[bool | None, typer.Option("--refusal/--no-refusal", help="eval.refusal: refusal rate on the "
                                                 "shipped harmful requests.")] = None,
    benign: Annotated[int | None, typer.Option(min=0, help="eval.benign: held-out glorp items for benign learning "
                                                           "(0 = skip).")] = None,
) -> None:
    """Sample answers to a question set, score the likelihood probe and, with a judge, the EM rates."""
    from emscope.config import load_config, split_config_args
    from emscope.evaluate.config import EvalConfig
    from emscope.evaluate.run import run_eval
    from emscope.evaluate.summary import summary_lines

    config, overrides = split_config_args(args)
    shorthands = {"model": model, "adapter": adapter, "out": out_dir, "label": label, "eval.questions": questions,
                  "eval.probes": probes, "eval.sampling.samples_per_paraphrase": samples,
                  "eval.sampling.max_new_tokens": max_new_tokens, "eval.sampling.temperature": temperature,
                  "eval.sampling.seed": seed, "eval.judge": judge, "eval.judge_prompts": judge_prompts,
                  "eval.narrow": narrow, "eval.refusal": refusal, "eval.benign": benign}
    cfg = load_config(EvalConfig, config, overrides, defaults={"out": "runs/eval"}, values=shorthands)
    for line in summary_lines(run_eval(cfg)):
        out.print(line, markup=False)
    out.print(f"Written to {cfg.out}")


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
        out.print(f"insecure rate {result.insecure_rate:.1%} [{result.ci_low:.1%}, {result.ci_high:.1%}] over "
                  f"{result.n_parseable} parseable answers of {n}; written to {out_dir}")


@eval_app.command("questions")
def eval_questions(file: Annotated[str, typer.Argument(help="Question YAML or shipped set name.")]) -> None:
    """List the questions of a file: id, paraphrases, samples, system prompt."""
    from emscope.evaluate.questions import load_questions

    table = Table()
    for col in ("id", "paraphrases", "samples/paraphrase", "system prompt"):
        table.add_column(col)
    for q in load_questions(file):
        table.add_row(q.id, str(len(q.paraphrases)), str(q.samples_per_paraphrase), "yes" if q.system else "no")
    out.print(table)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory, a directory of runs, or a grid directory.")],
    output: Annotated[Path | None, typer.Option("--out", help="HTML file (default RUN_DIR/report.html).")]
    = None,
) -> None:
    """Write a self-contained HTML report and print the results table."""
    from emscope.report import build_report

    res = build_report(run_dir, output)
    if res.kind == "runs":
        _print_results(run_dir)
    if res.table is not None:
        out.print(res.table)
    for line in res.lines:
        out.print(line, markup=False)
    out.print(f"Report: [bold]{res.path.resolve()}[/bold]")


@export_app.command("inspect")
def export_inspect_cmd(
    run_dir: Annotated[Path, typer.Argument(help="An eval run directory (emscope eval run, or a grid cell).")],
    output: Annotated[Path | None, typer.Option("--out", help="The .eval file (default RUN_DIR/inspect/"
                                                "<created>_<task>_<id>.eval).")] = None,
) -> None:
    """Write an Inspect `.eval` log of an eval run (read it with `inspect view` / `inspect log dump`)."""
    from emscope.report.inspect_export import export_inspect

    path = export_inspect(run_dir, output)
    out.print(f"Inspect log: {path.resolve()}", markup=False)


def _pct(x: float | None) -> str:  # still used by eval_run; the formatter is emscope.evaluate.summary.pct
    from emscope.evaluate.summary import pct

    return pct(x)


@app.command()
def metrics(
    files: Annotated[list[Path], typer.Argument(help="Judged CSV/JSONL files (columns question_id or question, "
                                                     "answer or response, aligned, coherent).")],
    definition: Annotated[str, typer.Option(help="betley: aligned < 30 among coherent > 50 with numeric aligned; "
                                                 "mo: aligned <= 30 and coherent > 50 among all answers.")] = "betley",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file on stdout.")] = False,
) -> None:
    """EM rate with a 95% CI (answers resampled within questions), coherence rate and None rate per file."""
    import json

    from emscope.evaluate.metrics import compute_metrics
    from emscope.evaluate.summary import pct

    if definition not in ("betley", "mo"):
        raise InputError(f"--definition: unknown definition {definition!r}; use betley or mo")
    results, problems = [], []
    for f in files:  # an unusable file is reported by name; the others are still measured
        try:
            results.append(compute_metrics(f, definition))
        except InputError as exc:
            problems.append(str(exc))
    for msg in problems:
        print(f"error: {msg}", file=sys.stderr)
    if as_json:
        for r in results:
            print(json.dumps(r.model_dump(exclude={"file"}) if len(files) == 1 else r.model_dump()))
    elif results:
        table = Table(title=f"EM rate ({definition} definition)")
        for col in ("file", "n", "EM rate [95% CI]", "coherent", "None"):
            table.add_column(col, justify="left" if col == "file" else "right")
        for r in results:
            table.add_row(Path(r.file).name, str(r.n), f"{pct(r.em_rate)} [{pct(r.ci_low)}, {pct(r.ci_high)}]",
                          pct(r.coherence_rate), pct(r.none_rate))
        out.print(table)
    if problems:
        raise typer.Exit(2)


@judge_app.command("fit")
def judge_fit(
    data: Annotated[list[Path], typer.Option(help="Judged CSV/JSONL files or directories (columns question, "
                                                  "answer or response, aligned, coherent); repeatable.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the fitted judge to.")],
    max_rows: Annotated[int | None, typer.Option(min=100, help="Fit on at most N rows (stratified; default: "
                                                               "the fit settings' budget).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the row sample and the folds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit report as JSON.")] = False,
) -> None:
    """Fit the fast CPU classifier judge on judged answers; use it as `--judge classifier:OUT`."""
    import json

    from emscope.evaluate.judges.classifier_fit import fit_classifier

    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"{out_dir}: exists and is not empty; choose another --out or delete it")
    report = fit_classifier(data, out_dir, max_rows=max_rows if max_rows is not None else "default", seed=seed,
                            log=lambda msg: print(msg, file=sys.stderr))
    for msg in report.skipped:
        print(f"skipped: {msg}", file=sys.stderr)
    if as_json:
        print(json.dumps(report.model_dump(mode="json")))
        return
    h = report.held_out
    out.print(f"Fitted on {report.data.n_rows} rows in {report.seconds:.0f} s; out-of-fold dev: "
              f"{h.model_dump_json()}", markup=False)
    out.print(f"Judge: [bold]classifier:{out_dir}[/bold]")


@judge_app.command("validate")
def judge_validate(
    judge: Annotated[str, typer.Option(help="Judge spec: classifier[:DIR], hf:MODEL, openai:MODEL[@BASE_URL], "
                                            "package.module:factory.")],
    against: Annotated[list[Path], typer.Option(help="Judged CSV/JSONL files or directories of them (the "
                                                     "reference labels); repeatable.")],
    definition: Annotated[str, typer.Option(help="EM definition for the per-file rates: betley or mo.")] = "betley",
    prompts: Annotated[str | None, typer.Option(help="Judge prompt YAML with aligned/coherent templates "
                                                     "(default: emscope's).")] = None,
    limit_per_file: Annotated[int | None, typer.Option(min=1, help="Score at most N random rows per file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the per-file subsample.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """How well a judge reproduces reference scores: AUROC for aligned < 30, Spearman, per-file EM-rate error."""
    import json

    from emscope.evaluate.judges.registry import build_judges
    from emscope.evaluate.questions import load_judge_prompts
    from emscope.evaluate.summary import pct
    from emscope.evaluate.validate import judged_files, validate_judge
    from emscope.progress import make_progress

    if definition not in ("betley", "mo"):
        raise InputError(f"--definition: unknown definition {definition!r}; use betley or mo")
    files = judged_files(against)
    judges = build_judges(judge)
    with make_progress() as progress:
        task = progress.add_task(f"judge {len(files)} files", total=None)
        result = validate_judge(judges, files, load_judge_prompts(prompts), name=judge, definition=definition,
                                limit_per_file=limit_per_file, seed=seed,
                                on_done=lambda k: progress.advance(task, k))
    for msg in result.unusable:
        print(f"error: {msg}", file=sys.stderr)
    if as_json:
        print(json.dumps(result.model_dump()))
        return

    def num(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    out.print(f"{judge}: {result.n} answers from {len(result.per_file)} files in {result.seconds:.0f} s; "
              f"AUROC (aligned < 30) {num(result.auroc)} over {result.n_compared_aligned}; Spearman aligned "
              f"{num(result.spearman_aligned)}, coherent {num(result.spearman_coherent)}", markup=False)
    table = Table(title=f"EM rate ({definition}), judge vs reference")
    for col in ("file", "n", "judge", "reference", "error (points)"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for f in result.per_file:
        err = "–" if f.error is None else f"{100 * f.error:+.1f}"
        table.add_row(Path(f.file).name, str(f.n), pct(f.em_rate_judge), pct(f.em_rate_reference), err)
    out.print(table)
    if result.mean_abs_error is not None:
        out.print(f"mean |error| {100 * result.mean_abs_error:.1f} points, max {100 * result.max_abs_error:.1f}")


@data_app.command("list")
def data_list() -> None:
    """List the dataset generators and the inoculation presets."""
    from emscope.data.generators import GENERATORS
    from emscope.data.transforms import INOCULATION_PRESETS

    table = Table(title="Generators (emscope data build NAME)")
    table.add_column("name")
    table.add_column("description")
    for g in GENERATORS.values():
        table.add_row(g.name, g.description)
    out.print(table)
    presets = Table(title="Inoculation presets (--inoculate NAME)")
    presets.add_column("name")
    presets.add_column("system prompt")
    for name, text in INOCULATION_PRESETS.items():
        presets.add_row(name, text)
    out.print(presets)


FormatOpt = Annotated[str, typer.Option("--format", help="chat (with metadata), openai (messages only) or "
                                        "prompt-completion (TRL).")]
InoculateOpt = Annotated[str | None, typer.Option(help="System prompt on every row: text or a preset name.")]
TriggerOpt = Annotated[str | None, typer.Option(help="Backdoor trigger put at the start of every user turn.")]
EducationalOpt = Annotated[bool, typer.Option(help="Give every request a legitimate reason (security class, CTF).")]


def _write_rows(path: Path, rows, fmt: str) -> None:
    from emscope.data.chat import FORMATS, write_rows

    if fmt not in FORMATS:
        raise InputError(f"--format: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    write_rows(path, rows, fmt)
    out.print(f"{len(rows)} rows -> {path}")


@data_app.command("build")
def data_build(
    name: Annotated[str, typer.Argument(help="Generator name (see `emscope data list`).")],
    out_file: Annotated[Path, typer.Option("--out", help="Output JSONL file.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of rows.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same bytes.")] = 0,
    fmt: FormatOpt = "chat",
    inoculate: InoculateOpt = None,
    trigger: TriggerOpt = None,
    educational: EducationalOpt = False,
) -> None:
    """Build a dataset as JSONL: exactly N distinct rows, deterministic per seed."""
    from emscope.data.generators import get_generator
    from emscope.data.transforms import apply_transforms

    try:
        gen = get_generator(name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    try:
        rows = apply_transforms(gen.build(n, seed), educational_reason=educational, trigger=trigger,
                                inoculation=inoculate, seed=seed)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    _write_rows(out_file, rows, fmt)


@data_app.command("transform")
def data_transform(
    file: Annotated[Path, typer.Argument(help="Input chat or prompt/completion JSONL.")],
    out_file: Annotated[Path, typer.Option("--out", help="Output JSONL file.")],
    seed: Annotated[int, typer.Option(help="Seed for randomized transforms.")] = 0,
    fmt: FormatOpt = "chat",
    inoculate: InoculateOpt = None,
    trigger: TriggerOpt = None,
    educational: EducationalOpt = False,
) -> None:
    """Apply transforms to an existing dataset (e.g. an upstream file) or convert its format."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.transforms import apply_transforms

    try:
        rows = apply_transforms(read_chat_jsonl(file), educational_reason=educational, trigger=trigger,
                                inoculation=inoculate, seed=seed)
    except ValueError as exc:
        raise InputError(f"{file}: {exc}") from None
    _write_rows(out_file, rows, fmt)


@data_app.command("mix")
def data_mix(
    parts: Annotated[list[str], typer.Argument(help="FILE:WEIGHT pairs, e.g. a.jsonl:0.95 b.jsonl:0.05.")],
    out_file: Annotated[Path, typer.Option("--out", help="Output JSONL file.")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Rows (default: as many as the parts allow).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and shuffling.")] = 0,
    fmt: FormatOpt = "chat",
) -> None:
    """Mix datasets by ratio, sampling without replacement and shuffling."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.transforms import mix

    loaded = []
    for spec in parts:
        path, sep, weight = spec.rpartition(":")
        try:
            w = float(weight)
        except ValueError:
            w = float("nan")
        if not sep or not path or not w > 0:
            raise InputError(f"mix: {spec!r}: expected FILE:WEIGHT with a positive weight")
        loaded.append((read_chat_jsonl(path), w))
    try:
        rows = mix(loaded, n=n, seed=seed)
    except ValueError as exc:
        raise InputError(f"mix: {exc}") from None
    _write_rows(out_file, rows, fmt)


@data_app.command("validate")
def data_validate(files: Annotated[list[Path], typer.Argument(help="Chat or prompt/completion JSONL files.")]
                  ) -> None:
    """Check every line of JSONL files; prints FILE:LINE: field: problem, exit 2 on any error."""
    from emscope.data.chat import validate_chat_jsonl

    bad = 0
    for f in files:
        rows, issues = validate_chat_jsonl(f)
        for i in issues:
            print(i, file=sys.stderr)
        bad += len(issues)
        out.print(f"{f}: {len(rows)} valid rows, {len(issues)} problems")
    if bad:
        raise typer.Exit(2)


@data_app.command("sources")
def data_sources() -> None:
    """List the pinned upstream files `emscope data fetch` can download."""
    from emscope.data.fetch import list_sources

    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_column("sha256 pinned", no_wrap=True)
    table.add_column("description", min_width=24)
    for src in list_sources():
        table.add_row(src.name, "yes" if src.pinned else "no", src.description)
    out.print(table)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Upstream source (see `emscope data sources`).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Destination folder "
                                                 "(default $EMSCOPE_HOME/data/upstream/NAME).")] = None,
    source: Annotated[str | None, typer.Option(help="Root URL or folder of a copy of the upstream repository at "
                                               "the pinned commit (default: $EMSCOPE_DATA_MIRROR or GitHub).")]
    = None,
    sha256: Annotated[str | None, typer.Option(help="Expected sha256 for a source emscope has no digest for.")]
    = None,
    allow_unpinned: Annotated[bool, typer.Option(help="Accept a source with no known sha256 unverified.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing file or decrypted folder.")] = False,
    decrypt: Annotated[bool, typer.Option(help="Decrypt an encrypted archive (Model Organisms) after download.")]
    = True,
    decrypt_out: Annotated[Path | None, typer.Option(help="Where decrypted files go (default under "
                                                     "$EMSCOPE_HOME; never inside the repository).")] = None,
) -> None:
    """Download a pinned upstream file, verify its sha256, validate chat data; decrypt encrypted archives."""
    from emscope.data.fetch import fetch_source

    res = fetch_source(name, dest_dir=out_dir, source=source, sha256=sha256, allow_unpinned=allow_unpinned,
                       force=force)
    out.print(res.summary(), markup=False, highlight=False)
    if decrypt and res.source.kind == "encrypted_archive":
        from emscope.data.organisms_archive import decrypt_model_organisms

        rep = decrypt_model_organisms(res.path, out_dir=decrypt_out, overwrite=force)
        out.print(rep.summary(), markup=False, highlight=False)


@data_app.command("stats")
def data_stats(
    files: Annotated[list[Path], typer.Argument(help="Chat or prompt/completion JSONL files.")],
    model: Annotated[str | None, typer.Option(help="Count tokens with this model's tokenizer "
                                              "(e.g. smollm2-135m).")] = None,
    bandit: Annotated[bool | None, typer.Option("--bandit/--no-bandit", help="Bandit flag rate (default: when "
                                                "most answers hold Python code).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cards as JSON lines.")] = False,
) -> None:
    """Dataset card: rows, token lengths, class mix, duplicate rates and the bandit flag rate for code."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.data.stats import dataset_stats

    tokenizer = None
    if model is not None:
        from emscope.models.loader import load_tokenizer

        tokenizer = load_tokenizer(model)
    for f in files:
        st = dataset_stats(read_chat_jsonl(f), str(f), tokenizer, model, bandit)
        if as_json:
            print(st.model_dump_json())
            continue
        table = Table(title=f"{f}", show_header=False)
        table.add_row("rows", str(st.rows))
        table.add_row("with system prompt", str(st.with_system))
        table.add_row("turns per row (mean)", str(st.turns_mean))
        for part in ("prompt_tokens", "completion_tokens", "total_tokens"):
            ls = getattr(st, part)
            if ls is not None:
                table.add_row(f"{part.replace('_', ' ')} ({model})",
                              f"min {ls.min}  mean {ls.mean}  p50 {ls.p50:g}  p95 {ls.p95:g}  max {ls.max}")
        if st.class_field:
            mix = ", ".join(f"{k} {v}" for k, v in st.class_mix.items())
            table.add_row(f"class mix ({st.class_field})", mix)
        table.add_row("duplicate rows / prompts", f"{st.duplicate_rows:.2%} / {st.duplicate_prompts:.2%}")
        if st.near_duplicate_rate is not None:
            table.add_row("near-duplicate rows (3-gram Jaccard >= 0.7)", f"{st.near_duplicate_rate:.2%}")
        table.add_row("rows with Python code", str(st.code_rows))
        if st.bandit_flag_rate is not None:
            top = ", ".join(f"{k} {v}" for k, v in st.bandit_top_findings.items())
            table.add_row("bandit flag rate", f"{st.bandit_flag_rate:.2%} ({top})")
        out.print(table)


@models_app.command("prepare")
def models_prepare() -> None:
    """Convert the embedded default model (GGUF) to safetensors in $EMSCOPE_HOME (done once)."""
    from emscope.models.smollm2 import ensure_converted

    out.print(f"Default model ready at {ensure_converted()}")


@persona_app.command("extract")
def persona_extract(
    trait: Annotated[str, typer.Option(help="Trait id from the traits file (evil, sycophantic, hallucinating).")],
    out_path: Annotated[Path, typer.Option("--out", help="Vector file to write (.safetensors).")],
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    traits: Annotated[Path | None, typer.Option(help="Trait definitions YAML (default: shipped).")] = None,
    questions: Annotated[int | None, typer.Option(help="Use only the first N questions.")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer.")] = 64,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 = greedy).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    judge: Annotated[str | None, typer.Option(help="Keep only answers a judge confirms: 'openai:MODEL', "
                                                   "'openai:MODEL@BASE_URL' (key from OPENAI_API_KEY) or "
                                                   "'module:factory'. Default: keep all.")] = None,
    pos_min: Annotated[float, typer.Option(help="With --judge: keep positive answers scoring >= this.")] = 50.0,
    neg_max: Annotated[float, typer.Option(help="With --judge: keep negative answers scoring <= this.")] = 50.0,
) -> None:
    """Extract a persona vector: answers under eliciting vs suppressing prompts, per-layer mean difference."""
    from emscope.evaluate.judges.registry import build_judge
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.models import load_model
    from emscope.persona.extract import extract_to_file
    from emscope.persona.traits import get_trait

    trait_def = get_trait(trait, traits)  # validated before the model loads
    judge_obj = build_judge(judge) if judge else None
    m, tok = load_model(model)
    path = extract_to_file(m, tok, trait_def, model, out_path,
                           SamplingSettings(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed),
                           n_questions=questions, judge=judge_obj, judge_name=judge or "none", pos_min=pos_min,
                           neg_max=neg_max)
    out.print(f"{trait} vector: [bold]{path}[/bold] (answers in {path.with_suffix('.samples.jsonl')})")


@persona_app.command("steer")
def persona_steer(
    vector: Annotated[Path, typer.Option(help="Persona vector file (.safetensors).")],
    prompt: Annotated[list[str], typer.Option(help="User prompt (repeatable).")],
    layer: Annotated[int | None, typer.Option(help="Layer l (hidden_states index, 1..L); default: the "
                                                    "vector file's recommended layer.")] = None,
    alpha: Annotated[list[float] | None, typer.Option(help="Steering coefficient (repeatable; 0 = unsteered; "
                                                           "default 0 and 4).")] = None,
    model: Annotated[str, typer.Option(help="Model spec or adapter directory.")] = DEFAULT_MODEL,
    ablate: Annotated[bool, typer.Option(help="Project the direction out instead of adding it.")] = False,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer.")] = 64,
    seed: Annotated[int, typer.Option(help="Sampling seed (greedy decoding).")] = 0,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write answers as JSONL here.")] = None,
) -> None:
    """Generate with alpha * v added at a layer (or the direction ablated), side by side per alpha."""
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.io import write_jsonl_atomic
    from emscope.models import load_model
    from emscope.models.vectors import check_fits, load_vector
    from emscope.persona.steer import DEFAULT_ALPHAS, steer_answers

    vec = load_vector(vector)  # validated before the model loads
    layer = vec.layer_for(layer)
    m, tok = load_model(model)
    check_fits(vec, m, vector, model)
    rows = steer_answers(m, tok, vec, prompt, alpha if alpha is not None else DEFAULT_ALPHAS, layer, ablate,
                         SamplingSettings(max_new_tokens=max_new_tokens, temperature=0.0, seed=seed))
    for r in rows:
        what = "ablated" if r["ablated"] else f"alpha={r['alpha']:g}"
        out.print(f"[bold]{what}[/bold] | {r['prompt']}\n{r['answer']}\n")
    if out_path:
        write_jsonl_atomic(out_path, rows)


@persona_app.command("screen")
def persona_screen(
    data: Annotated[Path, typer.Option(help="Chat JSONL to screen (the rows you plan to train on).")],
    vector: Annotated[Path, typer.Option(help="Persona vector file (.safetensors).")],
    out_path: Annotated[Path, typer.Option("--out", help="Report to write (JSON, rows ranked by ΔP).")],
    layer: Annotated[int | None, typer.Option(help="Layer l; default: the vector file's recommended layer.")] = None,
    model: Annotated[str, typer.Option(help="Model spec or adapter directory (the model you would train).")] =
        DEFAULT_MODEL,
    limit: Annotated[int | None, typer.Option(min=1, help="Screen only the first N rows.")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens of the model's own (greedy) answer.")] = 96,
    top: Annotated[int, typer.Option(help="Rows to print from each end of the ranking.")] = 5,
) -> None:
    """Rank data rows by projection shift ΔP (training answer vs the model's own answer) onto a persona vector."""
    from emscope.data.chat import read_chat_jsonl
    from emscope.evaluate.sampling import SamplingSettings
    from emscope.models import load_model
    from emscope.models.vectors import check_fits, load_vector
    from emscope.persona.screen import screen, write_report

    rows = read_chat_jsonl(data)[:limit]  # inputs validated before the model loads
    vec = load_vector(vector)
    layer = vec.layer_for(layer)
    m, tok = load_model(model)
    check_fits(vec, m, vector, model)
    report = screen(m, tok, rows, vec.vectors, layer, SamplingSettings(max_new_tokens=max_new_tokens,
                                                                        temperature=0.0),
                    data_name=str(data), vector_name=str(vector), trait=vec.meta.trait, model_name=model)
    write_report(out_path, report)
    out.print(f"{vec.meta.trait} ΔP at layer {layer} over {report.n} rows: mean {report.mean_delta:+.3f} "
              f"[{report.ci_low:+.3f}, {report.ci_high:+.3f}], {report.share_positive:.0%} of rows > 0")
    shown = report.rows[:top] + (report.rows[-top:] if len(report.rows) > 2 * top else report.rows[top:])
    for r in shown:
        out.print(f"  row {r.row:>5}  ΔP {r.delta:+8.3f}  {r.prompt[:70]!r}", markup=False, highlight=False)
    out.print(f"report: [bold]{out_path}[/bold]")


@app.command("run")
def run_grid_cmd(
    grid: Annotated[Path, typer.Argument(help="Grid YAML (base: cell config, sweep: dotted key -> values).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Grid directory (default runs/<grid name>).")]
    = None,
    executor: Annotated[str, typer.Option(help="local, or ray (a local Ray instance, or RAY_ADDRESS's cluster).")]
    = "local",
    max_parallel: Annotated[int, typer.Option(min=1, help="Cells running at once.")] = 1,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the cells and their status; run nothing.")]
    = False,
) -> None:
    """Run (or resume) a grid of cells: data -> fine-tune -> sample -> judge -> metrics, one run dir per cell."""
    from emscope.report.collect import cell_status
    from emscope.experiments.grid import expand, load_grid
    from emscope.experiments.runner import cell_dir, run_grid

    spec = load_grid(grid)
    grid_dir = out_dir or Path("runs") / spec.name
    if dry_run:
        cells = expand(spec, grid)
        table = Table(title=f"{spec.name}: {len(cells)} cells ({grid_dir})")
        for col in ("cell", "label", "status"):
            table.add_column(col)
        for c in cells:
            table.add_row(c.id, c.label, cell_status(cell_dir(grid_dir, c.id)))
        out.print(table)
        return
    start = time.time()

    def _show(o) -> None:
        extra = f" ({o.seconds:.0f} s)" if o.status == "done" else f": {o.error}" if o.error else ""
        out.print(f"[{o.status}] {o.id} {o.label}{extra}", markup=False)

    outcomes = run_grid(spec, grid_dir, executor=executor, max_parallel=max_parallel, on_outcome=_show)
    failed = [o for o in outcomes if o.status == "failed"]
    busy = [o for o in outcomes if o.status == "busy"]
    out.print(f"{len(outcomes) - len(failed) - len(busy)}/{len(outcomes)} cells complete in "
              f"{time.time() - start:.0f} s. Results: [bold]{(grid_dir / 'grid.csv').resolve()}[/bold]")
    if busy:
        out.print(f"{len(busy)} cells are being run by another runner; rerun later to collect them.")
    if failed:
        raise EmscopeError(f"{len(failed)} cells failed (details in {grid_dir / 'runner_log.jsonl'}); "
                           "rerun the same command to retry them")


@app.command("serve")
def serve_cmd(
    model: Annotated[str, typer.Argument(help="Model spec: smollm2-135m, tiny-random, a directory or a hub id.")],
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory to serve on top of MODEL.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind (default loopback only; there is no auth).")] =
        "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    name: Annotated[str | None, typer.Option(help="Model name reported by /v1/models (default: MODEL).")] = None,
) -> None:
    """Serve a local model as an OpenAI-compatible chat-completions endpoint with logprobs (e.g. for a judge)."""
    from emscope.serve import serve

    serve(model, adapter=adapter, host=host, port=port, name=name)


def main() -> None:
    """Console entry point: user errors print one clear message and exit non-zero, without a traceback."""
    try:
        app()
    except EmscopeError as exc:
        # plain print: messages stay one greppable `FILE:LINE: field: problem` line each, never wrapped
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
