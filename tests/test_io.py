import json
import os

import pytest

from emscope.io import append_jsonl, atomic_dir, read_jsonl, write_json_atomic, write_text_atomic


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "a" / "f.json"
    write_json_atomic(p, {"x": 1})
    write_json_atomic(p, {"x": 2})
    assert json.loads(p.read_text()) == {"x": 2}
    assert os.listdir(p.parent) == ["f.json"]


def test_atomic_write_failure_keeps_old_content(tmp_path, monkeypatch):
    p = tmp_path / "f.txt"
    write_text_atomic(p, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(p, "new")
    monkeypatch.undo()
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_dir_commits_only_on_success(tmp_path):
    target = tmp_path / "adapter"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "w").write_text("half")
            raise RuntimeError("crash")
    assert not target.exists() and os.listdir(tmp_path) == []
    with atomic_dir(target) as tmp:
        (tmp / "w").write_text("full")
    assert (target / "w").read_text() == "full"


def test_read_jsonl_ignores_torn_last_line(tmp_path):
    p = tmp_path / "log.jsonl"
    append_jsonl(p, {"step": 1})
    append_jsonl(p, {"step": 2})
    with open(p, "a") as f:
        f.write('{"step": 3, "lo')
    assert [r["step"] for r in read_jsonl(p)] == [1, 2]


def test_append_after_a_torn_line_drops_it(tmp_path):
    p = tmp_path / "log.jsonl"
    append_jsonl(p, {"a": 1})
    with open(p, "a") as f:
        f.write('{"b": 2, "tor')  # a crash mid-write
    append_jsonl(p, {"c": 3})
    assert read_jsonl(p) == [{"a": 1}, {"c": 3}]
    q = tmp_path / "only-torn.jsonl"
    q.write_text('{"x": ' + "9" * 70000)  # longer than one read-back chunk, no newline at all
    append_jsonl(q, {"d": 4})
    assert read_jsonl(q) == [{"d": 4}]


def test_umask_reads_without_changing_and_sets_file_modes(tmp_path):
    from emscope.io import umask

    old = os.umask(0o027)
    try:
        assert umask() == 0o027 and umask() == 0o027  # reading it leaves it in place
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "w").write_text("x")
        assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750  # what a plain mkdir would give
    finally:
        os.umask(old)
