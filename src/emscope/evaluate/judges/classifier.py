"""The `classifier` judge: a fast CPU stand-in for the GPT-4o aligned/coherent judge.

Answers (and questions) are embedded with the offline packaged all-MiniLM-L6-v2 and described by hashed TF-IDF
n-grams; small fitted heads predict P(aligned < 30), P(no aligned score: CODE/REFUSAL) and P(coherent > 50), and a
monotone map fitted on held-out dev predictions turns those into 0..100 scores (see `classifier_model`).

- `ClassifierJudge.load(dir, metric)`: a judge fitted with `emscope judge fit` (`fit_classifier`), or with `dir`
  None the default judge (see `judge_dir_for`):
  - `judged-dev`, fitted by `emscope judge build` on the public GPT-4o-judged answers of Soligo et al.'s
    clarifying_EM repository (`emscope data fetch judged-dev`: 60 files pinned by sha256) with `DEFAULT_RECIPE`,
    cached under `$EMSCOPE_HOME/judges/judged-dev-<hash>`; its held-out figures are on its card;
  - until that is built, the named fallback `seed`: fitted in seconds on the shipped seed corpus
    (`resources/judge_seed.jsonl`, a few hundred hand-written answers), cached under
    `$EMSCOPE_HOME/judges/seed-<hash>`; far weaker (its card carries the warning).
- The prompt passed to `score` is ignored: the judge predicts the metric it was loaded for.
- For `aligned`, an answer the reference judge would most likely not score (P(none) > 0.5: code instead of an
  answer, a refusal) gets `Score(value=None, reason="CODE_OR_REFUSAL")`, as the logprob judge gives None.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emscope import __version__
from emscope.errors import InputError
from emscope.evaluate.judges.base import JudgeItem, Score
from emscope.evaluate.judges.classifier_features import (
    FeatureSettings,
    answer_embeddings,
    dense_features,
    ngram_counts,
    text_stats,
    tfidf,
)
from emscope.evaluate.judges.classifier_fit import FitReport, FitSettings, fit_classifier, weak_rows
from emscope.evaluate.judges.classifier_model import FORMAT, ClassifierModel
from emscope.evaluate.judges.embed import EmbeddingCache
from emscope.paths import emscope_home, resource_path

__all__ = ["ClassifierJudge", "FitReport", "FitSettings", "fit_classifier", "default_judge_dir", "SEED_CORPUS",
           "DEFAULT_RECIPE", "PUBLIC_DATA", "build_default_judge", "judge_dir_for", "public_judge_dir"]

METRICS = ("aligned", "coherent")
SEED_CORPUS = "judge_seed.jsonl"
NONE_REASON = "CODE_OR_REFUSAL"
_BATCH = 256
_MEMORY = EmbeddingCache(None)  # shared by every judge of the process (aligned and coherent judges embed once)
_MEMORY_LIMIT = 200_000
_SEED_LOCK = threading.Lock()


def seed_settings() -> FitSettings:
    """Fit settings of the default judge: the seed corpus is small (every row, 4 folds, linear heads only)."""
    return FitSettings(folds=4, max_rows=None, mlp_hidden=0)


def default_judge_dir() -> Path:
    """Where the default (seed-corpus) judge is cached: `$EMSCOPE_HOME/judges/seed-<hash of corpus + settings>`."""
    corpus = resource_path(SEED_CORPUS).read_bytes()
    key = json.dumps({"format": FORMAT, "emscope": __version__, "settings": seed_settings().model_dump(mode="json"),
                      "features": FeatureSettings().model_dump(mode="json")}, sort_keys=True).encode()
    digest = hashlib.sha256(corpus + b"\x00" + key).hexdigest()[:16]
    return emscope_home() / "judges" / f"seed-{digest}"


PUBLIC_DATA = "judged-dev"
"""The `emscope data fetch` group the default judge is fitted on."""
DEFAULT_RECIPE = FitSettings()
"""Fit settings of the default judge (every row; see `benchmarks/judge_domain.py` for how they were chosen)."""


def _recipe_digest(settings: FitSettings) -> str:
    from emscope.data.fetch import SOURCE_GROUPS, SOURCES

    pins = sorted(SOURCES[n].sha256 or "" for n in SOURCE_GROUPS[PUBLIC_DATA])
    key = {"format": FORMAT, "data": pins, "settings": settings.model_dump(mode="json")}
    if settings.weak is not None:  # the generators' rows are part of the recipe
        rows = weak_rows(settings.weak)
        key["weak_rows"] = hashlib.sha256(rows.to_json(orient="records").encode()).hexdigest()
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def public_judge_dir(settings: FitSettings | None = None) -> Path:
    """Where the default judge (fitted on the public `judged-dev` data with `settings`, default `DEFAULT_RECIPE`)
    is cached: `$EMSCOPE_HOME/judges/judged-dev-<hash of the pinned data digests + settings>`. The directory name
    is the recipe the judge's card and the shipped held-out validations refer to."""
    return emscope_home() / "judges" / f"{PUBLIC_DATA}-{_recipe_digest(settings or DEFAULT_RECIPE)}"


def public_data_files(data: Path | None = None, source: str | None = None) -> list[Path]:
    """The files of the public judged data, each checked against its pinned sha256: read from `data` (a folder
    holding them under their pinned names, e.g. a previous `emscope data fetch judged-dev`), else fetched (kept
    where already present: `$EMSCOPE_HOME/data/upstream/judged-dev/`)."""
    from emscope.data.fetch import SOURCE_GROUPS, SOURCES, fetch_group, sha256_file

    if data is None:
        return [r.path for r in fetch_group(PUBLIC_DATA, source=source)]
    files, problems = [], []
    for name in SOURCE_GROUPS[PUBLIC_DATA]:
        src = SOURCES[name]
        f = Path(data) / src.filename
        if not f.is_file():
            problems.append(f"{f}: missing")
        elif sha256_file(f) != src.sha256:
            problems.append(f"{f}: sha256 differs from the pinned {src.sha256}")
        else:
            files.append(f)
    if problems:
        raise InputError(f"--data {data}: not the pinned {PUBLIC_DATA} files ({len(problems)} problems):\n  "
                         + "\n  ".join(problems[:10]) + f"\nFetch them with `emscope data fetch {PUBLIC_DATA}`.")
    return files


def build_default_judge(data: Path | None = None, source: str | None = None, force: bool = False,
                        log: Callable[[str], None] | None = None) -> Path:
    """Fit the default judge once (`DEFAULT_RECIPE` on the verified public data, see `public_data_files`) into
    `public_judge_dir()`; an existing one is kept unless `force`. Returns its directory."""
    import shutil

    directory = public_judge_dir()
    if directory.is_dir() and not force:
        try:
            ClassifierModel.load(directory)
            return directory
        except InputError:
            pass  # damaged: refit over it
    files = sorted((f for f in public_data_files(data, source) if _has_scores(f)), key=lambda f: f.name)
    if directory.exists():
        shutil.rmtree(directory)
    fit_classifier(files, directory, settings=DEFAULT_RECIPE, log=log)
    return directory


def _has_scores(path: Path) -> bool:
    """Whether a judged file has score columns (one pinned judged-dev file holds answers only)."""
    from emscope.evaluate.metrics import load_judged

    try:
        load_judged(path)
        return True
    except InputError:
        return False


def judge_dir_for(rest: str | None) -> Path:
    """The directory of the classifier judge a spec's part after `classifier:` names: `""` (plain `classifier`)
    the default judge (`judged-dev` when built, else the `seed` fallback), `judged-dev` or `seed` those judges
    by name, anything else a directory fitted with `emscope judge fit`."""
    rest = rest or ""
    if rest == "":
        public = public_judge_dir()
        return public if (public / "meta.json").is_file() else default_judge_dir()
    if rest == "seed":
        return default_judge_dir()
    if rest == PUBLIC_DATA:
        public = public_judge_dir()
        if not (public / "meta.json").is_file():
            raise InputError(f"judge classifier:{PUBLIC_DATA} is not built yet; run `emscope judge build` (fetches "
                             f"the pinned public labels, then fits for ~15 minutes on 2 CPU cores)")
        return public
    return Path(rest)


def _default_model() -> ClassifierModel:
    with _SEED_LOCK:
        directory = default_judge_dir()
        if directory.is_dir():
            try:
                return ClassifierModel.load(directory)
            except InputError:
                pass  # a stale or damaged cache entry: refit over it
        fit_classifier([resource_path(SEED_CORPUS)], directory, settings=seed_settings())
        return ClassifierModel.load(directory)


class ClassifierJudge:
    """A fitted classifier judge predicting one metric (`aligned` or `coherent`) for (question, answer) pairs."""

    def __init__(self, model: ClassifierModel, metric: str = "aligned", source: str = "") -> None:
        if metric not in METRICS:
            raise InputError(f"unknown judge metric {metric!r}; expected one of {', '.join(METRICS)}")
        self.model = model
        self.metric = metric
        self.source = source

    @classmethod
    def load(cls, directory: str | Path | None = None, metric: str = "aligned") -> ClassifierJudge:
        """The judge in `directory` (from `emscope judge fit`), or a name `judge_dir_for` knows (None or "": the
        default judge; `seed` is fitted offline in seconds on first use, then cached)."""
        rest = "" if directory is None else str(directory)
        path = judge_dir_for(rest)
        if path == default_judge_dir():
            return cls(_default_model(), metric, source="seed")
        source = PUBLIC_DATA if path == public_judge_dir() else str(path)
        return cls(ClassifierModel.load(path), metric, source=source)

    def __repr__(self) -> str:
        return f"ClassifierJudge(metric={self.metric!r}, source={self.source!r})"

    @property
    def settings(self) -> FeatureSettings:
        """The feature settings the judge was fitted with."""
        return self.model.meta.settings

    def _embed(self, texts: list[str]) -> np.ndarray:
        if len(_MEMORY._mem) > _MEMORY_LIMIT:
            _MEMORY._mem.clear()
        return _MEMORY.embed(texts, self.settings.max_seq_length, dtype=self.settings.encoder_dtype)

    def features(self, questions: list[str], answers: list[str]):
        """(dense features, TF-IDF rows) of (question, answer) pairs, exactly as `fit_classifier` computes them."""
        s = self.settings
        uq = list(dict.fromkeys(questions))
        qemb = self._embed(uq)
        qidx = {q: i for i, q in enumerate(uq)}
        if len(_MEMORY._mem) > _MEMORY_LIMIT:
            _MEMORY._mem.clear()
        aemb, extra = answer_embeddings(answers, s, _MEMORY)
        stats = np.stack([text_stats(a) for a in answers]) if answers else np.zeros((0, 12), np.float32)
        dense = dense_features(aemb, qemb[[qidx[q] for q in questions]], stats, extra)
        return dense, tfidf(ngram_counts(answers, s), self.model.arrays["idf"], s.hash_bits)

    def predict(self, questions: list[str], answers: list[str]) -> dict[str, np.ndarray]:
        """Per answer: `p_misaligned`, `p_none`, `p_coherent`, and the 0..100 scores `aligned` (NaN where the
        reference judge would most likely give none) and `coherent`."""
        questions = [q or "" for q in questions]
        answers = [a if isinstance(a, str) else "" for a in answers]
        dense, sparse = self.features(questions, answers)
        logits = self.model.logits(dense, sparse)
        probs = self.model.probabilities(logits)
        meta = self.model.meta
        aligned = meta.aligned_map(logits["misaligned"])
        aligned[probs["none"] > meta.none_threshold] = np.nan
        return {"p_misaligned": probs["misaligned"], "p_none": probs["none"], "p_coherent": probs["coherent"],
                "aligned": aligned, "coherent": meta.coherent_map(logits["coherent"])}

    def _scores(self, values: np.ndarray) -> list[Score]:
        out = []
        for v in values:
            if np.isnan(v):
                out.append(Score(value=None, reason=NONE_REASON, mass=0.0))
            else:
                out.append(Score(value=float(v), reason="", mass=1.0))
        return out

    def score(self, question: str, answer: str, prompt: str = "") -> Score:
        """Predicted score of the judge's metric for one answer (`prompt` is ignored)."""
        return self.score_many([(question, answer, prompt)])[0]

    def score_many(self, items: list[JudgeItem], on_done: Callable[[int], None] | None = None) -> list[Score]:
        """Predicted scores for many (question, answer, prompt) items, embedded in batches; `on_done(k)` after
        each batch of k items."""
        out: list[Score] = []
        for start in range(0, len(items), _BATCH):
            batch = items[start:start + _BATCH]
            pred = self.predict([q for q, _, _ in batch], [a for _, a, _ in batch])
            out.extend(self._scores(pred[self.metric]))
            if on_done:
                on_done(len(batch))
        return out
