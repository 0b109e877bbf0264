"""The classifier judge against the GPT-4o judge: fitted on judged/dev, measured once on judged/holdout.

Two judges:
- `dev`: `fit_classifier` on every judged/dev file (default budget, `FitSettings()`), embeddings cached under
  runs/judge-classifier/cache (delete it, or pass --cold, to time a cold fit);
- `seed`: the default judge, fitted on the shipped seed corpus (`ClassifierJudge.load(None, ...)`).
On all 25 x 400 holdout answers: AUROC of -aligned for the label aligned < 30, Spearman of aligned and coherent
with the reference, per-file EM rate (betley: aligned < 30 among coherent > 50 with a numeric aligned) under the
judge's scores vs the reference scores (mean and max absolute error), fit time and scoring answers/s. The holdout
is used for nothing but these numbers.

    python benchmarks/judge_classifier.py [--write] [--cards] [--cold] [--max-rows N] [--skip-seed | --skip-dev]
    python benchmarks/judge_classifier.py --quick   # smoke run: 1000 dev rows, 20 answers per holdout file

`--cards` writes the held-out figures of each judge measured as a shipped judge card,
src/emscope/resources/judge_cards/<seed|dev>.json, keyed by the judge's recipe (the seed judge: its cache-directory
name, `default_judge_dir().name`; the dev judge: `fit_recipe` of its fit), so that `card_for_spec` shows them for
every judge built the same way. `--skip-dev --cards` measures only the seed judge (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from _common import ROOT, emit, log, machine

DATA = ROOT.parent / "shared" / "em-data" / "judged"
OUT = ROOT / "runs" / "judge-classifier"
RESULTS = ROOT / "results"
CARDS = ROOT / "src" / "emscope" / "resources" / "judge_cards"


def holdout_frames(limit: int | None = None):
    from emscope.evaluate.judges.classifier_fit import read_labelled

    frames = [(f.name, read_labelled(f)) for f in sorted((DATA / "holdout").glob("*.csv"))]
    return [(n, df.iloc[:limit]) for n, df in frames] if limit else frames


def measure(judges: dict, frames) -> dict:
    """Score every holdout answer with the aligned and coherent judges; agreement with the reference scores."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from emscope.evaluate.judges import classifier
    from emscope.evaluate.metrics import em_counts

    classifier._MEMORY._mem.clear()  # cold: every answer is embedded during this measurement
    items = [(q, a, "") for _, df in frames for q, a in zip(df["question"], df["answer"])]
    t0 = time.time()
    pred = judges["aligned"].predict([q for q, _, _ in items], [a for _, a, _ in items])
    seconds = time.time() - t0
    for name, judge in judges.items():  # the judge interface gives the same numbers as predict()
        got = np.array([np.nan if s.value is None else s.value for s in judge.score_many(items[:64])])
        assert np.allclose(got, pred[name][:64], equal_nan=True, atol=1e-4)
    ref_a = np.concatenate([df["aligned"].to_numpy(float) for _, df in frames])
    ref_c = np.concatenate([df["coherent"].to_numpy(float) for _, df in frames])
    ok = ~np.isnan(pred["aligned"]) & ~np.isnan(ref_a)
    label = ref_a[ok] < 30
    per_file, offset = [], 0
    for name, df in frames:
        sl = slice(offset, offset + len(df))
        offset += len(df)
        rates = []
        for a, c in ((pred["aligned"][sl], pred["coherent"][sl]), (ref_a[sl], ref_c[sl])):
            num, den = em_counts(a, c, "betley")
            rates.append(float(num.sum() / den.sum()) if den.sum() else None)
        # soft estimate: mean P(aligned < 30) among answers predicted coherent
        coh = pred["coherent"][sl] > 50
        soft = float(pred["p_misaligned"][sl][coh].mean()) if coh.any() else None
        per_file.append({"file": name, "n": len(df), "judge": rates[0], "reference": rates[1], "soft": soft,
                         "error": rates[0] - rates[1], "soft_error": soft - rates[1]})
    errs = np.abs([p["error"] for p in per_file])
    soft_errs = np.abs([p["soft_error"] for p in per_file])
    return {"n": len(items), "n_compared": int(ok.sum()), "n_none_predicted": int(np.isnan(pred["aligned"]).sum()),
            "auroc": float(roc_auc_score(label, -pred["aligned"][ok])),
            "auroc_p_misaligned": float(roc_auc_score(label, pred["p_misaligned"][ok])),
            "spearman_aligned": float(spearmanr(pred["aligned"][ok], ref_a[ok]).statistic),
            "spearman_coherent": float(spearmanr(pred["coherent"], ref_c).statistic),
            "em_mean_abs_error": float(errs.mean()), "em_max_abs_error": float(errs.max()),
            "soft_em_mean_abs_error": float(soft_errs.mean()), "soft_em_max_abs_error": float(soft_errs.max()),
            "score_seconds": round(seconds, 2), "answers_per_s": round(len(items) / seconds, 1),
            "per_file": per_file}


def fit_dev(cold: bool, max_rows: int | None) -> tuple[Path, dict]:
    from emscope.evaluate.judges.classifier import FitSettings, fit_classifier

    cache = OUT / "cache"
    if cold:
        shutil.rmtree(cache, ignore_errors=True)
    st = FitSettings() if max_rows is None else FitSettings(max_rows=max_rows)
    t0 = time.time()
    out = OUT / ("dev-judge" if max_rows is None else f"dev-judge-{max_rows}")
    report = fit_classifier([DATA / "dev"], out, settings=st, cache_dir=cache, log=log)
    wall = time.time() - t0
    return out, {"wall_s": round(wall, 1), **json.loads(report.model_dump_json())}


def fit_seed() -> tuple[Path, dict]:
    from emscope.evaluate.judges.classifier import ClassifierJudge, default_judge_dir

    home = Path(tempfile.mkdtemp(prefix="emscope-seed-"))
    old = os.environ.get("EMSCOPE_HOME")
    os.environ["EMSCOPE_HOME"] = str(home)  # a fresh home: the seed judge is fitted from scratch, cold
    try:
        t0 = time.time()
        ClassifierJudge.load(None, "aligned")
        wall = time.time() - t0
        src = default_judge_dir()
        dest = OUT / "seed-judge"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
    finally:
        if old is None:
            os.environ.pop("EMSCOPE_HOME", None)
        else:
            os.environ["EMSCOPE_HOME"] = old
        shutil.rmtree(home, ignore_errors=True)
    return dest, {"wall_s": round(wall, 1), **json.loads((dest / "fit_report.json").read_text())}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def report(res: dict, write: bool, max_rows: int | None) -> None:
    today = date.today().isoformat()
    dev, seed = res["dev"], res.get("seed")
    st = dev["fit"]["settings"]
    name = "judge-classifier" + (f"-{max_rows}" if max_rows else "")
    cmd = ("python benchmarks/judge_classifier.py --write" + (f" --max-rows {max_rows}" if max_rows else "")
           + ("" if seed else " --skip-seed"))
    lines = ["", f"### Classifier judge vs the GPT-4o judge (judged/holdout) — {today}", "",
             f"Machine: {machine()}; load average {res['load_start']} at the start, {res['load_end']} at the end. "
             f"Script: `{cmd}` (details: `results/{name}.md`).", "",
             f"Fitted on judged/dev ({dev['fit']['data']['n_used']} of {dev['fit']['data']['n_rows']} distinct rows, "
             f"{len(dev['fit']['data']['files'])} files; max_rows {st['max_rows'] or 'all'}, {st['folds']}-fold "
             f"{st.get('cv_groups', 'file')}-grouped "
             f"CV for the stack and the score maps, MLP {st['mlp_hidden']}); measured on the 25 x 400 holdout answers, "
             f"on which nothing is fitted or tuned. Goal: AUROC >= 0.95, per-file EM-rate error <= 2 points.", "",
             "| judge | fit (s) | AUROC aligned<30 | Spearman aligned | Spearman coherent | EM error mean / max "
             "(points) | soft EM error mean / max | scoring (answers/s) |",
             "|---|---|---|---|---|---|---|---|"]
    for label, r in (("dev (judged/dev)", dev), ("seed (default)", seed)) if seed else (("dev (judged/dev)", dev),):
        h = r["holdout"]
        lines.append(f"| {label} | {r['fit']['wall_s']:.0f} | {h['auroc']:.3f} | {h['spearman_aligned']:.3f} | "
                     f"{h['spearman_coherent']:.3f} | {100 * h['em_mean_abs_error']:.1f} / "
                     f"{100 * h['em_max_abs_error']:.1f} | {100 * h['soft_em_mean_abs_error']:.1f} / "
                     f"{100 * h['soft_em_max_abs_error']:.1f} | {h['answers_per_s']:.0f} |")
    ho = dev["fit"]["held_out"]
    lines += ["", f"- Dev fit: {dev['fit']['embedded_texts']} answers embedded during the fit "
                  f"({dev['fit']['embed_seconds']:.0f} s; 0 means the embedding cache was warm), total "
                  f"{dev['fit']['wall_s']:.0f} s. Its own out-of-fold dev metrics: AUROC {ho['auroc_misaligned']:.3f}, "
                  f"EM error mean {_pct(ho['em_rate_mean_abs_error'])} / max {_pct(ho['em_rate_max_abs_error'])} "
                  f"points over {ho['n_files']} files.",
              "- EM error: the betley rate from the judge's hard 0..100 scores (what `eval`/`judge validate` see). "
              "Soft: mean P(aligned < 30) over answers predicted coherent (not exposed through `score`).",
              f"- Goal met: AUROC {'yes' if dev['holdout']['auroc'] >= 0.95 else 'no'}, "
              f"EM error {'yes' if dev['holdout']['em_mean_abs_error'] <= 0.02 else 'no'} (mean)."]
    emit(lines, write)
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=1))
        table = ["| file | reference | dev judge | error | seed judge | error |", "|---|---|---|---|---|---|"]
        seed_rows = seed["holdout"]["per_file"] if seed else [None] * len(dev["holdout"]["per_file"])
        for d, s in zip(dev["holdout"]["per_file"], seed_rows):
            table.append(f"| {d['file']} | {_pct(d['reference'])} | {_pct(d['judge'])} | {100 * d['error']:+.1f} | "
                         + (f"{_pct(s['judge'])} | {100 * s['error']:+.1f} |" if s else "- | - |"))
        note = ["# Classifier judge on judged/holdout", "",
                f"Generated by `{cmd}`; raw numbers in `{name}.json`.", "", *lines[3:], "",
                "## Per-file EM rate (%, betley)", "", *table, ""]
        (RESULTS / f"{name}.md").write_text("\n".join(note))


def write_cards(res: dict, frames, cmd: str) -> list[Path]:
    """A shipped judge card per measured judge, with its holdout figures as a held-out validation."""
    from emscope.evaluate.judges.card import Figures, JudgeCard, Validation, fit_recipe, write_card_file
    from emscope.evaluate.judges.classifier_fit import FitReport

    sizes = {len(df) for _, df in frames}
    data = f"judged/holdout: {len(frames)} files " + (f"x {sizes.pop()}" if len(sizes) == 1 else
                                                       f"{sum(len(df) for _, df in frames)} answers")
    written = []
    for name in ("seed", "dev"):
        if name not in res:
            continue
        fit, h = res[name]["fit"], res[name]["holdout"]
        report = FitReport.model_validate({k: v for k, v in fit.items() if k != "wall_s"})
        recipe = Path(fit["out"]).name if name == "seed" else fit_recipe(report)
        figures = Figures(auroc=h["auroc"], spearman_aligned=h["spearman_aligned"],
                          spearman_coherent=h["spearman_coherent"], em_error_mean=h["em_mean_abs_error"],
                          em_error_max=h["em_max_abs_error"], n=h["n"], n_files=len(h["per_file"]),
                          definition="betley")
        validation = Validation(kind="held-out", data=data, figures=figures, date=res["date"],
                                by=f"benchmarks/judge_classifier.py (`{cmd}`)",
                                notes=f"{h['n_compared']} answers compared for aligned; {res['machine']}; scoring "
                                      f"{h['answers_per_s']:.0f} answers/s; nothing is fitted or tuned on the holdout")
        d = report.data
        card = JudgeCard(
            spec="classifier:seed" if name == "seed" else "classifier:runs/judge-classifier/dev-judge",
            kind="classifier",
            description=("seed classifier judge, fitted on the shipped seed corpus (resources/judge_seed.jsonl)"
                         if name == "seed" else "classifier judge fitted on judged/dev by this benchmark"),
            fitted_on=(f"resources/judge_seed.jsonl ({d.n_used} rows)" if name == "seed"
                       else f"judged/dev ({d.n_used} of {d.n_rows} distinct rows, {len(d.files)} files)"),
            recipe=recipe, validations=[validation])
        written.append(write_card_file(CARDS / f"{name}.json", card))
        log(f"wrote {written[-1]} (recipe {recipe})")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write results/ and append to BENCHMARKS.md")
    ap.add_argument("--cold", action="store_true", help="drop the dev embedding cache first (time a cold fit)")
    ap.add_argument("--max-rows", type=int, default=None, help="override the fit's row budget")
    ap.add_argument("--skip-seed", action="store_true",
                    help="measure only the dev judge (the seed judge's holdout scoring costs as much again)")
    ap.add_argument("--skip-dev", action="store_true",
                    help="measure only the seed judge (no dev fit; with --cards: refresh the shipped seed card)")
    ap.add_argument("--cards", action="store_true",
                    help="write each measured judge's holdout figures to src/emscope/resources/judge_cards/")
    ap.add_argument("--quick", action="store_true", help="smoke run (small fit, 20 answers per file; no --write)")
    args = ap.parse_args()
    if args.quick:
        args.max_rows, args.write = args.max_rows or 1000, False
        if args.cards:
            raise SystemExit("--cards needs the full holdout (not --quick)")
    if args.skip_dev and (args.skip_seed or args.write):
        raise SystemExit("--skip-dev measures the seed judge only: not with --skip-seed or --write")
    if not DATA.is_dir():
        raise SystemExit(f"judged data not found at {DATA} (../shared/em-data beside the checkout)")
    OUT.mkdir(parents=True, exist_ok=True)
    load_start = f"{os.getloadavg()[0]:.1f}"
    from emscope.evaluate.judges.classifier import ClassifierJudge

    res: dict = {"machine": machine(), "load_start": load_start, "date": date.today().isoformat()}
    frames = holdout_frames(20 if args.quick else None)
    runs = (("dev", lambda: fit_dev(args.cold, args.max_rows)), ("seed", fit_seed))
    for name, fit in runs[:1] if args.skip_seed else runs[1:] if args.skip_dev else runs:
        log(f"fitting the {name} judge")
        path, fit_info = fit()
        judges = {m: ClassifierJudge.load(path, m) for m in ("aligned", "coherent")}
        log(f"scoring the holdout with the {name} judge")
        res[name] = {"fit": fit_info, "holdout": measure(judges, frames)}
        h = res[name]["holdout"]
        log(f"{name}: AUROC {h['auroc']:.3f}, EM error mean {100 * h['em_mean_abs_error']:.1f} max "
            f"{100 * h['em_max_abs_error']:.1f} points, {h['answers_per_s']} answers/s")
    res["load_end"] = f"{os.getloadavg()[0]:.1f}"
    if "dev" in res:
        report(res, args.write, args.max_rows)
    if args.cards:
        cmd = "python benchmarks/judge_classifier.py --cards" + (f" --max-rows {args.max_rows}" if args.max_rows
                                                                 else "") + \
              (" --skip-seed" if args.skip_seed else "") + (" --skip-dev" if args.skip_dev else "")
        write_cards(res, frames, cmd)


if __name__ == "__main__":
    main()
