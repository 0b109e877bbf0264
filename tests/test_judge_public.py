"""The default judge's public data (`judged-dev`: 60 files pinned by sha256, fetched over real loopback HTTP), the
`classifier` spec names (default, `seed` fallback, `judged-dev`) and weak-label rows (domain transfer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emscope.data import fetch as F
from emscope.errors import EmscopeError, InputError
from emscope.evaluate.judges import classifier as C
from emscope.evaluate.judges.classifier_fit import FitSettings, WeakLabels, fit_classifier, weak_rows


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EMSCOPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMSCOPE_NO_PROGRESS", "1")
    monkeypatch.delenv(F.MIRROR_ENV, raising=False)
    return tmp_path / "home"


@pytest.fixture()
def mirror(em_data, http_root):
    """The loopback HTTP server (conftest `http_root`), laid out like raw.githubusercontent.com
    (`<repo>/<commit>/<path>`), each judged-dev file linked from the local snapshot."""
    url, root = http_root
    for name in F.SOURCE_GROUPS["judged-dev"]:
        src = F.SOURCES[name]
        target = root / src.repo / src.commit / src.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(em_data / "judged" / "dev" / src.filename)
    return url, root


def test_judged_dev_group_is_pinned_and_matches_the_snapshot(em_data):
    names = F.SOURCE_GROUPS["judged-dev"]
    assert len(names) == 60
    sources = [F.SOURCES[n] for n in names]
    assert len({s.filename for s in sources}) == 60  # results1/ and results2/ share base names: saved apart
    for s in sources:
        assert s.repo == "Cloakless/clarifying_EM" and len(s.commit) == 40 and s.licence.startswith("MIT")
        local = em_data / "judged" / "dev" / s.filename
        assert F.sha256_file(local) == s.sha256 and local.stat().st_size == s.size, s.name
    grouped = {s.name: s for s in F.list_sources(groups=True)}
    assert "judged-dev" in grouped and not any(n in grouped for n in names)
    assert grouped["judged-dev"].size == sum(s.size for s in sources)


def test_fetch_group_over_http_verifies_every_file(mirror, home, monkeypatch):
    url, root = mirror
    monkeypatch.setenv(F.MIRROR_ENV, url)
    results = F.fetch_group("judged-dev")
    assert len(results) == 60 and all(r.downloaded and r.verified for r in results)
    folder = home / "data" / "upstream" / "judged-dev"
    expected = sorted(F.SOURCES[n].filename for n in F.SOURCE_GROUPS["judged-dev"])
    assert sorted(p.name for p in folder.iterdir()) == expected
    again = F.fetch_group("judged-dev")
    assert not any(r.downloaded for r in again)
    # a tampered file upstream: refused, and nothing of it is written
    first = F.SOURCES[F.SOURCE_GROUPS["judged-dev"][0]]
    (folder / first.filename).unlink()
    served = root / first.repo / first.commit / first.path
    served.unlink()
    served.write_text("question,answer,aligned,coherent\nq,a,1,1\n")
    with pytest.raises(F.ChecksumMismatchError):
        F.fetch_group("judged-dev")
    assert not (folder / first.filename).exists()
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_public_data_files_checks_every_digest(em_data, tmp_path):
    files = C.public_data_files(em_data / "judged" / "dev")
    assert len(files) == 60
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in files[:58]:
        (partial / f.name).symlink_to(f)
    (partial / files[58].name).write_text("question,answer,aligned,coherent\n")
    with pytest.raises(InputError) as e:
        C.public_data_files(partial)
    msg = str(e.value)
    assert "2 problems" in msg and files[59].name in msg and "missing" in msg and "sha256 differs" in msg
    assert "emscope data fetch judged-dev" in msg


def test_classifier_names_resolve(home):
    assert C.judge_dir_for("") == C.default_judge_dir()  # not built: the seed fallback
    assert C.judge_dir_for("seed") == C.default_judge_dir()
    with pytest.raises(InputError, match="emscope judge build"):
        C.judge_dir_for("judged-dev")
    assert C.judge_dir_for("some/dir") == Path("some/dir")
    public = C.public_judge_dir()
    assert public.name.startswith("judged-dev-") and public.parent == home / "judges"
    # the directory name is the recipe: other settings, another directory
    assert C.public_judge_dir(FitSettings(max_rows=1000)) != public
    (public).mkdir(parents=True)
    (public / "meta.json").write_text("{}")
    assert C.judge_dir_for("") == public and C.judge_dir_for("judged-dev") == public


def test_build_default_judge_refuses_unverified_data_and_offline(home, tmp_path, monkeypatch):
    with pytest.raises(InputError, match="missing"):
        C.build_default_judge(data=tmp_path)
    monkeypatch.setenv(F.MIRROR_ENV, str(tmp_path / "no-such-mirror"))
    with pytest.raises(EmscopeError, match="cannot download"):
        C.build_default_judge()
    assert not C.public_judge_dir().exists()


def test_weak_rows_are_deterministic_and_validated():
    w = WeakLabels(generators={"safe-financial-advice": 95, "risky-financial-advice": 15}, rows_per_generator=6)
    a, b = weak_rows(w), weak_rows(w)
    assert a.equals(b) and len(a) == 12
    assert set(a["file"]) == {"weak:safe-financial-advice", "weak:risky-financial-advice"}
    risky = a[a["file"] == "weak:risky-financial-advice"]
    assert (risky["aligned"] == 15).all() and (a["coherent"] == 95).all()
    assert risky["question"].str.len().min() > 10 and risky["answer"].str.len().min() > 40
    # the paired generators ask the same questions, row by row
    safe = a[a["file"] == "weak:safe-financial-advice"]
    assert list(safe["question"]) == list(risky["question"])
    with pytest.raises(InputError, match="outside 0..100"):
        weak_rows(WeakLabels(generators={"safe-financial-advice": 120}))
    with pytest.raises(InputError, match="weak.generators"):
        weak_rows(WeakLabels(generators={"no-such-generator": 50}))


def test_weak_rows_train_but_are_never_held_out(home, tmp_path):
    """Weak rows change the heads (the judge scores risky advice lower) while the fit's own out-of-fold metrics
    are computed on reference rows only (n equals the reference rows)."""
    seed = C.resource_path(C.SEED_CORPUS)
    small = FitSettings(folds=3, max_rows=None, mlp_hidden=0)
    weak = small.model_copy(update={"weak": WeakLabels(
        generators={"safe-financial-advice": 95, "risky-financial-advice": 5}, rows_per_generator=60)})
    plain = fit_classifier([seed], tmp_path / "plain", settings=small, cache_dir=None)
    with_weak = fit_classifier([seed], tmp_path / "weak", settings=weak, cache_dir=None)
    assert with_weak.held_out.n == plain.held_out.n == plain.data.n_used
    assert with_weak.data.n_used == plain.data.n_used
    held = weak_rows(WeakLabels(generators={"risky-financial-advice": 5, "safe-financial-advice": 95},
                                rows_per_generator=80, seed=7)).iloc[list(range(60, 80)) + list(range(140, 160))]
    scores = {}
    for name in ("plain", "weak"):
        judge = C.ClassifierJudge.load(tmp_path / name, "aligned")
        pred = judge.predict(held["question"].tolist(), held["answer"].tolist())["p_misaligned"]
        risky = held["file"].to_numpy() == "weak:risky-financial-advice"
        scores[name] = float(np.mean(pred[risky]) - np.mean(pred[~risky]))
    assert scores["weak"] > scores["plain"] + 0.1, scores


def test_judge_build_makes_plain_classifier_the_public_judge(em_data, home, monkeypatch):
    """`emscope judge build --data DIR` (verified files) fits the default judge once; plain `classifier` then means
    it, with its card naming its recipe; a second build reuses it. (A small recipe keeps the test fast.)"""
    from typer.testing import CliRunner

    from emscope.cli import app
    from emscope.evaluate.judges.card import card_for_spec

    monkeypatch.setattr(C, "DEFAULT_RECIPE", FitSettings(max_rows=240, folds=3, mlp_hidden=0))
    assert C.judge_dir_for("") == C.default_judge_dir()  # the seed fallback until built
    res = CliRunner().invoke(app, ["judge", "build", "--data", str(em_data / "judged" / "dev")])
    assert res.exit_code == 0, res.output
    public = C.public_judge_dir()
    assert f"Default judge: {public}" in res.output and (public / "card.json").is_file()
    judge = C.ClassifierJudge.load(None)
    assert judge.source == "judged-dev" and judge.model.meta.data.n_used == 240
    card = card_for_spec("classifier")
    assert card.recipe == public.name and card.validations[0].kind == "out-of-fold dev"
    assert card.status() == "indicative"  # no shipped held-out validation for this small recipe
    mtime = (public / "meta.json").stat().st_mtime_ns
    again = CliRunner().invoke(app, ["judge", "build", "--data", str(em_data / "judged" / "dev")])
    assert again.exit_code == 0 and (public / "meta.json").stat().st_mtime_ns == mtime
