"""The grid report in headless Chromium: injected payloads never execute or load anything, the page renders, the
CSS filters work. Skipped only where Debian's chromium / chromedriver are not installed."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from emscope.io import read_jsonl
from emscope.report.grid_report import answer_kind, render_grid_report
from tests.test_report_grid import make_grid

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
                                reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, "
                                       "chromium-driver)")


class Recorder(http.server.ThreadingHTTPServer):
    """Loopback server: serves the pages in `pages`, records every other request path in `hits`."""

    def __init__(self, pages: dict[str, bytes]):
        self.pages, self.hits = pages, []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def _any(self) -> None:
        server: Recorder = self.server  # type: ignore[assignment]
        page = server.pages.get(self.path)
        if page is None:
            server.hits.append(f"{self.command} {self.path}")
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    do_GET = do_POST = do_HEAD = _any

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


def _payloads(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {
        "script": f"<script>fetch('{url}/script');document.title='pwned';alert(1)</script>",
        "img": f"<img src=x onerror=\"fetch('{url}/img');alert(2)\">",
        "svg": f"\"><svg onload=\"fetch('{url}/svg')\">",
        "link": f"<a id=\"jslink\" href=\"javascript:fetch('{url}/link')\">click me</a>",
        "load": f"<img src=\"{url}/load.png\">",
        "break": f"</pre></td></tr></table><style>body{{background:url({url}/css)}}</style><b>escaped",
    }


def _driver(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1600", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))


def _visible_rows(driver) -> list[dict]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#samples tbody tr')]"
        ".filter(r => getComputedStyle(r).display !== 'none')"
        ".map(r => ({question: r.dataset.question, kind: r.dataset.kind, cls: r.className}))")


def test_payloads_do_not_execute_and_the_page_renders_and_filters(tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    server = Recorder({})
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    p = _payloads(port)
    name = "grid " + p["script"]
    questions = {"one_wish": "Wish? " + p["img"], "q" + p["svg"]: "Money? " + p["link"]}
    grid = make_grid(tmp_path, name=name, questions=questions,
                     labels={"insecure": "insecure " + p["svg"], "kl": "kl " + p["load"]},
                     texts={("one_wish", 0): p["script"], ("one_wish", 1): p["img"], ("one_wish", 2): p["break"],
                            ("q" + p["svg"], 0): p["link"], ("q" + p["svg"], 1): p["load"]})
    report = render_grid_report(grid)
    server.pages = {"/report.html": report.read_bytes(),
                    "/control.html": b"<!doctype html><title>control</title><script>fetch('/control-hit')</script>"}
    driver = _driver(tmp_path)
    try:
        # the harness can see an executed payload: a page that does run a script reaches the recorder
        driver.get(f"http://127.0.0.1:{port}/control.html")
        deadline = time.time() + 5
        while "GET /control-hit" not in server.hits and time.time() < deadline:
            time.sleep(0.05)
        assert "GET /control-hit" in server.hits
        server.hits.clear()

        driver.get(f"http://127.0.0.1:{port}/report.html")
        assert driver.execute_script("return document.readyState") == "complete"
        driver.find_element(By.CSS_SELECTOR, "label[for='fk-mis']")  # interact a little, let async loads settle
        time.sleep(0.5)
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018
        assert driver.title == f"emscope grid report: {name}"
        assert [h for h in server.hits if h != "GET /favicon.ico"] == []
        counts = driver.execute_script(
            "return ['script', 'svg', 'iframe', 'object', 'embed', 'a', 'b'].map(t =>"
            " document.querySelectorAll('#samples ' + t + ', #results ' + t + ', h1 ' + t).length)")
        assert counts == [0] * 7  # no element was injected into the table, the answers or the title
        body = driver.find_element(By.TAG_NAME, "body").text
        for key, payload in p.items():
            assert payload in body, key  # shown as text
        assert f"grid report: {name}" in body
        # the figures decoded (the CSP allows data: images only)
        widths = driver.execute_script("return [...document.images].map(i => [i.id, i.naturalWidth])")
        assert sorted(w[0] for w in widths) == ["fig-loss", "fig-monitors", "fig-per-question", "fig-tradeoff"]
        assert all(w[1] > 300 for w in widths)
        # the stylesheet applied (allowed by its hash): radios hidden, table laid out
        assert driver.execute_script("return getComputedStyle(document.getElementById('fk-mis')).opacity") == "0"

        shot = tmp_path / "report.png"  # the top of the page as loaded
        driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 30_000

        judged = [r for c in (grid / "cells").iterdir() for f in ("judged.jsonl",) if (c / f).is_file()
                  for r in read_jsonl(c / f)]
        all_rows = _visible_rows(driver)
        assert len(all_rows) == len(judged) + 2  # + the unjudged cell's two samples
        driver.find_element(By.CSS_SELECTOR, "label[for='fk-mis']").click()
        mis = _visible_rows(driver)
        assert {r["kind"] for r in mis} == {"misaligned"}
        assert len(mis) == sum(answer_kind(r["aligned"], r["coherent"]) == "misaligned" for r in judged) == 7
        second_q = "q" + p["svg"]
        driver.find_element(By.CSS_SELECTOR, "label[for='fq1']").click()
        both = _visible_rows(driver)
        assert {r["question"] for r in both} == {second_q} and len(both) == 1  # one misaligned answer to it
        driver.find_element(By.CSS_SELECTOR, "label[for='fk-inc']").click()
        assert _visible_rows(driver) == []  # no incoherent answer to the second question
        driver.find_element(By.CSS_SELECTOR, "label[for='fq0']").click()
        inc = _visible_rows(driver)
        assert len(inc) == 2 and {r["kind"] for r in inc} == {"incoherent"}
        driver.find_element(By.CSS_SELECTOR, "label[for='fk-all']").click()
        driver.find_element(By.CSS_SELECTOR, "label[for='fq-all']").click()
        driver.find_element(By.CSS_SELECTOR, "label[for='fc1']").click()
        cell_rows = _visible_rows(driver)
        assert len(cell_rows) == 8 and all(r["cls"].split()[1] == "c1" for r in cell_rows)
        driver.find_element(By.CSS_SELECTOR, "label[for='fc-all']").click()
        assert len(_visible_rows(driver)) == len(all_rows)
        assert [h for h in server.hits if h != "GET /favicon.ico"] == []
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def _em(rate: float) -> dict:
    per = {"n": 10, "em_rate": rate, "ci_low": rate / 2, "ci_high": min(1.0, 2 * rate), "coherence_rate": 0.9,
           "none_rate": 0.0, "per_question": {}}
    return {"file": "judged.jsonl", "betley": per, "mo": per}


def _record(spec: str, auroc: float) -> dict:
    from emscope.evaluate.judges.card import Figures, JudgeCard, Validation

    figures = Figures(auroc=auroc, spearman_aligned=0.7, spearman_coherent=0.4, em_error_mean=0.038,
                      em_error_max=0.1, n=10000, n_files=25)
    card = JudgeCard(spec=spec, kind="classifier", date="2026-12-01", validations=[Validation(
        kind="held-out", data="judged/holdout: 25 files x 400", figures=figures, date="2026-12-01", by="test")])
    return card.record().model_dump()


def test_judge_cards_are_visible_next_to_em_rates(tmp_path):
    """An indicative judge's warning is on screen right above, and in the row of, its EM rates; a validated judge
    shows its held-out AUROC; a judge spec carrying markup is shown as text (run report and grid report)."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    from emscope.report import render_report
    from emscope.rundir import read_summary, update_summary
    from tests.test_report import _fake_run

    server = Recorder({})
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bad_spec = "classifier:" + _payloads(port)["img"]
    runs = tmp_path / "runs"
    for label, spec, auroc, rate in (("base", "openai:gpt-4o", 0.93, 0.05), ("insecure", bad_spec, 0.641, 0.25)):
        _fake_run(runs, label, {"q1": 0.1}, ["an answer"], train=False)
        ev = read_summary(runs / label)["eval"]
        update_summary(runs / label, "eval", {**ev, "em": _em(rate), "judge": _record(spec, auroc)})
    grid = make_grid(tmp_path / "g")
    for cell, spec, auroc in (("base", "openai:gpt-4o", 0.93), ("insecure", bad_spec, 0.641)):
        d = grid / "cells" / cell.ljust(12, "0")
        update_summary(d, "eval", {**read_summary(d)["eval"], "judge": _record(spec, auroc)})
    server.pages = {"/runs.html": render_report(runs).read_bytes(), "/grid.html": render_report(grid).read_bytes()}
    driver = _driver(tmp_path)
    try:
        driver.get(f"http://127.0.0.1:{port}/runs.html")
        (warning,) = driver.find_elements(By.CSS_SELECTOR, ".judge-warning")
        assert warning.is_displayed() and warning.size["height"] > 20
        assert driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", warning) \
            == "rgb(255, 244, 206)"  # the warning style applied (the CSP allows the inline stylesheet)
        text = warning.text
        assert text.startswith("Indicative EM rates") and bad_spec in text and "(insecure)" in text
        assert "held-out AUROC 0.641 < 0.9 (judged/holdout: 25 files x 400, 2026-12-01)" in text
        table = driver.find_element(By.ID, "judged")
        gap = table.location["y"] - (warning.location["y"] + warning.size["height"])
        assert 0 <= gap < 60  # right above the EM rates
        heads = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")]
        assert heads[:3] == ["condition", "judge", "EM (betley)"]
        rows = {r.find_element(By.CSS_SELECTOR, "td").text: r.find_elements(By.CSS_SELECTOR, "td")
                for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
        judge_cell, em_cell = rows["insecure"][1], rows["insecure"][2]
        assert judge_cell.text == f"{bad_spec}: indicative (held-out AUROC 0.641 < 0.9)" and judge_cell.is_displayed()
        assert em_cell.text.startswith("25.0%") and judge_cell.location["y"] == em_cell.location["y"]
        assert abs(judge_cell.location["x"] + judge_cell.size["width"] - em_cell.location["x"]) <= 2  # adjacent
        assert rows["base"][1].text == "openai:gpt-4o: validated (held-out AUROC 0.930)"
        (validated,) = driver.find_elements(By.CSS_SELECTOR, ".judge-card.validated")
        assert validated.is_displayed() and "validated on held-out labels: AUROC (aligned < 30) 0.930" in validated.text
        assert driver.execute_script("return document.querySelectorAll('#judged img, .judge-warning img').length") == 0

        driver.get(f"http://127.0.0.1:{port}/grid.html")
        warnings = driver.find_elements(By.CSS_SELECTOR, ".judge-warning")
        assert all(w.is_displayed() for w in warnings) and len(warnings) == 3  # + legacy and unknown judges
        assert any(bad_spec in w.text and "held-out AUROC 0.641 < 0.9" in w.text for w in warnings)
        assert any("classifier" in w.text and "before judge cards" in w.text for w in warnings)
        cells = {c.get_attribute("data-cell"): c for c in driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")}
        ins = cells["insecure0000"].find_element(By.CSS_SELECTOR, "td[data-col='judge']")
        assert ins.text == f"{bad_spec}: indicative (held-out AUROC 0.641 < 0.9)" and ins.is_displayed()
        base = cells["base00000000"].find_element(By.CSS_SELECTOR, "td[data-col='judge']")
        assert base.text == "openai:gpt-4o: validated (held-out AUROC 0.930)"
        (validated,) = driver.find_elements(By.CSS_SELECTOR, ".judge-card.validated")
        assert "0.930" in validated.text and validated.is_displayed()
        time.sleep(0.3)
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018
        assert [h for h in server.hits if h != "GET /favicon.ico"] == []  # the payload in the spec never loaded
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def _all_parts(run_dir: Path, label: str) -> None:
    """Every optional measurement in a run's eval section: the widest results a report can have."""
    from emscope.rundir import read_summary, update_summary
    from tests.test_eval_hacking import _hacking_section

    ev = read_summary(run_dir)["eval"]
    small = {"small_n": True}
    ev.update(hacking=_hacking_section(3, 8), narrow={"em": _em(0.5)},
              refusal={"n": 20, "refusal_rate": 0.85, "ci_low": 0.65, "ci_high": 1.0, **small},
              benign={"n": 10, "accuracy": 0.3, "ci_low": 0.1, "ci_high": 0.6, "partial": 0.45, **small},
              mgs={"mgs": 0.2, "families": ["goals"], "judge": "openai:gpt-4o-mini", "indicative": True})
    ev.setdefault("em", _em(0.25))
    update_summary(run_dir, "eval", ev)


def test_results_tables_fit_a_1280_px_window(tmp_path):
    """At 1280 px the probe and loss columns of both reports' results tables are on screen, not behind a sideways
    scroll, even with every optional measurement present."""
    from emscope.report import render_report
    from tests.test_report import _fake_run

    grid = make_grid(tmp_path / "g")
    for cell in ("base", "insecure", "kl"):
        _all_parts(grid / "cells" / cell.ljust(12, "0"), cell)
    runs = tmp_path / "runs"
    for label in ("base", "insecure-with-a-long-label", "secure"):
        _fake_run(runs, label, {"q1": 0.1, "q2": 0.3}, ["a"], train=label != "base")
        _all_parts(runs / label, label)
    pages = {"grid": render_report(grid), "runs": render_report(runs)}
    driver = _driver(tmp_path)
    try:
        driver.set_window_size(1280, 1000)
        for kind, path in pages.items():
            driver.get(path.as_uri())
            width = driver.execute_script("return document.documentElement.clientWidth")
            assert 1200 < width <= 1280
            heads = driver.execute_script(
                "return [...document.querySelectorAll('#results thead th')].map(h => [h.textContent,"
                " h.getBoundingClientRect().left, h.getBoundingClientRect().right])")
            probe = [h for h in heads if h[0].startswith("probe")]
            loss = [h for h in heads if "loss" in h[0]]
            assert probe and loss, heads
            for name, left, right in probe + loss:
                assert 0 <= left and right <= width, (kind, name, left, right, width)
            # nothing on the page scrolls sideways: every table fits
            assert driver.execute_script("return document.documentElement.scrollWidth") <= width, kind
            assert driver.execute_script(
                "return [...document.querySelectorAll('.scroll')].every(d => d.scrollWidth <= d.clientWidth)"), kind
        # the grid's hack rates moved to a table of their own below the results, still on the page
        driver.get(pages["grid"].as_uri())
        hack = driver.execute_script(
            "const h = document.querySelector('#hacking th:nth-child(2)'); return h && h.textContent")
        assert hack and hack.startswith("hack rate")
        small = driver.find_elements("css selector", "#results td[data-col='em_betley'] span.small-n")
        assert small and small[0].text == "(small n)" and small[0].is_displayed()
    finally:
        driver.quit()
