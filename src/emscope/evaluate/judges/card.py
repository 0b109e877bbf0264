"""Judge cards: what a judge is and how well it reproduces the reference judge on labels it never saw.

Every judge spec has a card (`card_for_spec`). A card lists the judge's validations against reference labels
(GPT-4o-judged files): AUROC of its aligned score for the reference label aligned < 30, Spearman correlations,
per-file EM-rate errors. A judge is **validated** only when its latest **held-out** validation reaches
`BAR_AUROC`; otherwise it is **indicative** and every EM rate it gives is shown with a warning saying why. A fit's
own out-of-fold figures on its training data (kind `out-of-fold dev`) and figures on its training files
(`in-sample`) are shown but never make a judge validated.

Where cards live:
- a classifier judge (`classifier:DIR`, or the default seed judge `classifier`): `DIR/card.json`;
- any other spec (`openai:`, `hf:`, `package.module:factory`): `$EMSCOPE_HOME/judges/cards/<slug of spec>.json`;
- shipped cards (`emscope/resources/judge_cards/*.json`, e.g. written by `benchmarks/judge_classifier.py --cards`)
  hold held-out validations of a classifier *recipe*; `card_for_spec` adds them to the card of any judge built by
  the same recipe (a judge emscope caches under `$EMSCOPE_HOME/judges/` has its directory name as its recipe:
  `seed-<hash>`, `judged-dev-<hash>`; a fitted judge's card names its recipe, by default `fit_recipe`).

A card stores a spec without credentials (`public_spec`: no user:password or query in a base URL); API keys are
never part of a spec. `summary.json`'s eval section records `JudgeCard.record()` next to the judged rates; old run
directories without one read as "judge unknown: indicative" (`section_judge`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from emscope.config import Strict
from emscope.errors import InputError
from emscope.io import write_json_atomic
from emscope.paths import emscope_home, resource_path

if TYPE_CHECKING:
    from emscope.evaluate.judges.classifier_fit import FitReport
    from emscope.evaluate.validate import Validation as ValidationResult

BAR_AUROC = 0.9
"""A judge is validated when its latest held-out AUROC (aligned < 30) reaches this."""
MIN_HELD_OUT_N = 200
"""... measured on at least this many answers (an AUROC from a handful of answers validates nothing)."""
CARD_FILE = "card.json"
SHIPPED_DIR = "judge_cards"
FORMAT = 1

JudgeKind = Literal["classifier", "openai", "hf", "factory"]
ValidationKind = Literal["out-of-fold dev", "held-out", "in-sample"]
Status = Literal["validated", "indicative"]


def today() -> str:
    """Today's date (UTC) as YYYY-MM-DD."""
    return datetime.now(UTC).date().isoformat()


class Figures(Strict):
    """Agreement with reference labels. Rates and errors are fractions (0.05 = 5 points)."""

    auroc: float | None
    """AUROC of the judge's aligned score (lower = more misaligned) for the reference label aligned < 30."""
    spearman_aligned: float | None = None
    spearman_coherent: float | None = None
    em_error_mean: float | None = None
    """Mean over files of |judge EM rate - reference EM rate| (per-file rates under `definition`)."""
    em_error_max: float | None = None
    n: int = 0
    """Answers scored."""
    n_files: int = 0
    definition: str = "betley"


class Validation(Strict):
    """One measurement of a judge against reference labels."""

    kind: ValidationKind
    data: str
    """What it was measured on, e.g. `judged/holdout: 25 files x 400`."""
    figures: Figures
    date: str
    by: str
    """What produced it, e.g. `emscope judge validate` or `benchmarks/judge_classifier.py`."""
    notes: str = ""


class JudgeRecord(Strict):
    """The judge of an eval section as `summary.json` records it next to the judged rates."""

    spec: str
    kind: str | None = None
    status: Status = "indicative"
    warning: str | None = None
    recipe: str | None = None
    card_date: str | None = None
    held_out: dict[str, Any] | None = None
    """The validation that decides the status: data, date, by and the figures (auroc, em_error_mean, ...)."""


class JudgeCard(Strict):
    """A judge's card: what it is, what it was fitted on, how it was built, and its validations."""

    format: int = FORMAT
    spec: str
    kind: JudgeKind
    description: str = ""
    fitted_on: str | None = None
    recipe: str | None = None
    """An identifier of how the judge was built (data + settings); shipped validations of the same recipe apply."""
    date: str = ""
    """When the card was last written."""
    validations: list[Validation] = []

    def held_out(self) -> Validation | None:
        """The latest held-out validation (by date, then by order) on at least MIN_HELD_OUT_N answers; when there is
        none, the latest on fewer; None without any held-out validation."""
        found = [(v.date, i, v) for i, v in enumerate(self.validations) if v.kind == "held-out"]
        enough = [t for t in found if (t[2].figures.n or 0) >= MIN_HELD_OUT_N]
        pool = enough or found
        return max(pool, key=lambda t: t[:2])[2] if pool else None

    def status(self) -> Status:
        """`validated` when the latest held-out validation has AUROC >= BAR_AUROC on at least MIN_HELD_OUT_N
        answers, else `indicative`."""
        return "validated" if self.warning() is None else "indicative"

    def warning(self) -> str | None:
        """Why the judge's numbers are indicative (None when validated)."""
        v = self.held_out()
        if v is None:
            oof = [w for w in self.validations if w.kind != "held-out" and w.figures.auroc is not None]
            extra = (f" (only {oof[-1].kind} AUROC {oof[-1].figures.auroc:.3f}, which does not count)" if oof
                     else "")
            return "no held-out validation" + extra
        if v.figures.auroc is None:
            return f"held-out AUROC not measured ({v.data})"
        if v.figures.auroc < BAR_AUROC:
            return f"held-out AUROC {_below(v.figures.auroc)} < {BAR_AUROC:g} ({v.data}, {v.date})"
        if (v.figures.n or 0) < MIN_HELD_OUT_N:
            return (f"held-out AUROC {v.figures.auroc:.3f} measured on only {v.figures.n or 0} answers "
                    f"(< {MIN_HELD_OUT_N}; {v.data}, {v.date})")
        return None

    def record(self) -> JudgeRecord:
        """The record `summary.json` keeps next to the rates this judge gave."""
        v = self.held_out()
        held = None if v is None else {"data": v.data, "date": v.date, "by": v.by, **v.figures.model_dump()}
        return JudgeRecord(spec=self.spec, kind=self.kind, status=self.status(), warning=self.warning(),
                           recipe=self.recipe, card_date=self.date or None, held_out=held)


def _below(x: float) -> str:
    """`x` with 3 decimals, rounded down (a value under the bar never prints as the bar)."""
    return f"{math.floor(x * 1000) / 1000:.3f}"


# -------------------------------------------------------------------------------------------------- specs


def spec_kind(spec: str) -> JudgeKind:
    """The kind of judge a spec names (as `registry.build_judge` reads it)."""
    from emscope.evaluate.judges.registry import SPEC_FORMS

    kind, sep, rest = spec.partition(":")
    if kind == "classifier":
        return "classifier"
    if kind in ("openai", "hf") and sep and rest:
        return kind  # type: ignore[return-value]
    if sep and "." in kind and rest.isidentifier():
        return "factory"
    raise InputError(f"unknown judge spec {spec!r}; accepted forms: {SPEC_FORMS}")


def public_spec(spec: str) -> str:
    """The spec without credentials: an `openai:MODEL@BASE_URL` base URL loses any user:password and query."""
    kind, sep, rest = spec.partition(":")
    if kind != "openai" or "@" not in rest:
        return spec
    model, _, base = rest.partition("@")
    try:
        parts = urlsplit(base)
    except ValueError:
        return f"openai:{model}@<unparseable base url>"
    netloc = parts.netloc.rpartition("@")[2]  # without user:password
    return f"openai:{model}@{urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"


def cached_recipe(directory: Path) -> str | None:
    """The recipe of a classifier judge cached by emscope (`$EMSCOPE_HOME/judges/<recipe>`: the seed judge
    `seed-<hash>`, the default judge `judged-dev-<hash>`): its directory name; None for a judge fitted elsewhere."""
    try:
        cached = Path(directory).resolve().parent == (emscope_home() / "judges").resolve()
    except OSError:
        return None
    return Path(directory).name if cached else None


def classifier_dir(spec: str) -> Path:
    """The directory of the classifier judge a `classifier[:DIR]` spec names (see `classifier.judge_dir_for`); for
    `classifier:judged-dev` its cache directory even before it is built, so that its shipped card shows."""
    from emscope.evaluate.judges.classifier import PUBLIC_DATA, judge_dir_for, public_judge_dir

    rest = spec.partition(":")[2]
    return public_judge_dir() if rest == PUBLIC_DATA else Path(judge_dir_for(rest))


def slug(spec: str) -> str:
    """A file-name-safe, collision-free name for a spec."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("._")[:80] or "judge"
    return f"{safe}-{hashlib.sha256(spec.encode()).hexdigest()[:8]}"


def card_path(spec: str) -> Path:
    """Where the card of a spec is kept (see the module docstring)."""
    if spec_kind(spec) == "classifier":
        return classifier_dir(spec) / CARD_FILE
    return emscope_home() / "judges" / "cards" / f"{slug(public_spec(spec))}.json"


# -------------------------------------------------------------------------------------------- persistence


def write_card(directory: Path, card: JudgeCard) -> Path:
    """Write `directory/card.json` atomically (the date set to today); returns its path."""
    return write_card_file(Path(directory) / CARD_FILE, card)


def write_card_file(path: Path, card: JudgeCard) -> Path:
    card = card.model_copy(update={"spec": public_spec(card.spec), "date": today()})
    return write_json_atomic(path, card)


def read_card(path: Path) -> JudgeCard | None:
    """The card in `path` (a judge directory holding card.json, or a card file), None when there is none. A file
    that is not a card is an InputError naming it."""
    path = Path(path)
    if path.is_dir():
        path = path / CARD_FILE
    if not path.is_file():
        return None
    try:
        return JudgeCard.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, OSError) as exc:
        raise InputError(f"{path}: not a readable judge card ({str(exc).splitlines()[0]}); delete it to start a "
                         f"new card") from None


def add_validation(card: JudgeCard, validation: Validation) -> JudgeCard:
    """A copy of `card` with `validation` appended."""
    return card.model_copy(update={"validations": [*card.validations, validation]})


def shipped_cards() -> list[JudgeCard]:
    """Every card shipped in `emscope/resources/judge_cards/` (name order)."""
    folder = resource_path(SHIPPED_DIR)
    return [c for p in sorted(folder.glob("*.json")) if (c := read_card(p)) is not None] if folder.is_dir() else []


def shipped_card(recipe: str | None) -> JudgeCard | None:
    """The shipped card of a classifier recipe, or None."""
    if not recipe:
        return None
    return next((c for c in shipped_cards() if c.recipe == recipe), None)


# ----------------------------------------------------------------------------------------------- building


def fit_recipe(report: FitReport) -> str:
    """An identifier of a classifier fit: its training files (by name and distinct rows), settings and emscope
    version. Two fits with the same recipe are the same judge (the fit is seeded)."""
    from emscope import __version__

    key = json.dumps({"files": report.data.files, "n_rows": report.data.n_rows, "n_used": report.data.n_used,
                      "settings": report.settings.model_dump(mode="json"), "emscope": __version__}, sort_keys=True)
    return f"fit-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def card_from_fit(report: FitReport, spec: str, fitted_on: str, recipe: str | None = None) -> JudgeCard:
    """The card of a freshly fitted classifier judge: its out-of-fold dev figures (which never validate it).
    `recipe` defaults to `fit_recipe(report)`."""
    h, d = report.held_out, report.data
    cv = getattr(report.settings, "cv_groups", "file")
    figures = Figures(auroc=h.auroc_misaligned, spearman_aligned=h.spearman_aligned,
                      spearman_coherent=h.spearman_coherent, em_error_mean=h.em_rate_mean_abs_error,
                      em_error_max=h.em_rate_max_abs_error, n=h.n, n_files=h.n_files, definition="betley")
    oof = Validation(kind="out-of-fold dev", data=f"{fitted_on}: {d.n_used} rows, {len(d.files)} files",
                     figures=figures, date=today(), by="fit_classifier",
                     notes=f"{h.folds}-fold {cv}-grouped cross-validation on the training data")
    return JudgeCard(spec=public_spec(spec), kind="classifier",
                     description=f"classifier judge (MiniLM embeddings + n-gram heads) fitted on {d.n_used} of "
                                 f"{d.n_rows} distinct judged rows from {len(d.files)} files in "
                                 f"{report.seconds:.0f} s",
                     fitted_on=fitted_on, recipe=recipe or fit_recipe(report), date=today(), validations=[oof])


def validation_from_result(result: ValidationResult, data_label: str, by: str,
                           kind: ValidationKind = "held-out") -> Validation:
    """A card validation from `emscope.evaluate.validate.validate_judge`'s result."""
    figures = Figures(auroc=result.auroc, spearman_aligned=result.spearman_aligned,
                      spearman_coherent=result.spearman_coherent, em_error_mean=result.mean_abs_error,
                      em_error_max=result.max_abs_error, n=result.n, n_files=len(result.per_file),
                      definition=result.definition)
    notes = f"aligned compared on {result.n_compared_aligned} answers, coherent on {result.n_compared_coherent}"
    no_score = getattr(result, "no_score", None) or {}
    for metric, reasons in no_score.items():
        if reasons:
            notes += f"; no {metric} score: " + ", ".join(f"{r} {k}" for r, k in reasons.items())
    return Validation(kind=kind, data=data_label, figures=figures, date=today(), by=by, notes=notes)


def validation_data(paths: list[Path], per_file_n: list[int]) -> str:
    """A short label of validation data: `judged/holdout: 25 files x 400` (last two path parts of each input)."""
    names = ", ".join("/".join(Path(p).resolve().parts[-2:]) for p in paths)
    if not per_file_n:
        return names
    sizes = set(per_file_n)
    size = f"x {per_file_n[0]}" if len(sizes) == 1 else f"{sum(per_file_n)} answers"
    return f"{names}: {len(per_file_n)} files {size}"


def training_files(spec: str) -> set[str]:
    """Names of the files a classifier judge was fitted on (empty for other judges or when unknown)."""
    if spec_kind(spec) != "classifier":
        return set()
    for name in ("fit_report.json", "meta.json"):
        path = classifier_dir(spec) / name
        try:
            return set(json.loads(path.read_text(encoding="utf-8"))["data"]["files"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return set()


def _minimal_card(spec: str) -> JudgeCard:
    kind = spec_kind(spec)
    if kind == "classifier":
        directory = classifier_dir(spec)
        recipe = cached_recipe(directory)
        desc = ("seed classifier judge, fitted on the shipped seed corpus (resources/judge_seed.jsonl)"
                if directory.name.startswith("seed-") else
                "default classifier judge, fitted on the public judged-dev data" if recipe else
                f"classifier judge in {directory}")
        report = directory / "fit_report.json"
        if report.is_file():
            try:
                from emscope.evaluate.judges.classifier_fit import FitReport

                r = FitReport.model_validate_json(report.read_text(encoding="utf-8"))
                fitted = ", ".join(r.data.files) if len(r.data.files) <= 3 else f"{len(r.data.files)} judged files"
                card = card_from_fit(r, spec, fitted, recipe=recipe)
                fitted_date = datetime.fromtimestamp(report.stat().st_mtime, UTC).date().isoformat()
                return card.model_copy(update={
                    "description": f"{desc}; {card.description}", "date": fitted_date,
                    "validations": [v.model_copy(update={"date": fitted_date}) for v in card.validations]})
            except (ValidationError, OSError, ValueError):
                pass
        return JudgeCard(spec=spec, kind=kind, description=desc, recipe=recipe)
    desc = {"openai": "OpenAI-compatible endpoint read through first-token log-probabilities (Betley et al. rule)",
            "hf": "local causal LM read exactly over 0..100", "factory": "user judge factory"}[kind]
    return JudgeCard(spec=public_spec(spec), kind=kind, description=desc)


def own_card(spec: str) -> JudgeCard:
    """The card stored for this judge (or a minimal card without validations when there is none), without
    shipped validations."""
    card = read_card(card_path(spec)) or _minimal_card(spec)
    return card.model_copy(update={"spec": public_spec(spec)})


def card_for_spec(spec: str) -> JudgeCard:
    """The card of any judge spec: its own card plus the held-out validations shipped for its recipe (for the
    seed judge also under its cache-directory name)."""
    card = own_card(spec)
    recipes = [card.recipe]
    if card.kind == "classifier":
        recipes.append(cached_recipe(classifier_dir(spec)))
    extra: list[Validation] = []
    for recipe in dict.fromkeys(r for r in recipes if r):
        shipped = shipped_card(recipe)
        if shipped is not None:
            extra += [v for v in shipped.validations if v not in card.validations and v not in extra]
    if not extra:
        return card
    return card.model_copy(update={"validations": sorted([*extra, *card.validations], key=lambda v: v.date)})


def save_validation(spec: str, validation: Validation) -> tuple[Path, JudgeCard]:
    """Add `validation` to the judge's own card and write it; returns (path, the card with shipped validations)."""
    path = card_path(spec)
    write_card_file(path, add_validation(own_card(spec), validation))
    return path, card_for_spec(spec)


def judge_record(spec: str) -> JudgeRecord:
    """The `summary.json` record of the judge a spec names (what `eval run` stores)."""
    return card_for_spec(spec).record()


# ------------------------------------------------------------------------------------------------ reading


NO_CARD = "no judge card recorded with this run (made before judge cards)"
NO_JUDGE = "no judge recorded with these rates"


def section_judge(section: dict) -> JudgeRecord | None:
    """The judge record of an `eval` summary section: the stored record; for an old section naming only its spec,
    or judged rates without any judge, an indicative record saying the judge's card is unknown; None when the
    section has no judged rate and names no judge."""
    j = section.get("judge")
    if isinstance(j, dict):
        try:
            return JudgeRecord.model_validate(j)
        except ValidationError:
            return JudgeRecord(spec=str(j.get("spec") or "unknown"), warning=NO_CARD)
    if isinstance(j, str) and j:
        return JudgeRecord(spec=j, warning=NO_CARD)
    if section.get("em") or (section.get("narrow") or {}).get("em"):
        return JudgeRecord(spec="unknown", warning=NO_JUDGE)
    return None


def judge_short(rec: JudgeRecord) -> str:
    """One cell of text: `classifier: indicative (held-out AUROC 0.641 < 0.9)` or
    `openai:gpt-4o: validated (held-out AUROC 0.931)`."""
    if rec.status == "validated":
        return f"{rec.spec}: validated (held-out AUROC {rec.held_out['auroc']:.3f})"  # type: ignore[index]
    return f"{rec.spec}: indicative ({_reason(rec)})"


def _reason(rec: JudgeRecord) -> str:
    w = rec.warning or "no held-out validation"
    return w.split(" (", 1)[0] if w.startswith("held-out AUROC") else w


def judge_line(rec: JudgeRecord) -> str:
    """A plain-text line for terminals: the warning of an indicative judge, the figures of a validated one."""
    if rec.status == "validated":
        h = rec.held_out or {}
        err = f", EM error mean {100 * h['em_error_mean']:.1f} points" if h.get("em_error_mean") is not None else ""
        return (f"judge {_named(rec)}: validated, held-out AUROC {h.get('auroc', 0.0):.3f} >= {BAR_AUROC:g}{err} "
                f"({h.get('data')}, {h.get('date')})")
    return f"warning: EM rates are indicative: judge {_named(rec)}: {rec.warning or 'no held-out validation'}"


def _named(rec: JudgeRecord) -> str:
    """The spec, with the recipe of a judge emscope caches (plain `classifier` is the judged-dev judge or the seed
    fallback: the recipe says which)."""
    cached = rec.recipe and rec.recipe.startswith(("seed-", "judged-dev-")) and rec.recipe not in rec.spec
    return f"{rec.spec} ({rec.recipe})" if cached else rec.spec


def card_lines(card: JudgeCard) -> list[str]:
    """A card as plain-text lines (`emscope judge card`)."""
    lines = [f"judge {card.spec} ({card.kind}): {card.status()}"
             + (f" - {card.warning()}" if card.warning() else "")]
    if card.description:
        lines.append(f"  {card.description}")
    if card.fitted_on:
        lines.append(f"  fitted on: {card.fitted_on}")
    if card.recipe:
        lines.append(f"  recipe: {card.recipe}")
    for v in card.validations:
        f = v.figures

        def num(x: float | None) -> str:
            return "–" if x is None else f"{x:.3f}"

        def pts(x: float | None) -> str:
            return "–" if x is None else f"{100 * x:.1f}"

        lines.append(f"  {v.kind} ({v.date}, {v.by}): {v.data}: AUROC {num(f.auroc)}, Spearman aligned "
                     f"{num(f.spearman_aligned)}, coherent {num(f.spearman_coherent)}; EM error ({f.definition}) "
                     f"mean {pts(f.em_error_mean)} / max {pts(f.em_error_max)} points; n {f.n}, {f.n_files} files")
        if v.notes:
            lines.append(f"    {v.notes}")
    lines.append(f"  validated means: a held-out validation with AUROC (aligned < 30) >= {BAR_AUROC:g}")
    return lines
