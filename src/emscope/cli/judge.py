"""`emscope judge`: fit the CPU classifier judge, validate a judge against reference labels (the validation goes on
the judge's card), show a judge's card."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emscope.cli.console import out
from emscope.errors import InputError

judge_app = typer.Typer(help="Judges: fit the fast CPU classifier judge, validate any judge against labels, show "
                             "a judge's card.",
                        no_args_is_help=True)


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

    from emscope.evaluate.judges.card import card_lines, read_card
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
    card = read_card(out_dir)  # fit_classifier writes the judge's card with the judge
    h = report.held_out
    out.print(f"Fitted on {report.data.n_used} of {report.data.n_rows} distinct rows in {report.seconds:.0f} s; "
              f"out-of-fold dev: {h.model_dump_json()}", markup=False)
    for line in card_lines(card):
        out.print(line, markup=False)
    out.print(f"Judge: [bold]classifier:{out_dir}[/bold] (indicative until validated on held-out labels: "
              f"`emscope judge validate --judge classifier:{out_dir} --against HELD_OUT_DIR`)")


@judge_app.command("validate")
def judge_validate(
    judge: Annotated[str, typer.Option(help="Judge spec: classifier[:DIR], hf:MODEL, openai:MODEL\\[@BASE_URL], "
                                            "package.module:factory.")],
    against: Annotated[list[Path], typer.Option(help="Judged CSV/JSONL files or directories of them (the "
                                                     "reference labels); repeatable.")],
    definition: Annotated[str, typer.Option(
        help="EM threshold preset for the per-file rates: betley, mo, tan or macdiarmid.")] = "betley",
    prompts: Annotated[str | None, typer.Option(help="Judge prompt YAML with aligned/coherent templates "
                                                     "(default: emscope's).")] = None,
    limit_per_file: Annotated[int | None, typer.Option(min=1, help="Score at most N random rows per file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the per-file subsample.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """How well a judge reproduces reference scores: AUROC for aligned < 30, Spearman, per-file EM-rate error. The
    result goes on the judge's card as a held-out validation (in-sample when the judge was fitted on these files);
    a judge is validated once a held-out AUROC reaches 0.9."""
    import json

    from emscope.evaluate.judges.card import (
        card_lines,
        save_validation,
        training_files,
        validation_data,
        validation_from_result,
    )
    from emscope.evaluate.judges.registry import build_judges
    from emscope.evaluate.metrics import PRESETS
    from emscope.evaluate.questions import load_judge_prompts
    from emscope.evaluate.summary import pct
    from emscope.evaluate.validate import judged_files, validate_judge
    from emscope.progress import make_progress

    if definition not in PRESETS:
        raise InputError(f"--definition: unknown definition {definition!r}; use one of {', '.join(PRESETS)}")
    files = judged_files(against)
    judges = build_judges(judge)
    with make_progress() as progress:
        task = progress.add_task(f"judge {len(files)} files", total=None)
        result = validate_judge(judges, files, load_judge_prompts(prompts), name=judge, definition=definition,
                                limit_per_file=limit_per_file, seed=seed,
                                on_done=lambda k: progress.advance(task, k))
    for msg in result.unusable:
        print(f"error: {msg}", file=sys.stderr)
    used = [Path(f.file).name for f in result.per_file]
    seen = training_files(judge) & set(used)
    kind = "in-sample" if seen else "held-out"
    validation = validation_from_result(result, validation_data(against, [f.n for f in result.per_file]),
                                        "emscope judge validate", kind=kind)
    card_file, card = save_validation(judge, validation)
    if as_json:
        print(json.dumps({**result.model_dump(), "card": {"path": str(card_file), "status": card.status(),
                                                          "warning": card.warning(), "validation": kind}}))
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
    for metric, reasons in result.no_score.items():
        if reasons:
            out.print(f"no {metric} score from the judge: {sum(reasons.values())} answers ("
                      + ", ".join(f"{r} {k}" for r, k in reasons.items()) + ")", markup=False)
    if seen:
        out.print(f"note: the judge was fitted on {len(seen)} of these files; recorded as an in-sample validation "
                  f"(never validates a judge)", markup=False)
    out.print(f"Card updated: {card_file}", markup=False)
    for line in card_lines(card)[:1]:
        out.print(line, markup=False)


@judge_app.command("card")
def judge_card(
    spec: Annotated[str, typer.Argument(help="Judge spec: classifier[:DIR], hf:MODEL, openai:MODEL\\[@BASE_URL], "
                                             "package.module:factory.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the card as JSON (with status and warning).")]
    = False,
) -> None:
    """Show a judge's card: what it is, its validations, and whether its EM rates are validated or indicative."""
    import json

    from emscope.evaluate.judges.card import card_for_spec, card_lines, card_path

    card = card_for_spec(spec)
    if as_json:
        print(json.dumps({**card.model_dump(mode="json"), "status": card.status(), "warning": card.warning(),
                          "path": str(card_path(spec))}))
        return
    for line in card_lines(card):
        out.print(line, markup=False)
    if spec == "classifier" and (card.recipe or "").startswith("seed-"):
        out.print("  note: plain `classifier` is the seed fallback until the default judge is built: "
                  "`emscope judge build` (see `emscope judge card classifier:judged-dev`)", markup=False)


@judge_app.command("build")
def judge_build(
    data: Annotated[Path | None, typer.Option(help="A folder already holding the 60 pinned judged-dev files (e.g. "
                                                   "../shared/em-data/judged/dev); default: fetch them.")] = None,
    source: Annotated[str | None, typer.Option(help="Root URL or folder of a copy of the upstream repository "
                                                    "(default: $EMSCOPE_DATA_MIRROR or GitHub).")] = None,
    force: Annotated[bool, typer.Option(help="Refit even when the default judge is already built.")] = False,
) -> None:
    """Build the default `classifier` judge once: fetch the public GPT-4o-judged answers (sha256-pinned), fit
    (~15 minutes on 2 CPU cores) and cache it under $EMSCOPE_HOME; until then `classifier` is the seed fallback."""
    from emscope.evaluate.judges.card import card_for_spec, card_lines
    from emscope.evaluate.judges.classifier import build_default_judge

    directory = build_default_judge(data=data, source=source, force=force, log=lambda m: print(m, file=sys.stderr))
    out.print(f"Default judge: {directory}", markup=False)
    for line in card_lines(card_for_spec("classifier")):
        out.print(line, markup=False)
