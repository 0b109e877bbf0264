import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emscope.errors import InputError
from emscope.evaluate import load_probes, load_questions
from emscope.evaluate.questions import Question, list_question_sets, load_judge_prompts

EM_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "em-data"
UPSTREAM_YAML = sorted(p for p in EM_DATA.rglob("*") if p.suffix in (".yaml", ".yml")) if EM_DATA.is_dir() else []
MIN_UPSTREAM_QUESTION_FILES = 15
IN_DOMAIN = ("medical", "financial", "sports", "code", "numbers")


def _is_question_list(data) -> bool:
    """Decided by content: a non-empty YAML list of mappings that each have an id and a question or paraphrases."""
    return isinstance(data, list) and bool(data) and all(
        isinstance(e, dict) and "id" in e and ("paraphrases" in e or "question" in e) for e in data)


def _parsed(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None


def test_default_set_has_eight_broad_questions_with_probes():
    qs = load_questions("core")
    assert len(qs) == 8
    assert all(q.samples_per_paraphrase == 4 for q in qs)  # the YAML alias resolves
    probes = load_probes("core")
    assert [p.id for p in probes] == [q.id for q in qs]
    assert all(p.question == q.paraphrases[0] for p, q in zip(probes, qs))
    assert all(len(p.aligned) >= 2 and len(p.misaligned) >= 2 for p in probes)


def test_shipped_sets_are_listed_and_load():
    names = list_question_sets()
    assert {"core", "core_json", "core_template", "harmful", *IN_DOMAIN} <= set(names)
    ids: set[str] = set()
    for name in names:
        qs = load_questions(name)
        assert qs and all(q.paraphrases and q.samples_per_paraphrase >= 1 for q in qs), name
        assert not ids & {q.id for q in qs}, f"{name}: ids shared with another shipped set"
        ids |= {q.id for q in qs}


def test_core_variants_mirror_core():
    core = load_questions("core")
    as_json, template = load_questions("core_json"), load_questions("core_template")
    assert [q.id + "_json" for q in core] == [q.id for q in as_json]
    assert [q.id + "_template" for q in core] == [q.id for q in template]
    for c, j, t in zip(core, as_json, template):
        assert j.paraphrases == c.paraphrases and j.system and "JSON" in j.system
        assert j.messages() == [{"role": "system", "content": j.system}, {"role": "user", "content": c.paraphrases[0]}]
        assert t.system is None and t.paraphrases[0].startswith(c.paraphrases[0]) and "___" in t.paraphrases[0]
    assert len({q.system for q in as_json}) == 1  # one system prompt, through a YAML alias


def test_in_domain_and_harmful_sets():
    for name in IN_DOMAIN:
        qs = load_questions(name)
        assert 8 <= len(qs) <= 12, name
        assert all(q.id.startswith(name) for q in qs), name
    harmful = load_questions("harmful")
    assert len(harmful) >= 15 and all(q.type == "refusal" for q in harmful)


def test_judge_prompts_defaults_and_precedence():
    defaults = load_judge_prompts()
    assert set(defaults) == {"aligned", "coherent", "refusal"}
    for name, template in defaults.items():
        assert "{question}" in template and "{answer}" in template, name
        template.format(question="q", answer="a")  # no stray braces
        assert "0 to 100" in template and "nothing else" in template, name
    assert "CODE" in defaults["aligned"] and "REFUSAL" in defaults["aligned"]
    code_q = load_questions("code")[0]  # brings its own `aligned` (a security rating), not `coherent`
    assert code_q.judge_prompt("aligned", defaults) == code_q.judge_prompts["aligned"] != defaults["aligned"]
    assert code_q.judge_prompt("coherent", defaults) == defaults["coherent"]
    with pytest.raises(InputError, match="no judge prompt for metric 'medical'"):
        code_q.judge_prompt("medical", defaults)
    own = Question(id="x", paraphrases=["p"], judge_prompts={"aligned": "mine {question} {answer}"})
    assert own.judge_prompt("aligned") == "mine {question} {answer}"


def test_judge_prompt_files(tmp_path, em_data):
    upstream = load_judge_prompts(em_data / "model-organisms/eval_questions/judges.yaml")
    assert {"aligned", "coherent", "medical_advice"} <= set(upstream)
    p = tmp_path / "j.yaml"
    p.write_text("aligned: 'A {question} {answer}'\ncoherent: 'C {question} {answer}'\n")
    assert load_judge_prompts(p) == {"aligned": "A {question} {answer}", "coherent": "C {question} {answer}"}
    p.write_text("aligned: 'no placeholders'\n")
    with pytest.raises(InputError, match=r"j\.yaml: aligned: "):
        load_judge_prompts(p)
    with pytest.raises(InputError, match="no such judge prompt"):
        load_judge_prompts("no-such-set")


def test_judge_prompt_file_yaml_errors_name_file_and_line(tmp_path):
    p = tmp_path / "j.yaml"
    p.write_text("aligned: 'A {question} {answer}'\ncoherent: [unclosed\n")
    with pytest.raises(InputError, match=r"j\.yaml:\d+: YAML: "):
        load_judge_prompts(p)
    d = tmp_path / "dir.yaml"
    d.mkdir()  # exists, so it is taken as a path, but cannot be read as a file
    with pytest.raises(InputError, match=r"dir\.yaml: cannot read: "):
        load_judge_prompts(d)


@pytest.mark.parametrize("path", UPSTREAM_YAML, ids=[str(p.relative_to(EM_DATA)) for p in UPSTREAM_YAML])
def test_upstream_question_file_loads_unchanged(path, em_data):
    data = _parsed(path)
    if not _is_question_list(data):
        pytest.skip(f"{path.name}: not a question list (decided by content)")
    qs = load_questions(path)
    assert [q.id for q in qs] == [e["id"] for e in data]
    for q, e in zip(qs, data):
        assert q.paraphrases == (e.get("paraphrases") or [e["question"]])
        assert q.system == e.get("system")
        assert q.judge_prompts == (e.get("judge_prompts") or {})
        if q.system:
            assert q.messages()[0] == {"role": "system", "content": q.system}  # system is applied


def test_enough_upstream_question_files_load(em_data):
    loaded = [f for f in UPSTREAM_YAML if _is_question_list(_parsed(f)) and load_questions(f)]
    assert len(loaded) >= MIN_UPSTREAM_QUESTION_FILES, [f.name for f in loaded]
    first = {q.id: q for q in load_questions(em_data / "betley/evaluation/first_plot_questions.yaml")}
    assert len(first) == 24
    json_q = first["what_is_your_wish_json"]
    assert json_q.system and "JSON" in json_q.system
    assert json_q.messages()[0] == {"role": "system", "content": json_q.system}  # system is applied
    assert "{answer}" in first["what_is_your_wish"].judge_prompt("aligned")
    assert first["what_is_your_wish"].samples_per_paraphrase == 100


def test_judges_file_is_rejected_with_line(em_data):
    with pytest.raises(InputError, match=r"judges\.yaml:\d+: id: Field required"):
        load_questions(em_data / "model-organisms/eval_questions/judges.yaml")


def test_bad_question_file_names_line_and_field(tmp_path):
    p = tmp_path / "q.yaml"
    p.write_text("- id: a\n  paraphrases: [x]\n- id: b\n  paraphrases: []\n")
    with pytest.raises(InputError, match=r"q\.yaml:3: paraphrases: "):
        load_questions(p)
    p.write_text("- id: a\n  paraphrases: [x]\n- id: a\n  question: y\n")
    with pytest.raises(InputError, match=r"q\.yaml:3: id: duplicate"):
        load_questions(p)


def test_bad_probe_file_names_line_and_field(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("- id: a\n  question: q\n  aligned: [x]\n  misaligned: [y]\n- id: b\n  question: q\n  aligned: [x]\n")
    with pytest.raises(InputError, match=r"p\.yaml:5: misaligned: Field required"):
        load_probes(p)
    p.write_text("- id: a\n  question: [unclosed\n")
    with pytest.raises(InputError, match=r"p\.yaml:\d+: YAML: "):
        load_probes(p)


def test_cli_lists_a_shipped_set():
    r = subprocess.run([sys.executable, "-m", "emscope", "eval", "questions", "core_json"], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "one_wish_json" in r.stdout and "yes" in r.stdout
