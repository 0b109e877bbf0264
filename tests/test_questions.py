import pytest

from emscope.errors import InputError
from emscope.evaluate import load_probes, load_questions


def test_default_set_has_eight_broad_questions_with_probes():
    qs = load_questions("core")
    assert len(qs) == 8
    assert all(q.samples_per_paraphrase == 4 for q in qs)  # the YAML alias resolves
    probes = load_probes("core")
    assert [p.id for p in probes] == [q.id for q in qs]
    assert all(p.question == q.paraphrases[0] for p, q in zip(probes, qs))
    assert all(len(p.aligned) >= 2 and len(p.misaligned) >= 2 for p in probes)


def test_all_upstream_question_files_load_unchanged(em_data):
    files = [f for f in sorted(em_data.rglob("*.yaml")) if f.name != "judges.yaml"]
    assert len(files) >= 15
    for f in files:
        qs = load_questions(f)
        assert qs and all(q.paraphrases for q in qs), f
    first = {q.id: q for q in load_questions(em_data / "betley/evaluation/first_plot_questions.yaml")}
    assert len(first) == 24
    json_q = first["what_is_your_wish_json"]
    assert json_q.system and "JSON" in json_q.system
    assert json_q.messages()[0] == {"role": "system", "content": json_q.system}  # system is applied
    assert "{answer}" in first["what_is_your_wish"].judge_prompts["aligned"]
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
