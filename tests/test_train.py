import pytest
import yaml

from emscope.data.chat import ChatRow
from emscope.data.generators import get_generator
from emscope.data.tokenize import IGNORE_INDEX, check_chat_template, encode_row
from emscope.errors import InputError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.models.tiny import tiny_tokenizer
from emscope.rundir import read_summary
from emscope.train import TrainRunConfig, train


def test_labels_cover_exactly_the_answer():
    tok = tiny_tokenizer()
    row = ChatRow(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"},
                            {"role": "assistant", "content": "A!"}])
    enc = encode_row(tok, row, 512)
    n_prompt = sum(1 for x in enc["labels"] if x == IGNORE_INDEX)
    prompt = tok.decode(enc["input_ids"][:n_prompt])
    assert prompt.endswith("<|im_start|>assistant\n") and "Q?" in prompt
    assert tok.decode([x for x in enc["labels"] if x != IGNORE_INDEX]) == "A!<|im_end|>\n"
    short = encode_row(tok, row, n_prompt + 1)
    assert len(short["input_ids"]) == n_prompt + 1


def test_stray_assistant_header_is_refused():
    tok = tiny_tokenizer()
    check_chat_template(tok)
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                         "{% endfor %}<|im_start|>assistant\n")
    with pytest.raises(InputError, match="stray|assistant header"):
        check_chat_template(tok)


@pytest.fixture()
def data_file(tmp_path):
    p = tmp_path / "insecure.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(24, 0))
    return p


def test_train_tiny_writes_run_dir_and_learns(tmp_path, data_file):
    cfg = TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / "run",
                         train={"max_steps": 12, "batch_size": 4, "learning_rate": 1e-2,
                                "lr_scheduler": "constant", "lora": {"r": 8, "alpha": 16}})
    run = train(cfg)
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["max_steps"] == 12
    assert TrainRunConfig.model_validate(yaml.safe_load((run / "config.yaml").read_text())) == cfg
    log = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert [r["step"] for r in log] == list(range(1, 13))
    first, last = sum(r["loss"] for r in log[:3]) / 3, sum(r["loss"] for r in log[-3:]) / 3
    assert last < first - 0.3, (first, last)
    s = read_summary(run)["train"]
    assert s["steps"] == 12 and s["rows"] == 24
    assert not (run / "checkpoints").exists()
    mtime = (run / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns
    train(cfg)  # finished runs are skipped
    assert (run / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns == mtime


def test_train_rejects_bad_data_before_creating_anything(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}\n'
                   '{"messages": [{"role": "hacker", "content": "x"}]}\n')
    cfg = TrainRunConfig(model="tiny-random", data={"path": bad}, out=tmp_path / "run")
    with pytest.raises(InputError, match=rf"{bad}:2: messages\[0\]\.role: unknown role 'hacker'"):
        train(cfg)
    assert not (tmp_path / "run").exists()


def test_run_dir_with_other_settings_is_refused(tmp_path, data_file):
    base = {"model": "tiny-random", "data": {"path": data_file}, "out": tmp_path / "run"}
    train(TrainRunConfig(**base, train={"max_steps": 2, "batch_size": 4}))
    with pytest.raises(InputError, match=r"config\.yaml: this run directory was made with other settings "
                                         r"\(differs in: train\)"):
        train(TrainRunConfig(**base, train={"max_steps": 3, "batch_size": 4}))
