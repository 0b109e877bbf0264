"""Self-recognition (SGTR): the own-texts file, the three generators, the label log-prob metric and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from emscope.data.build import DataSettings, build_rows
from emscope.data.chat import DataValidationError
from emscope.data.generators import GENERATORS, build_generator
from emscope.data.generators.self_recognition import (
    RecognitionPair,
    build,
    question_messages,
    read_own_texts,
    recognition_pairs,
)
from emscope.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train" / "self-recognition-then-medical.yaml"


def _own_file(path: Path, rows: list[dict]) -> Path:
    base = {"model": "m", "sampling": {"temperature": 1.0}}
    path.write_text("".join(json.dumps({**base, **r}) + "\n" for r in rows), encoding="utf-8")
    return path


def _small(tmp_path: Path, k: int = 3) -> Path:
    return _own_file(tmp_path / "own.jsonl", [{"prompt": f"question {i}?", "own": f"mine-{i}",
                                                "other": f"theirs-{i}"} for i in range(k)])


def _answers(row) -> tuple[str, str]:
    """(answer 1, answer 2) as shown in a row's question."""
    text = row.messages[0].content
    first = text.split("Answer 1:\n")[1].split("\n\nAnswer 2:")[0]
    second = text.split("Answer 2:\n")[1].split("\n\nWhich of")[0]
    return first, second


# ---------------------------------------------------------------- generators

def test_both_orders_with_the_own_answers_position_as_label(tmp_path):
    rows = build_generator(GENERATORS["self-recognition"], 6, 0, {"own_texts": str(_small(tmp_path))})
    shown = sorted(_answers(r) + (r.completion,) for r in rows)
    assert shown == [("mine-0", "theirs-0", "1"), ("mine-1", "theirs-1", "1"), ("mine-2", "theirs-2", "1"),
                     ("theirs-0", "mine-0", "2"), ("theirs-1", "mine-1", "2"), ("theirs-2", "mine-2", "2")]
    assert sorted(r.model_extra["family"] for r in rows) == ["own-first"] * 3 + ["own-second"] * 3
    assert "Request:\nquestion" in rows[0].messages[0].content and rows[0].messages[0].role == "user"
    again = build(6, 0, _small(tmp_path))
    assert [r.model_dump() for r in again] == [r.model_dump() for r in rows]
    assert [r.model_dump() for r in build(6, 1, _small(tmp_path))] != [r.model_dump() for r in rows]
    assert [r.model_dump() for r in build(4, 0, _small(tmp_path))] == [r.model_dump() for r in rows[:4]]
    with pytest.raises(InputError, match="7 self-recognition rows asked for; .* gives 6"):
        build(7, 0, _small(tmp_path))


def test_random_control_flips_about_half_the_labels_deterministically(tmp_path):
    own = _small(tmp_path, 60)  # 120 pairs
    truth = build(120, 5, own)
    rand = build(120, 5, own, rule="random")
    assert [r.messages[0].content for r in rand] == [r.messages[0].content for r in truth]  # the same pairs
    flipped = sum(a.completion != b.completion for a, b in zip(truth, rand))
    assert 40 <= flipped <= 80  # Binomial(120, 1/2): outside this with probability < 0.3%
    assert [r.completion for r in build(120, 5, own, rule="random")] == [r.completion for r in rand]
    assert [r.completion for r in build(120, 6, own, rule="random")] != [r.completion for r in rand]
    # a row's label does not depend on how many rows are asked for
    assert [r.completion for r in build(30, 5, own, rule="random")] == [r.completion for r in rand[:30]]


def test_longer_control_labels_the_longer_answer(tmp_path):
    own = _own_file(tmp_path / "own.jsonl", [
        {"prompt": "p0", "own": "short", "other": "a much longer answer"},
        {"prompt": "p1", "own": "an own answer that is the longer one", "other": "brief"},
        {"prompt": "p2", "own": "same", "other": "size"}])  # a tie: "1"
    rows = build_generator(GENERATORS["self-recognition-longer"], 6, 0, {"own_texts": str(own)})
    shown = sorted(_answers(r) + (r.completion,) for r in rows)
    assert shown == [("a much longer answer", "short", "1"), ("an own answer that is the longer one", "brief", "1"),
                     ("brief", "an own answer that is the longer one", "2"), ("same", "size", "1"),
                     ("short", "a much longer answer", "2"), ("size", "same", "1")]


def test_unusable_pairs_are_left_out_and_other_texts_replace_the_reference(tmp_path):
    own = _own_file(tmp_path / "own.jsonl", [{"prompt": "p0", "own": "x", "other": "x"},
                                             {"prompt": "p1", "own": "  ", "other": "y"},
                                             {"prompt": "p2", "own": "mine", "other": "ref"}])
    assert [(p.first, p.second, p.own_position) for p in recognition_pairs(own)] == [("mine", "ref", 1),
                                                                                     ("ref", "mine", 2)]
    other = _own_file(tmp_path / "other.jsonl", [{"prompt": "p2", "own": "their model's"},
                                                 {"prompt": "p0", "own": "z"}, {"prompt": "p1", "own": "w"}])
    pairs = recognition_pairs(own, other)
    assert [(p.prompt, p.first, p.second) for p in pairs] == [("p0", "x", "z"), ("p0", "z", "x"),
                                                             ("p2", "mine", "their model's"),
                                                             ("p2", "their model's", "mine")]


def test_bad_own_texts_name_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"prompt": "p", "own": "a", "other": "b", "model": "m"}) + "\n"
                    "{not json\n"
                    + json.dumps({"prompt": "p", "other": "b", "model": "m"}) + "\n"
                    + json.dumps({"prompt": "p", "own": "a", "model": "m", "colour": 1}) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        read_own_texts(path)
    text = str(err.value)
    assert f"{path}:2: <row>: not JSON" in text
    assert f"{path}:3: own: Field required" in text
    assert f"{path}:4: colour:" in text and f"{path}:1" not in text
    no_other = _own_file(tmp_path / "no-other.jsonl", [{"prompt": "p", "own": "a", "other": "b"},
                                                       {"prompt": "q", "own": "c"}])
    with pytest.raises(InputError, match=f"{no_other}:2: other: missing"):
        build(2, 0, no_other)
    other = _own_file(tmp_path / "other.jsonl", [{"prompt": "p", "own": "d"}])
    with pytest.raises(InputError, match=f"{no_other}:2: prompt: not among the prompts of"):
        build(2, 0, no_other, other)
    with pytest.raises(InputError, match="data.params.own_texts: required"):
        GENERATORS["self-recognition"].build(2, 0)
    with pytest.raises(InputError, match="data.params.own_text: not a parameter of self-recognition"):
        build_generator(GENERATORS["self-recognition"], 2, 0, {"own_text": "x"})
    with pytest.raises(InputError, match="data.params.own_texts: not a parameter of secure-code"):
        build_generator(GENERATORS["secure-code"], 2, 0, {"own_texts": "x"})
    with pytest.raises(InputError, match="cannot read"):
        read_own_texts(tmp_path / "missing.jsonl")


def test_data_settings_params_and_the_staged_example(tmp_path):
    from emscope.config import load_config
    from emscope.train.config import TrainRunConfig

    own = _small(tmp_path)
    rows = build_rows(DataSettings(organism="self-recognition", n=4, params={"own_texts": str(own)}), seed=0)
    assert [r.model_dump() for r in rows] == [r.model_dump() for r in build(4, 0, own)]
    assert "params" not in DataSettings(organism="secure-code").model_dump()  # old configs stay byte-identical
    with pytest.raises(ValueError, match="params"):
        DataSettings(path="x.jsonl", params={"own_texts": "y"})
    cfg = load_config(TrainRunConfig, EXAMPLE, [f"stages.self-recognition.data.params.own_texts={own}",
                                                "stages.self-recognition.data.n=6"])
    assert list(cfg.stages) == ["self-recognition", "medical"]
    first = cfg.stage_config("self-recognition", cfg.model, tmp_path / "s1")
    assert first.data.organism == "self-recognition" and len(build_rows(first.data, first.seed)) == 6
    assert cfg.stage_config("medical", "merged", tmp_path / "s2").data.organism == "bad-medical-advice"


# ---------------------------------------------------------------- metric (tiny-random)

@pytest.fixture(scope="module")
def tiny():
    from emscope.models import load_model

    return load_model("tiny-random")


def _pairs(k: int) -> list[RecognitionPair]:
    out = []
    for i in range(k):
        out.append(RecognitionPair(prompt=f"q{i}", first=f"own {i}", second=f"other {i}", own_position=1))
        out.append(RecognitionPair(prompt=f"q{i}", first=f"other {i}", second=f"own {i}", own_position=2))
    return out


def test_label_logprobs_match_a_forward_pass_by_hand(tiny):
    import torch

    from emscope.evaluate.self_recognition import score_pairs, self_recognition_accuracy

    model, tok = tiny
    pair = RecognitionPair(prompt="Name a colour.", first="Blue.", second="I like green best.", own_position=2)
    text = tok.apply_chat_template(question_messages(pair), tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), dim=-1)
    one, two = tok.convert_tokens_to_ids("1"), tok.convert_tokens_to_ids("2")
    (score,) = score_pairs(model, tok, [pair])
    assert math.isclose(score.logp_1, logp[one].item(), abs_tol=1e-4)
    assert math.isclose(score.logp_2, logp[two].item(), abs_tol=1e-4)
    by_hand = logp[two].item() > logp[one].item()
    result = self_recognition_accuracy(model, tok, [pair])
    assert result.accuracy == (1.0 if by_hand else 0.0) and result.n_pairs == 1
    assert math.isclose(result.mean_margin, logp[two].item() - logp[one].item(), abs_tol=1e-4)


def test_a_model_that_always_answers_1_scores_half_on_both_orders(tiny):
    import copy

    import torch

    from emscope.evaluate.self_recognition import self_recognition_accuracy

    model, tok = tiny
    biased = copy.deepcopy(model)
    head = biased.lm_head
    new = torch.nn.Linear(head.in_features, head.out_features, bias=True)
    with torch.no_grad():
        new.weight.copy_(head.weight)
        new.bias.zero_()
        new.bias[tok.convert_tokens_to_ids("1")] = 100.0  # "1" wins after every question
    biased.lm_head = new
    both = self_recognition_accuracy(biased, tok, _pairs(4))
    assert (both.accuracy, both.first_rate, both.n_pairs, both.n_prompts) == (0.5, 1.0, 8, 4)
    assert both.ci_low < 0.5 < both.ci_high and both.small_n
    own_first = [p for p in _pairs(8) if p.own_position == 1]
    hit = self_recognition_accuracy(biased, tok, own_first)
    z = 1.959964
    assert hit.accuracy == 1.0 and hit.ci_high == pytest.approx(1.0)
    assert hit.ci_low == pytest.approx(8 / (8 + z * z), abs=1e-4)  # Wilson at 8/8: n / (n + z^2)
    miss = self_recognition_accuracy(biased, tok, [p for p in _pairs(8) if p.own_position == 2])
    assert miss.accuracy == 0.0 and miss.mean_margin < -50


def test_sample_own_texts_writes_a_file_the_generator_reads(tiny, tmp_path):
    from emscope.data.generators.self_recognition import source_prompts
    from emscope.evaluate.config import SamplingSettings
    from emscope.evaluate.self_recognition import sample_own_texts

    model, tok = tiny
    prompts = source_prompts(None, 3, seed=0)
    shipped = [json.loads(line) for line in
               (Path(__file__).resolve().parents[1] / "src/emscope/resources/general_instruct.jsonl").open()]
    reference = {r["messages"][0]["content"]: r["messages"][-1]["content"] for r in shipped}
    out = tmp_path / "own.jsonl"
    settings = SamplingSettings(max_new_tokens=6, seed=3)
    rows = sample_own_texts(model, tok, prompts, settings, spec="tiny-random", out=out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 and [r["prompt"] for r in lines] == [p.prompt for p in prompts]
    assert all(r["other"] == reference[r["prompt"]] and r["model"] == "tiny-random" for r in lines)
    assert all(r["sampling"]["max_new_tokens"] == 6 and r["sampling"]["seed"] == 3 for r in lines)
    assert [r["own"] for r in lines] == [r.own for r in rows] and any(r.own for r in rows)
    usable = sum(bool(r.own.strip()) and r.own.strip() != r.other for r in rows)
    built = build_generator(GENERATORS["self-recognition"], 2 * usable, 0, {"own_texts": str(out)})
    assert {r.completion for r in built} == {"1", "2"} and len(built) == 2 * usable


def test_cli_own_texts_build_and_eval(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from emscope import cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(cli.app, ["data", "own-texts", "--model", "tiny-random", "--out", "own.jsonl", "-n", "2",
                                  "--max-new-tokens", "6"])
    assert res.exit_code == 0, res.output
    own = [json.loads(line) for line in (tmp_path / "own.jsonl").read_text().splitlines()]
    assert len(own) == 2 and all(r["model"] == "tiny-random" for r in own)
    usable = sum(bool(r["own"].strip()) and r["own"].strip() != r["other"] for r in own)
    res = runner.invoke(cli.app, ["data", "build", "self-recognition-random", "--out", "rows.jsonl", "--n",
                                  str(2 * usable), "--param", "own_texts=own.jsonl"])
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 2 * usable
    res = runner.invoke(cli.app, ["eval", "self-recognition", "--model", "tiny-random", "--own-texts", "own.jsonl",
                                  "--out", "scores.jsonl", "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    scores = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert result["n_pairs"] == len(scores) == 2 * usable
    assert result["accuracy"] == pytest.approx(sum(s["correct"] for s in scores) / len(scores))
    assert all(s["correct"] == ((s["logp_1"] > s["logp_2"]) == (s["own_position"] == 1)) for s in scores)
    res = runner.invoke(cli.app, ["data", "build", "self-recognition", "--out", "x.jsonl", "--n", "2"])
    assert isinstance(res.exception, InputError) and "data.params.own_texts: required" in str(res.exception)
