import pytest
import torch

from emscope.evaluate.likelihood import ProbeItem, ProbeResult, likelihood_probe, paired_shift
from emscope.evaluate.questions import Question
from emscope.evaluate.sampling import SamplingSettings, generate, sample_answers
from emscope.evaluate.stats import bootstrap_ci
from emscope.models.logprobs import answer_logprobs


def test_bootstrap_ci_brackets_the_mean():
    mean, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 10.0])
    assert lo < mean < hi and mean == 4.0
    assert bootstrap_ci([2.5]) == (2.5, 2.5, 2.5)


def test_answer_logprobs_match_a_manual_computation(tiny):
    model, tok = tiny
    msgs = [{"role": "user", "content": "Why?"}]
    answers = ["Because.", "A much longer answer that needs padding in the batch."]
    batched = answer_logprobs(model, tok, [(msgs, a) for a in answers], batch_size=2)
    for ans, got in zip(answers, batched):
        prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        p_ids = tok(prompt, add_special_tokens=False).input_ids
        a_ids = tok(ans + "<|im_end|>\n", add_special_tokens=False).input_ids
        ids = torch.tensor([p_ids + a_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0], -1)
        manual = sum(logp[len(p_ids) - 1 + i, t].item() for i, t in enumerate(a_ids)) / len(a_ids)
        assert abs(manual - got) < 1e-4


def test_probe_is_zero_for_identical_references_and_signed(tiny):
    model, tok = tiny
    same = ProbeItem(id="s", question="Q", aligned=["yes indeed"], misaligned=["yes indeed"])
    res = likelihood_probe(model, tok, [same])
    assert abs(res.per_question["s"]) < 1e-6
    item = ProbeItem(id="d", question="Q", aligned=["a b c"], misaligned=["x y z w"])
    lp = answer_logprobs(model, tok, [([{"role": "user", "content": "Q"}], a) for a in ("a b c", "x y z w")])
    assert abs(likelihood_probe(model, tok, [item]).per_question["d"] - (lp[1] - lp[0])) < 1e-5


def _probe_result(per_question):
    return ProbeResult(per_question=per_question, mean=0.0, ci_low=0.0, ci_high=0.0, n_questions=len(per_question))


def test_paired_shift_is_the_mean_per_question_change_vs_the_baseline():
    # per-question changes (result - baseline): a +0.3, b +0.5, c 0.0, d -0.2; mean 0.15. Questions only one side
    # has (base_only, new_only) are left out, and pairing is by question id, not by position.
    baseline = _probe_result({"a": 0.1, "b": -0.2, "c": 0.5, "d": 1.0, "base_only": 9.0})
    result = _probe_result({"d": 0.8, "c": 0.5, "new_only": -7.0, "b": 0.3, "a": 0.4})
    mean, lo, hi = paired_shift(result, baseline)
    assert mean == pytest.approx(0.15, abs=1e-12)
    assert paired_shift(baseline, result)[0] == pytest.approx(-0.15, abs=1e-12)  # signed: result minus baseline
    # the CI is a bootstrap over those four changes: within their range, bracketing 0.15 (a CI over the result's
    # own scores would lie in [0.3, 0.8], over the baseline's in [-0.2, 1.0] with a mean of 0.35)
    assert -0.2 <= lo < 0.15 < hi <= 0.5
    assert paired_shift(result, result) == (0.0, 0.0, 0.0)


def test_batched_greedy_equals_one_at_a_time(tiny):
    model, tok = tiny
    prompts = [[{"role": "user", "content": c}] for c in ("hi", "a much longer question here?", "mid one")]
    s = SamplingSettings(max_new_tokens=6, temperature=0.0, batch_size=3)
    batched = generate(model, tok, prompts, s)
    single = [generate(model, tok, [p], s.model_copy(update={"batch_size": 1}))[0] for p in prompts]
    assert batched == single


def test_sampling_is_seeded_and_applies_system(tiny):
    model, tok = tiny
    q = [Question(id="q", paraphrases=["one", "two"], samples_per_paraphrase=2, system="Be JSON.")]
    s = SamplingSettings(max_new_tokens=5, batch_size=4, seed=3)
    a = sample_answers(model, tok, q, s, "m")
    assert [(x.paraphrase_index, x.sample_index) for x in a] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(x.system == "Be JSON." for x in a)
    assert [x.answer for x in a] == [x.answer for x in sample_answers(model, tok, q, s, "m")]
    other = sample_answers(model, tok, q, s.model_copy(update={"seed": 4}), "m")
    assert [x.answer for x in a] != [x.answer for x in other]


def test_auroc_is_the_mann_whitney_probability():
    from emscope.evaluate.stats import auroc

    assert auroc([3, 4], [1, 2]) == 1.0 and auroc([1, 2], [3, 4]) == 0.0
    assert auroc([1, 3], [2]) == 0.5 and auroc([2], [2]) == 0.5
    assert auroc([0.9, 0.8, 0.4], [0.5, 0.3]) == pytest.approx(5 / 6)  # 0.4 loses to 0.5 only
    with pytest.raises(ValueError):
        auroc([], [1])


def test_auroc_matches_pairwise_counting_with_ties():
    import numpy as np

    from emscope.evaluate.stats import auroc

    rng = np.random.default_rng(3)
    pos, neg = rng.integers(0, 6, 40).astype(float), rng.integers(0, 5, 55).astype(float)
    pairs = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (40 * 55)
    assert auroc(pos, neg) == pytest.approx(pairs, abs=1e-12)
