"""`emscope persona`: extract persona vectors, steer with them, screen training data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emscope.cli.console import out, print_json
from emscope.models.specs import DEFAULT_MODEL

persona_app = typer.Typer(help="Persona vectors: extract, steer, screen data (monitor: train config).",
                          no_args_is_help=True)


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
    from emscope.models.vectors import load_vector

    meta = load_vector(path).meta
    out.print(f"{trait} vector: {path} (answers in {path.with_suffix('.samples.jsonl')})", markup=False)
    out.print(f"recommended layer {meta.layer}: separation {getattr(meta, 'separation', None)} (Cohen's d of the "
              "trait vs anti-trait answers' projections there); persona steer/screen and the steer defense use it "
              "unless given a layer", markup=False, highlight=False)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report (every row ranked) as JSON "
                                                         "instead of the summary.")] = False,
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
    if as_json:
        print_json(report)
        return
    out.print(f"{vec.meta.trait} ΔP at layer {layer} over {report.n} rows: mean {report.mean_delta:+.3f} "
              f"[{report.ci_low:+.3f}, {report.ci_high:+.3f}], {report.share_positive:.0%} of rows > 0")
    shown = report.rows[:top] + (report.rows[-top:] if len(report.rows) > 2 * top else report.rows[top:])
    for r in shown:
        out.print(f"  row {r.row:>5}  ΔP {r.delta:+8.3f}  {r.prompt[:70]!r}", markup=False, highlight=False)
    out.print(f"report: {out_path}", markup=False)


@persona_app.command("detect")
def persona_detect(
    run_dirs: Annotated[list[Path], typer.Argument(help="Training run directories with the trait_space monitor.")],
    labels: Annotated[str, typer.Option(help="One label per run, comma-separated: 1/prone or 0/control.")],
    threshold_rule: Annotated[str, typer.Option(help="youden or max-control.")] = "youden",
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the report as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Leave-one-run-out trait-space EM detector (and the PCA-of-activations baseline): AUROC, FNR, FPR."""
    from emscope.io import write_text_atomic
    from emscope.persona.trait_detector import detect_runs, parse_labels

    report = detect_runs(run_dirs, parse_labels(labels, len(run_dirs)), threshold_rule)
    if out_path:
        write_text_atomic(out_path, report.model_dump_json(indent=1))
    if as_json:
        print_json(report.model_dump())
        return
    for res in (report.traits, report.activations):
        if res is None:
            continue
        out.print(f"{res.features}: AUROC {res.auroc:.2f}, FNR {res.fnr:.0%}, FPR {res.fpr:.0%} "
                  f"({res.n_prone} EM-prone vs {res.n_control} control runs, leave-one-run-out, {res.threshold_rule})",
                  markup=False, highlight=False)
        for r in res.runs:
            out.print(f"  {r.name:<24} {'prone' if r.em_prone else 'control':<8} score {r.score:+9.4f}  threshold "
                      f"{r.threshold:+9.4f}  {'FLAGGED at step ' + str(r.first_flag_step) if r.flagged else '-'}",
                      markup=False, highlight=False)
