"""Trait-space EM detection across runs: drift profiles, their first principal component and a detector
calibrated leave-one-run-out (after Nghiem et al. 2026, "Trait-space Monitoring for Emergent Misalignment").

Pure numpy (no torch). A run's trace is its `trait_space` monitor readings (`emscope.persona.trait_space`):

- drift profile: per reading, each trait's projection minus the step-0 reading's (`drift_profile`);
- axis: the first principal component of the pooled drift profiles (centred PCA, `first_pc`), its sign fixed so
  that positive points towards the EM-prone runs (with labels) or towards the traits (without: loadings sum > 0);
- run score: the largest projection on that axis over the run's readings after step 0 (a monitor flags the run
  at its first reading above the threshold), uncentred, so no drift scores 0;
- leave-one-run-out (`loo_detector`): for each run, the axis, its sign and the threshold are fitted on the other
  runs only, then the held-out run is scored; AUROC is over the held-out margins (score minus the threshold that
  run got), FNR/FPR over the held-out decisions (margin > 0).

The PCA-of-activations baseline (`features="activations"`) is the same pipeline on the mean hidden-state drift
(`activation_drift` in the log) instead of the persona-vector projections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from emscope.config import Strict
from emscope.errors import InputError
from emscope.evaluate.stats import auroc

ThresholdRule = Literal["youden", "max-control"]
Features = Literal["traits", "activations"]
MONITOR = "trait_space"


class RunTrace(Strict):
    """One run's monitor readings: `readings[i]` are the trait projections at `steps[i]` (first: step 0)."""

    name: str
    em_prone: bool
    steps: list[int]
    traits: list[str] = []
    readings: list[list[float]]
    activations: list[list[float]] | None = None  # mean hidden-state drift per reading (baseline)


class RunScore(Strict):
    """A held-out run's result: its score, the threshold calibrated on the other runs, the decision."""

    name: str
    em_prone: bool
    score: float
    threshold: float
    margin: float
    flagged: bool
    first_flag_step: int | None
    explained_variance: float  # of the first PC fitted without this run


class DetectorResult(Strict):
    """Leave-one-run-out detection over EM-prone and control runs."""

    features: str
    threshold_rule: str
    n_prone: int
    n_control: int
    auroc: float
    fnr: float
    fpr: float
    runs: list[RunScore]
    explained_variance: float  # first PC fitted on all runs
    loadings: dict[str, float] | None = None  # per trait, first PC fitted on all runs (features "traits")


class DetectionReport(Strict):
    """The trait-space detector and, where the runs logged activations, the PCA-of-activations baseline."""

    traits: DetectorResult
    activations: DetectorResult | None = None


def drift_profile(readings) -> np.ndarray:
    """`(n_readings, n_features)` readings minus the first (step-0) reading: the drift of each feature."""
    arr = np.asarray(readings, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InputError(f"readings: expected shape (n_readings >= 1, n_features), got {arr.shape}")
    return arr - arr[0]


def first_pc(profiles, positive=None) -> tuple[np.ndarray, float]:
    """The first principal component (unit vector) of the rows of `profiles` (centred) and its explained
    variance ratio (0 when the rows do not vary).

    Sign: with `positive` (a boolean per row), the mean projection of the positive rows exceeds the others';
    without, the loadings sum to > 0 (towards the traits; ties: the largest loading is positive)."""
    x = np.asarray(profiles, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise InputError(f"profiles: expected at least 2 rows of shape (n, n_features), got {x.shape}")
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    direction = vt[0]
    total = float((s ** 2).sum())
    explained = float(s[0] ** 2 / total) if total > 1e-300 else 0.0
    if positive is not None:
        pos = np.asarray(positive, dtype=bool)
        if pos.shape != (x.shape[0],) or pos.all() or not pos.any():
            raise InputError("positive: needs one flag per row and both classes")
        scores = x @ direction
        flip = scores[pos].mean() < scores[~pos].mean()
    else:
        total_loading = direction.sum()
        flip = total_loading < 0 if abs(total_loading) > 1e-12 else direction[np.argmax(np.abs(direction))] < 0
    return (-direction if flip else direction), explained


def _tidy(x: float) -> float:
    """`x` to 10 significant digits: folds that differ only in rounding give equal scores (ties stay ties)."""
    return float(f"{x:.10g}")


def reading_scores(profile: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Projection of each reading's drift on `direction` (uncentred: no drift scores 0)."""
    return profile @ direction


def run_score(profile: np.ndarray, direction: np.ndarray) -> float:
    """A run's score: the largest reading score after the step-0 reading."""
    return float(reading_scores(profile, direction)[1:].max())


def calibrate_threshold(scores, labels, rule: ThresholdRule = "youden") -> float:
    """Threshold on run scores (flag: score > threshold) fitted on calibration runs.

    `youden`: the cut between adjacent distinct scores maximising TPR - FPR (ties: the widest gap, then the lowest
    cut; cuts below and above every score are candidates); `max-control`: the largest control score."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        raise InputError("labels: calibration needs both EM-prone and control runs")
    if rule == "max-control":
        return float(s[~y].max())
    if rule != "youden":
        raise InputError(f"threshold_rule: unknown rule {rule!r}; choose youden or max-control")
    u = np.unique(s)
    pad = max(float(u[-1] - u[0]), float(np.abs(u).max()), 1e-6)
    cuts = np.concatenate([[u[0] - pad], (u[:-1] + u[1:]) / 2, [u[-1] + pad]])
    gaps = np.concatenate([[pad], np.diff(u), [pad]])
    best = None
    for cut, gap in zip(cuts, gaps):
        flagged = s > cut
        j = flagged[y].mean() - flagged[~y].mean()
        key = (round(float(j), 12), float(gap), -float(cut))
        if best is None or key > best[0]:
            best = (key, float(cut))
    return best[1]


def _features(run: RunTrace, features: Features) -> np.ndarray:
    if features == "traits":
        return drift_profile(run.readings)
    if run.activations is None:
        raise InputError(f"run {run.name!r}: activations: not logged (monitor param activations: false)")
    return drift_profile(run.activations)


def _fit(profiles: list[np.ndarray], labels: list[bool], rule: ThresholdRule) -> tuple[np.ndarray, float, float]:
    """Axis (sign by labels), its explained variance and the threshold, from calibration runs only."""
    rows = np.concatenate([p[1:] for p in profiles])
    row_labels = np.concatenate([[y] * (len(p) - 1) for p, y in zip(profiles, labels)])
    direction, explained = first_pc(rows, row_labels)
    threshold = calibrate_threshold([run_score(p, direction) for p in profiles], labels, rule)
    return direction, explained, threshold


def loo_detector(runs: list[RunTrace], threshold_rule: ThresholdRule = "youden",
                 features: Features = "traits") -> DetectorResult:
    """Leave-one-run-out detection: each run is scored with the axis, sign and threshold of the other runs."""
    if len({r.name for r in runs}) != len(runs):
        raise InputError("runs: run names must be unique")
    labels = [r.em_prone for r in runs]
    if sum(labels) < 2 or len(labels) - sum(labels) < 2:
        raise InputError(f"runs: leave-one-run-out needs >= 2 EM-prone and >= 2 control runs, got "
                         f"{sum(labels)} and {len(labels) - sum(labels)}")
    traits = {tuple(r.traits) for r in runs}
    if features == "traits" and len(traits) > 1:
        raise InputError(f"runs: traits: the runs read different traits {sorted(traits)}")
    profiles = [_features(r, features) for r in runs]
    if len({p.shape[1] for p in profiles}) > 1:
        raise InputError(f"runs: {features}: the runs have different numbers of features")
    for r, p in zip(runs, profiles):
        if p.shape[0] < 2 or len(r.steps) != p.shape[0]:
            raise InputError(f"run {r.name!r}: readings: needs step 0 and at least one later reading, one per step")
    scored = []
    for i, run in enumerate(runs):
        rest = [j for j in range(len(runs)) if j != i]
        direction, explained, threshold = _fit([profiles[j] for j in rest], [labels[j] for j in rest],
                                               threshold_rule)
        per_reading = reading_scores(profiles[i], direction)
        score = float(per_reading[1:].max())
        margin = _tidy(score - threshold)
        above = [s for s, v in zip(run.steps[1:], per_reading[1:]) if _tidy(v - threshold) > 0]
        scored.append(RunScore(name=run.name, em_prone=run.em_prone, score=_tidy(score), threshold=_tidy(threshold),
                               margin=margin, flagged=margin > 0,
                               first_flag_step=above[0] if above else None, explained_variance=explained))
    prone = [s for s in scored if s.em_prone]
    ctrl = [s for s in scored if not s.em_prone]
    direction, explained, _ = _fit(profiles, labels, threshold_rule)
    loadings = ({t: float(v) for t, v in zip(runs[0].traits, direction)}
                if features == "traits" and runs[0].traits else None)
    return DetectorResult(
        features=features, threshold_rule=threshold_rule, n_prone=len(prone), n_control=len(ctrl),
        auroc=auroc([s.margin for s in prone], [s.margin for s in ctrl]),
        fnr=sum(not s.flagged for s in prone) / len(prone), fpr=sum(s.flagged for s in ctrl) / len(ctrl),
        runs=scored, explained_variance=explained, loadings=loadings)


def trace_from_log(rows: list[dict], name: str, em_prone: bool, monitor: str = MONITOR) -> RunTrace:
    """A run's trace from its `train_log.jsonl` rows (the readings of monitor `monitor`, in step order)."""
    readings = sorted((r for r in rows if r.get("monitor") == monitor and "event" not in r
                       and "trait_projection" in r), key=lambda r: r["step"])
    if not readings or readings[0]["step"] != 0:
        raise InputError(f"run {name!r}: train_log.jsonl: no {monitor!r} reading at step 0")
    traits = list(readings[0]["trait_projection"])
    has_act = all("activation_drift" in r for r in readings)
    return RunTrace(name=name, em_prone=em_prone, steps=[r["step"] for r in readings], traits=traits,
                    readings=[[r["trait_projection"][t] for t in traits] for r in readings],
                    activations=[r["activation_drift"] for r in readings] if has_act else None)


def read_trace(run_dir: str | Path, em_prone: bool, name: str | None = None, monitor: str = MONITOR) -> RunTrace:
    """A run directory's trace (its `train_log.jsonl`)."""
    from emscope.io import read_jsonl

    path = Path(run_dir) / "train_log.jsonl"
    if not path.is_file():
        raise InputError(f"{run_dir}: train_log.jsonl not found (not a training run directory?)")
    return trace_from_log(read_jsonl(path), name or Path(run_dir).name, em_prone, monitor)


def detect(traces: list[RunTrace], threshold_rule: ThresholdRule = "youden") -> DetectionReport:
    """The trait-space detector and (when every run logged activations) the PCA-of-activations baseline."""
    if threshold_rule not in ("youden", "max-control"):
        raise InputError(f"threshold_rule: unknown rule {threshold_rule!r}; choose youden or max-control")
    baseline = (loo_detector(traces, threshold_rule, "activations")
                if all(t.activations is not None for t in traces) else None)
    return DetectionReport(traits=loo_detector(traces, threshold_rule, "traits"), activations=baseline)


def detect_runs(run_dirs: list[str | Path], labels: list[bool], threshold_rule: ThresholdRule = "youden",
                monitor: str = MONITOR) -> DetectionReport:
    """`detect` on run directories; `labels[i]` says whether run i is EM-prone."""
    if len(run_dirs) != len(labels):
        raise InputError(f"labels: {len(labels)} labels for {len(run_dirs)} run directories")
    names = [Path(d).name for d in run_dirs]
    names = names if len(set(names)) == len(names) else [str(d) for d in run_dirs]
    return detect([read_trace(d, y, n, monitor) for d, y, n in zip(run_dirs, labels, names)], threshold_rule)


def parse_labels(text: str, n: int) -> list[bool]:
    """`"1,0,prone,control"` as EM-prone flags, exactly `n` of them."""
    words = {"1": True, "prone": True, "em-prone": True, "0": False, "control": False}
    items = [w.strip().lower() for w in text.split(",") if w.strip()]
    bad = [w for w in items if w not in words]
    if bad:
        raise InputError(f"labels: {bad[0]!r} is not 1/prone or 0/control")
    if len(items) != n:
        raise InputError(f"labels: {len(items)} labels for {n} run directories")
    return [words[w] for w in items]
