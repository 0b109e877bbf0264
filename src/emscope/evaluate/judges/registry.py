"""Judge specs: one string names a judge everywhere (`eval run --judge`, `judge validate --judge`, `persona extract`).

- `openai:MODEL` or `openai:MODEL@BASE_URL`: any OpenAI-compatible endpoint (key from `OPENAI_API_KEY`).
- `hf:MODEL`: a local causal LM read exactly over 0..100 (`MODEL` as for `load_model`: a name, directory or hub id).
- `classifier:DIR`: a fitted fast CPU judge (`emscope judge fit`); plain `classifier` is the default judge fitted
  on the shipped seed corpus (fitted once, cached).
- `package.module:factory`: your own judge, `factory()` returning an object with `score()` (and, for categorical
  judging, `classify(question, answer, prompt, labels) -> LabelScore`; see `labels.py`).

Heavy judges are imported only when named.
"""

from __future__ import annotations

import importlib

from emscope.errors import InputError
from emscope.evaluate.judges.base import Judge

SPEC_FORMS = ("'openai:MODEL[@BASE_URL]', 'hf:MODEL', 'classifier[:DIR]' or 'package.module:factory'")
METRICS = ("aligned", "coherent")


def build_judge(spec: str, metric: str = "aligned") -> Judge:
    """The judge a spec names. `metric` (aligned|coherent) matters only for judges that do not read the prompt."""
    if metric not in METRICS:
        raise InputError(f"unknown judge metric {metric!r}; expected one of {', '.join(METRICS)}")
    kind, sep, rest = spec.partition(":")
    if kind == "openai" and sep:
        from emscope.evaluate.judges.openai_judge import OpenAIJudge

        model, _, base_url = rest.partition("@")
        if not model:
            raise InputError(f"judge spec {spec!r} names no model; accepted forms: {SPEC_FORMS}")
        return OpenAIJudge(model, base_url=base_url or None)
    if kind == "hf" and sep:
        if not rest:
            raise InputError(f"judge spec {spec!r} names no model; accepted forms: {SPEC_FORMS}")
        from emscope.evaluate.judges.hf_judge import HFJudge

        return HFJudge.from_spec(rest)
    if kind == "classifier":
        from emscope.evaluate.judges.classifier import ClassifierJudge

        return ClassifierJudge.load(rest or None, metric=metric)
    if sep and "." in kind and rest.isidentifier():
        return _factory_judge(spec, kind, rest)
    raise InputError(f"unknown judge spec {spec!r}; accepted forms: {SPEC_FORMS}")


def build_judges(spec: str, metrics: tuple[str, ...] = METRICS) -> dict[str, Judge]:
    """One judge per metric. Judges that read the prompt (openai, hf, factories) are built once and shared; the
    classifier gets one head per metric (sharing its encoder)."""
    if spec.partition(":")[0] == "classifier":
        return {m: build_judge(spec, metric=m) for m in metrics}
    judge = build_judge(spec)
    return dict.fromkeys(metrics, judge)


def reads_prompt(spec: str) -> bool:
    """Whether the judge a spec names follows the prompt it is given (the classifier predicts fixed metrics)."""
    return spec.partition(":")[0] != "classifier"


def _factory_judge(spec: str, module_name: str, attr: str) -> Judge:
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"judge spec {spec!r}: cannot import module {module_name!r}: {e}") from e
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InputError(f"judge spec {spec!r}: module {module_name!r} has no callable {attr!r}")
    judge = factory()
    if not callable(getattr(judge, "score", None)):
        raise InputError(f"judge spec {spec!r}: {attr}() returned {type(judge).__name__}, which has no score()")
    return judge
