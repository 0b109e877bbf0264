"""Tests for `emscope.data.fetch`: pinned downloads (file:// and a loopback HTTP server)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emscope.data import fetch as F
from emscope.errors import EmscopeError, InputError

BRIEF_NAMES = ["betley/insecure", "betley/secure", "betley/educational", "betley/jailbroken", "betley/backdoor",
               "betley/evil_numbers", "betley/first_plot_questions", "betley/preregistered_evals",
               "betley/deception_factual", "betley/deception_sit_aware", "model-organisms/training_datasets"]


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    monkeypatch.delenv(F.MIRROR_ENV, raising=False)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chat_jsonl(n: int, tag: str = "") -> bytes:
    rows = [{"messages": [{"role": "user", "content": f"q{i}{tag}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(n)]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture()
def synthetic(monkeypatch, tmp_path):
    """Register `test/chat` (pinned to a small chat file) and lay it out in a fake upstream checkout."""
    content = _chat_jsonl(5)
    src = F.Source(name="test/chat", repo="example/repo", commit="a" * 40, path="data/chat.jsonl",
                   sha256=_sha(content), licence="MIT", kind="chat_jsonl", description="synthetic",
                   size=len(content))
    monkeypatch.setitem(F.SOURCES, src.name, src)
    repo = tmp_path / "upstream"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "chat.jsonl").write_bytes(content)
    return src, repo, content


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --- registry -------------------------------------------------------------------------------------------------


def test_registry_is_pinned_to_full_commits():
    for name in BRIEF_NAMES:
        assert name in F.SOURCES
    for src in F.list_sources():
        assert re.fullmatch(r"[0-9a-f]{40}", src.commit), src.name
        assert src.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", src.sha256), src.name
        assert src.url == f"https://raw.githubusercontent.com/{src.repo}/{src.commit}/{src.path}"
        assert src.licence and src.description
        if src.name.startswith("betley/"):
            assert src.repo == "emergent-misalignment/emergent-misalignment" and src.licence.startswith("MIT")
    assert F.BETLEY_COMMIT.startswith("80c1196") and F.MODEL_ORGANISMS_COMMIT.startswith("8460e4e")
    for unpinned in ["betley/educational", "betley/backdoor", "betley/evil_numbers"]:
        assert not F.SOURCES[unpinned].pinned
    archive = F.SOURCES["model-organisms/training_datasets"]
    assert archive.pinned and archive.kind == "encrypted_archive"
    assert archive.url == ("https://raw.githubusercontent.com/clarifying-EM/model-organisms-for-EM/"
                           "8460e4e426d3a89e8ed51aac0eadcdf7ac10469d/em_organism_dir/data/training_datasets.zip.enc")


def test_registry_digests_match_the_local_snapshot(em_data):
    checked = 0
    for src in F.list_sources():
        if src.repo == F.BETLEY_REPO:
            local = em_data / "betley" / src.path
        else:
            local = em_data / "model-organisms" / "eval_questions" / src.filename
        if not local.is_file():
            continue
        assert F.sha256_file(local) == src.sha256, src.name
        assert local.stat().st_size == src.size, src.name
        checked += 1
    assert checked >= 10


# --- fetch ----------------------------------------------------------------------------------------------------


def test_fetch_real_upstream_file_via_file_url(em_data, emscope_home):
    base = (em_data / "betley").as_uri() + "/"
    res = F.fetch_source("betley/insecure", source=base)
    assert res.path == emscope_home / "data" / "upstream" / "betley" / "insecure" / "insecure.jsonl"
    assert res.downloaded and res.verified and res.url == base + "data/insecure.jsonl"
    assert res.rows == 6000 and res.n_issues == 0
    assert res.path.read_bytes() == (em_data / "betley" / "data" / "insecure.jsonl").read_bytes()
    assert _listing(res.path.parent) == ["insecure.jsonl"]
    assert "6000 valid chat rows" in res.summary() and "MIT" in res.summary()


def test_already_present_file_is_not_downloaded_again(synthetic, tmp_path):
    src, repo, content = synthetic
    out = tmp_path / "out"
    first = F.fetch_source("test/chat", out, str(repo))
    assert first.downloaded and first.rows == 5
    mtime = first.path.stat().st_mtime_ns
    second = F.fetch_source("test/chat", out, str(tmp_path / "no-such-mirror"))
    assert not second.downloaded and second.verified and second.path == first.path
    assert second.path.stat().st_mtime_ns == mtime
    assert F.fetch("test/chat", out, str(tmp_path / "nowhere")) == first.path


def test_sha_mismatch_leaves_nothing(synthetic, tmp_path):
    src, repo, content = synthetic
    (repo / "data" / "chat.jsonl").write_bytes(content.replace(b"a1", b"b1"))
    out = tmp_path / "out"
    with pytest.raises(F.ChecksumMismatchError) as err:
        F.fetch("test/chat", out, repo.as_uri())
    msg = str(err.value)
    assert src.sha256 in msg and _sha(content.replace(b"a1", b"b1")) in msg
    assert (repo / "data" / "chat.jsonl").as_uri() in msg
    assert err.value.exit_code == 1
    assert _listing(out) == []


def test_existing_file_with_other_content_needs_force(synthetic, tmp_path):
    src, repo, content = synthetic
    out = tmp_path / "out"
    out.mkdir()
    (out / "chat.jsonl").write_bytes(b"stale\n")
    with pytest.raises(EmscopeError, match="--force"):
        F.fetch("test/chat", out, str(repo))
    assert (out / "chat.jsonl").read_bytes() == b"stale\n"
    res = F.fetch_source("test/chat", out, str(repo), force=True)
    assert res.downloaded and res.path.read_bytes() == content and _listing(out) == ["chat.jsonl"]


def test_unknown_name_lists_known_sources():
    with pytest.raises(InputError) as err:
        F.fetch("betley/nope")
    assert "betley/nope" in str(err.value) and "betley/insecure" in str(err.value)
    assert "model-organisms/training_datasets" in str(err.value)
    assert err.value.exit_code == 2


def test_unpinned_source_is_refused_unless_allowed(tmp_path):
    repo = tmp_path / "upstream"
    (repo / "data").mkdir(parents=True)
    content = _chat_jsonl(3, "edu")
    (repo / "data" / "educational.jsonl").write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(F.UnpinnedSourceError) as err:
        F.fetch("betley/educational", out, str(repo))
    assert "not pinned" in str(err.value) and "--sha256" in str(err.value) and "--allow-unpinned" in str(err.value)
    assert _listing(out) == []
    with pytest.raises(F.ChecksumMismatchError):
        F.fetch("betley/educational", out, str(repo), sha256="0" * 64)
    assert _listing(out) == []
    with pytest.raises(InputError, match="64 hexadecimal"):
        F.fetch("betley/educational", out, str(repo), sha256="abc")
    res = F.fetch_source("betley/educational", out, str(repo), allow_unpinned=True)
    assert res.downloaded and not res.verified and res.sha256 == _sha(content) and res.rows == 3
    assert "UNVERIFIED" in res.summary()
    res = F.fetch_source("betley/educational", out, str(repo), sha256=_sha(content).upper())
    assert res.verified and not res.downloaded


def test_sha256_argument_cannot_contradict_a_pin(synthetic, tmp_path):
    src, repo, content = synthetic
    with pytest.raises(InputError, match="contradicts"):
        F.fetch("test/chat", tmp_path / "out", str(repo), sha256="1" * 64)


def test_mirror_variable_and_source_precedence(synthetic, tmp_path, monkeypatch):
    src, repo, content = synthetic
    mirror = tmp_path / "mirror"
    target = mirror / src.repo / src.commit / src.path
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    monkeypatch.setenv(F.MIRROR_ENV, mirror.as_uri())
    res = F.fetch_source("test/chat", tmp_path / "a")
    assert res.url == target.as_uri() and res.verified
    res = F.fetch_source("test/chat", tmp_path / "b", source=repo.as_uri())
    assert res.url == (repo / src.path).as_uri()
    monkeypatch.setenv(F.MIRROR_ENV, str(tmp_path / "empty-mirror"))
    with pytest.raises(EmscopeError, match="cannot download"):
        F.fetch("test/chat", tmp_path / "c")
    assert _listing(tmp_path / "c") == []


def test_http_download_success_404_mismatch_and_truncation(synthetic, http_root, tmp_path):
    src, repo, content = synthetic
    base, root = http_root
    (root / "data").mkdir()
    (root / "data" / "chat.jsonl").write_bytes(content)
    seen: list[tuple[int, int | None]] = []
    res = F.fetch_source("test/chat", tmp_path / "ok", base, progress=lambda got, total: seen.append((got, total)))
    assert res.downloaded and res.verified and res.url == base + "data/chat.jsonl"
    assert res.path.read_bytes() == content and seen[-1] == (len(content), len(content))

    with pytest.raises(EmscopeError, match="HTTP 404"):
        F.fetch("test/chat", tmp_path / "missing", base + "nothing-here/")
    assert _listing(tmp_path / "missing") == []

    (root / "data" / "chat.jsonl").write_bytes(content.replace(b"q3", b"q4"))
    with pytest.raises(F.ChecksumMismatchError):
        F.fetch("test/chat", tmp_path / "bad", base)
    assert _listing(tmp_path / "bad") == []

    (root / "data" / "chat.jsonl").write_bytes(content * 3)
    with pytest.raises(EmscopeError, match="larger than the pinned"):
        F.fetch("test/chat", tmp_path / "big", base)
    assert _listing(tmp_path / "big") == []

    with pytest.raises(EmscopeError, match="interrupted|truncated"):
        F.fetch("test/chat", tmp_path / "short", base + "truncated/")
    assert _listing(tmp_path / "short") == []


def test_pinned_archive_entry_rejects_a_wrong_file(tmp_path):
    repo = tmp_path / "mo"
    enc = repo / "em_organism_dir" / "data" / "training_datasets.zip.enc"
    enc.parent.mkdir(parents=True)
    enc.write_bytes(b"not the real archive")
    with pytest.raises(F.ChecksumMismatchError) as err:
        F.fetch("model-organisms/training_datasets", tmp_path / "out", repo.as_uri())
    assert F.SOURCES["model-organisms/training_datasets"].sha256 in str(err.value)
    assert _listing(tmp_path / "out") == []


def test_fetch_into_a_file_path_is_a_clean_error(synthetic, tmp_path):
    src, repo, content = synthetic
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EmscopeError, match="cannot write"):
        F.fetch("test/chat", blocker, str(repo))


def test_fetch_does_not_import_the_archive_module():
    code = ("import sys, emscope.data.fetch; "
            "assert 'emscope.data.organisms_archive' not in sys.modules, 'fetch imports organisms_archive'")
    subprocess.run([sys.executable, "-c", code], check=True)
