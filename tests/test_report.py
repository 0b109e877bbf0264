import re

from emscope.evaluate.likelihood import ProbeResult
from emscope.io import write_jsonl_atomic
from emscope.report import render_report
from emscope.rundir import update_summary

PAYLOADS = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(2)>"]


def _fake_run(root, label, scores, answers, train=True):
    d = root / label
    probe = ProbeResult(per_question=scores, mean=sum(scores.values()) / len(scores), ci_low=-1, ci_high=1,
                        n_questions=len(scores))
    update_summary(d, "eval", {"label": label, "model": "tiny-random", "n_samples": len(answers),
                               "probe": probe.model_dump()})
    if train:
        update_summary(d, "train", {"steps": 3, "train_loss": 1.5})
        write_jsonl_atomic(d / "train_log.jsonl", [{"step": i, "loss": 2.0 - i / 10} for i in range(1, 4)])
    write_jsonl_atomic(d / "samples.jsonl", [
        {"model": label, "question_id": "q<1>", "paraphrase_index": 0, "sample_index": i, "system": None,
         "question": "What <b>now</b>?", "answer": a} for i, a in enumerate(answers)])


def test_report_escapes_every_model_string_and_has_no_script(tmp_path):
    _fake_run(tmp_path, "base", {"q<1>": 0.1, "q2": 0.2}, PAYLOADS, train=False)
    _fake_run(tmp_path, "insecure", {"q<1>": 0.5, "q2": 0.3}, ["fine & <i>dandy</i>"])
    path = render_report(tmp_path)
    html = path.read_text()
    for p in PAYLOADS + ["<i>dandy</i>", "<b>now</b>", "q<1>"]:
        assert p not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html.lower()
    assert "default-src 'none'" in html  # CSP: nothing executes even if a payload slipped through
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)
    assert "http://" not in html and "https://" not in html  # no CDN, works offline
    # the shift of insecure vs base is the mean per-question difference
    assert "+0.250" in html
