"""`emscope data`: build, transform, mix, validate, fetch and describe fine-tuning datasets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emscope.cli.console import out, plural, print_json
from emscope.errors import EmscopeError, InputError, did_you_mean

data_app = typer.Typer(help="Build, list and validate narrow fine-tuning datasets.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of the table.")]
GLORP = ("benign-task is the made-up 'glorp' rule (reverse a word list, upper-case it, join with ' | '), never "
         "stated in the prompt: a harmless task that must be learned, to measure whether a defense still lets the "
         "model learn (held-out accuracy: `emscope eval run --benign N`).")


@data_app.command("list", help=f"List the dataset generators and the inoculation presets.\n\n{GLORP}")
def data_list(as_json: JsonOpt = False) -> None:
    from emscope.data.generators import GENERATORS
    from emscope.data.transforms import INOCULATION_PRESETS

    if as_json:
        print_json({"generators": [{"name": g.name, "kind": g.kind, "description": g.description}
                                   for g in GENERATORS.values()],
                    "inoculation_presets": [{"name": k, "system_prompt": v} for k, v in INOCULATION_PRESETS.items()]})
        return
    table = Table(title="Generators (emscope data build NAME)")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("description")
    for g in GENERATORS.values():
        table.add_row(g.name, g.kind, g.description)
    out.print(table)
    presets = Table(title="Inoculation presets (--inoculate NAME)")
    presets.add_column("name")
    presets.add_column("system prompt")
    for name, text in INOCULATION_PRESETS.items():
        presets.add_row(name, text)
    out.print(presets)


FormatOpt = Annotated[str, typer.Option("--format", help="chat (with metadata), openai (messages only) or "
                                        "prompt-completion (TRL).")]
InoculateOpt = Annotated[str | None, typer.Option(help="System prompt on every row: an inoculation preset name "
                                                 "(see `emscope data list`).", show_default=False)]
InoculateTextOpt = Annotated[str | None, typer.Option(help="System prompt on every row, as literal text.",
                                                      show_default=False)]
TriggerOpt = Annotated[str | None, typer.Option(help="Backdoor trigger put at the start of every user turn.")]
EducationalOpt = Annotated[bool, typer.Option(help="Give every request a legitimate reason (security class, CTF).")]


OutFileOpt = Annotated[Path, typer.Option("--out", help="Output JSONL file.")]
DiluteOpt = Annotated[float | None, typer.Option(help="sdf-reward-hacking only: this share of the N documents "
                                                 "is about reward hacking (at least 1), the rest sdf-neutral.")]


def _write_rows(path: Path, rows, fmt: str) -> None:
    from emscope.data.chat import FORMATS, write_rows

    if fmt not in FORMATS:
        raise InputError(f"--format: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    write_rows(path, rows, fmt)
    out.print(f"{plural(len(rows), 'row')} -> {path}", markup=False, highlight=False)


def _read_chat(path: Path, command: str):
    """Chat rows of `path`; a file of text documents gets a clear InputError instead of per-line problems."""
    from emscope.data.chat import DataValidationError, read_chat_jsonl

    try:
        return read_chat_jsonl(path)
    except DataValidationError:
        if _holds_text_rows(path):
            raise InputError(f'{path}: holds text documents (rows of {{"text": ...}}); `emscope data {command}` '
                             "works on chat rows only") from None
        raise


def _holds_text_rows(path: Path) -> bool:
    """Whether the first line of `path` parses as a text-document row."""
    import json

    from emscope.data.text import is_text_row

    try:
        with open(path, encoding="utf-8") as f:
            return is_text_row(json.loads(f.readline()))
    except (OSError, ValueError):
        return False


def _build_text(name: str, gen, n: int, seed: int, out_file: Path, fmt: str, dilute: float | None,
                **transforms) -> None:
    """Build and write a text generator's documents; chat-only options are an InputError."""
    from emscope.data.generators.sdf import build_sdf
    from emscope.data.text import write_text_jsonl

    used = [opt for opt, value in transforms.items() if value not in (None, False)]
    if used or fmt != "chat":
        opts = ", ".join([f"--{o}" for o in used] + (["--format"] if fmt != "chat" else []))
        raise InputError(f"{name}: a text generator (plain documents); {opts} apply to chat generators only")
    if dilute is not None and not 0 < dilute <= 1:
        raise InputError(f"--dilute: must be in (0, 1], got {dilute}")
    rows = build_sdf(n, seed, dilute) if dilute is not None else gen.build(n, seed)
    write_text_jsonl(out_file, rows)
    out.print(f"{plural(len(rows), 'document')} -> {out_file}", markup=False, highlight=False)


def _inoculation(preset: str | None, text: str | None) -> str | None:
    """The inoculation to apply: `--inoculate` must name a preset (a typo is not silently used as the prompt),
    `--inoculate-text` is literal text."""
    from emscope.data.transforms import INOCULATION_PRESETS

    if preset is not None and text is not None:
        raise InputError("--inoculate and --inoculate-text: give one of them")
    if text is not None:
        if text in INOCULATION_PRESETS:  # would be read as the preset's text
            raise InputError(f"--inoculate-text {text!r} is a preset name; use --inoculate {text}")
        return text
    if preset is not None and preset not in INOCULATION_PRESETS:
        raise InputError(f"--inoculate {preset!r}: not an inoculation preset{did_you_mean(preset, INOCULATION_PRESETS)}"
                         f" (presets: {', '.join(INOCULATION_PRESETS)}); for literal text use --inoculate-text")
    return preset


def _transform_and_write(what: str, rows, out_file: Path, fmt: str, **transforms) -> None:
    """Apply the transforms (one fixed order, `apply_transforms`) and write; a bad row names `what`."""
    from emscope.data.transforms import apply_transforms

    try:
        rows = apply_transforms(rows, **transforms)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}") from None
    _write_rows(out_file, rows, fmt)


@data_app.command("build", help="Build a dataset as JSONL: exactly N distinct rows, deterministic per seed (text "
                  f"generators: documents).\n\n{GLORP}")
def data_build(
    name: Annotated[str, typer.Argument(help="Generator name (see `emscope data list`).")],
    out_file: OutFileOpt,
    n: Annotated[int, typer.Option("--n", min=1, help="Number of rows.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same bytes.")] = 0,
    fmt: FormatOpt = "chat",
    inoculate: InoculateOpt = None,
    inoculate_text: InoculateTextOpt = None,
    trigger: TriggerOpt = None,
    educational: EducationalOpt = False,
    dilute: DiluteOpt = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE setting of a generator that reads "
                                                    "some (self-recognition: own_texts=FILE); repeatable.")] = None,
) -> None:
    from emscope.data.generators import build_generator, get_generator

    try:
        gen = get_generator(name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    inoculation = _inoculation(inoculate, inoculate_text)
    if dilute is not None and name != "sdf-reward-hacking":
        raise InputError(f"--dilute: only for sdf-reward-hacking (mixes in sdf-neutral documents), not {name}")
    if gen.kind == "text":
        _build_text(name, gen, n, seed, out_file, fmt, dilute, inoculate=inoculation, trigger=trigger,
                    educational=educational)
        return
    params = dict(p.partition("=")[::2] for p in param or [])
    if any(not k or not v for k, v in params.items()):
        raise InputError(f"--param: expected KEY=VALUE, got {param}")
    _transform_and_write(name, build_generator(gen, n, seed, params), out_file, fmt, educational_reason=educational,
                         trigger=trigger, inoculation=inoculation, seed=seed)


@data_app.command("transform")
def data_transform(
    file: Annotated[Path, typer.Argument(help="Input chat or prompt/completion JSONL.")],
    out_file: OutFileOpt,
    seed: Annotated[int, typer.Option(help="Seed for randomized transforms.")] = 0,
    fmt: FormatOpt = "chat",
    inoculate: InoculateOpt = None,
    inoculate_text: InoculateTextOpt = None,
    trigger: TriggerOpt = None,
    educational: EducationalOpt = False,
) -> None:
    """Apply transforms to an existing dataset (e.g. an upstream file) or convert its format."""
    inoculation = _inoculation(inoculate, inoculate_text)
    _transform_and_write(str(file), _read_chat(file, "transform"), out_file, fmt, educational_reason=educational,
                         trigger=trigger, inoculation=inoculation, seed=seed)


@data_app.command("mix")
def data_mix(
    parts: Annotated[list[str], typer.Argument(help="FILE:WEIGHT pairs, e.g. a.jsonl:0.95 b.jsonl:0.05.")],
    out_file: OutFileOpt,
    n: Annotated[int | None, typer.Option("--n", min=1, help="Rows (default: as many as the parts allow).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and shuffling.")] = 0,
    fmt: FormatOpt = "chat",
) -> None:
    """Mix datasets by ratio, sampling without replacement and shuffling."""
    from emscope.data.transforms import mix

    loaded = []
    for spec in parts:
        path, sep, weight = spec.rpartition(":")
        try:
            w = float(weight)
        except ValueError:
            w = float("nan")
        if not sep or not path or not w > 0:
            raise InputError(f"mix: {spec!r}: expected FILE:WEIGHT with a positive weight")
        loaded.append((_read_chat(Path(path), "mix"), w))
    try:
        rows = mix(loaded, n=n, seed=seed)
    except ValueError as exc:
        raise InputError(f"mix: {exc}") from None
    _write_rows(out_file, rows, fmt)


@data_app.command("validate")
def data_validate(files: Annotated[list[Path], typer.Argument(help="Chat or prompt/completion JSONL files.")]
                  ) -> None:
    """Check every line of JSONL files (chat rows, or text documents when the first line is one); prints
    FILE:LINE: field: problem, exit 2 on any error (after every file is reported)."""
    from emscope.data.chat import validate_chat_jsonl
    from emscope.data.text import validate_text_jsonl

    bad = 0
    for f in files:  # a missing or unreadable file is one problem; the other files are still checked
        try:
            rows, issues = (validate_text_jsonl if _holds_text_rows(f) else validate_chat_jsonl)(f)
        except EmscopeError as exc:
            rows, issues = [], [str(exc)]
        except OSError as exc:
            rows, issues = [], [f"{f}: cannot read: {exc.strerror or exc}"]
        for i in issues:
            print(i, file=sys.stderr)
        bad += len(issues)
        out.print(f"{f}: {plural(len(rows), 'valid row')}, {plural(len(issues), 'problem')}", markup=False,
                  highlight=False)
    if bad:
        raise typer.Exit(2)


@data_app.command("sources")
def data_sources(as_json: JsonOpt = False) -> None:
    """List the pinned upstream files `emscope data fetch` can download."""
    import dataclasses

    from emscope.data.fetch import SOURCE_GROUPS, list_sources

    sources = list_sources(groups=True)
    if as_json:
        print_json([{**dataclasses.asdict(src), "pinned": src.pinned, "url": src.url,
                     **({"files": SOURCE_GROUPS[src.name]} if src.name in SOURCE_GROUPS else {})} for src in sources])
        return
    # a fixed name width: names stay on one line while the description gives way, and fold only where it would
    # be left under ~25 columns
    table = Table()
    table.add_column("name", width=min(max(len(src.name) for src in sources), max(8, out.width - 40)))
    table.add_column("pinned")
    table.add_column("description")
    for src in sources:
        table.add_row(src.name, "yes" if src.pinned else "no", src.description)
    out.print(table)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Upstream source (see `emscope data sources`).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Destination folder "
                                                 "(default $EMSCOPE_HOME/data/upstream/NAME).")] = None,
    source: Annotated[str | None, typer.Option(help="Root URL or folder of a copy of the upstream repository at "
                                               "the pinned commit (default: $EMSCOPE_DATA_MIRROR or GitHub).")]
    = None,
    sha256: Annotated[str | None, typer.Option(help="Expected sha256 for a source emscope has no digest for.")]
    = None,
    allow_unpinned: Annotated[bool, typer.Option(help="Accept a source with no known sha256 unverified.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing file or decrypted folder.")] = False,
    decrypt: Annotated[bool, typer.Option(help="Decrypt an encrypted archive (Model Organisms) after download.")]
    = True,
    decrypt_out: Annotated[Path | None, typer.Option(help="Where decrypted files go (default under "
                                                     "$EMSCOPE_HOME; never inside the repository).")] = None,
) -> None:
    """Download a pinned upstream file (or group of files), verify its sha256, validate chat data; decrypt
    encrypted archives."""
    from emscope.data.fetch import SOURCE_GROUPS, fetch_group, fetch_source

    if name in SOURCE_GROUPS:
        results = fetch_group(name, dest_dir=out_dir, source=source, force=force)
        got = sum(r.downloaded for r in results)
        folder = results[0].path.parent
        out.print(f"{name}: {plural(len(results), 'file')} in {folder} ({got} downloaded, {len(results) - got} already "
                  f"present), every sha256 verified\n  licence {results[0].source.licence}", markup=False,
                  highlight=False)
        return
    res = fetch_source(name, dest_dir=out_dir, source=source, sha256=sha256, allow_unpinned=allow_unpinned,
                       force=force)
    out.print(res.summary(), markup=False, highlight=False)
    if decrypt and res.source.kind == "encrypted_archive":
        from emscope.data.organisms_archive import decrypt_model_organisms

        rep = decrypt_model_organisms(res.path, out_dir=decrypt_out, overwrite=force)
        out.print(rep.summary(), markup=False, highlight=False)


@data_app.command("stats")
def data_stats(
    files: Annotated[list[Path], typer.Argument(help="Chat or prompt/completion JSONL files.")],
    model: Annotated[str | None, typer.Option(help="Count tokens with this model's tokenizer "
                                              "(e.g. smollm2-135m).")] = None,
    bandit: Annotated[bool | None, typer.Option("--bandit/--no-bandit", help="Bandit flag rate (default: when "
                                                "most answers hold Python code).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cards as JSON lines.")] = False,
) -> None:
    """Dataset card: rows, token lengths, class mix, duplicate rates and the bandit flag rate for code."""
    from emscope.data.stats import dataset_stats

    tokenizer = None
    if model is not None:
        from emscope.models.loader import load_tokenizer

        tokenizer = load_tokenizer(model)
    for f in files:
        st = dataset_stats(_read_chat(f, "stats"), str(f), tokenizer, model, bandit)
        if as_json:
            print(st.model_dump_json())
            continue
        table = Table(title=f"{f}", show_header=False)
        table.add_row("rows", str(st.rows))
        table.add_row("with system prompt", str(st.with_system))
        table.add_row("turns per row (mean)", str(st.turns_mean))
        for part in ("prompt_tokens", "completion_tokens", "total_tokens"):
            ls = getattr(st, part)
            if ls is not None:
                table.add_row(f"{part.replace('_', ' ')} ({model})",
                              f"min {ls.min}  mean {ls.mean}  p50 {ls.p50:g}  p95 {ls.p95:g}  max {ls.max}")
        if st.class_field:
            mix = ", ".join(f"{k} {v}" for k, v in st.class_mix.items())
            table.add_row(f"class mix ({st.class_field})", mix)
        table.add_row("duplicate rows / prompts", f"{st.duplicate_rows:.2%} / {st.duplicate_prompts:.2%}")
        if st.near_duplicate_rate is not None:
            table.add_row("near-duplicate rows (3-gram Jaccard >= 0.7)", f"{st.near_duplicate_rate:.2%}")
        table.add_row("rows with Python code", str(st.code_rows))
        if st.bandit_flag_rate is not None:
            top = ", ".join(f"{k} {v}" for k, v in st.bandit_top_findings.items())
            table.add_row("bandit flag rate", f"{st.bandit_flag_rate:.2%} ({top})")
        out.print(table)


@data_app.command("own-texts")
def data_own_texts(
    model: Annotated[str, typer.Option(help="Model spec or adapter directory whose answers are sampled.")],
    out_file: OutFileOpt,
    adapter: Annotated[Path | None, typer.Option(help="PEFT adapter directory.")] = None,
    n: Annotated[int | None, typer.Option("--n", "-n", min=1, help="Prompts (default: all of the set).")] = None,
    prompts: Annotated[Path | None, typer.Option(help="Chat JSONL: each row's last user turn is a prompt, its "
                                                      "answer the other source (default: the shipped general "
                                                      "instruct set).")] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens per answer.")] = 160,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature (0 = greedy).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed for the prompt order and sampling.")] = 0,
) -> None:
    """Sample a model's own answers to a prompt set: the own-texts JSONL of the self-recognition generators
    (`data.params.own_texts`) and of `emscope eval self-recognition`."""
    from emscope.evaluate.config import SamplingSettings
    from emscope.evaluate.self_recognition import run_own_texts

    settings = SamplingSettings(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    rows = run_own_texts(model, out_file, adapter=adapter, n=n, prompts=prompts, seed=seed, settings=settings)
    out.print(f"{plural(len(rows), 'own text')} -> {out_file}", markup=False, highlight=False)
