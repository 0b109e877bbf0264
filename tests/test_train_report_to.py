"""`train.report_to` / `train.run_name`: passed to the Trainer; TensorBoard event files land in RUN_DIR/tb."""

import pytest
import yaml

from emscope.config import load_config
from emscope.data.generators import get_generator
from emscope.errors import EmscopeError, InputError
from emscope.io import read_jsonl, write_jsonl_atomic
from emscope.train import TrainRunConfig, train


@pytest.fixture()
def data_file(tmp_path):
    p = tmp_path / "insecure.jsonl"
    write_jsonl_atomic(p, get_generator("insecure-code").build(8, 0))
    return p


def test_tensorboard_event_files_hold_the_loss(tmp_path, data_file):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / "run",
                         train={"max_steps": 2, "batch_size": 4, "report_to": ["tensorboard"], "run_name": "tb-run",
                                "lora": {"r": 2, "alpha": 4}})
    run = train(cfg)
    saved = yaml.safe_load((run / "config.yaml").read_text())["train"]
    assert saved["report_to"] == ["tensorboard"] and saved["run_name"] == "tb-run"
    assert not (run / "checkpoints").exists() and list((run / "tb").glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(run / "tb")).Reload()
    events = acc.Scalars("train/loss")
    logged = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    assert [e.step for e in events] == [r["step"] for r in logged] == [1, 2]
    assert [e.value for e in events] == pytest.approx([r["loss"] for r in logged], rel=1e-5)
    assert "tb-run" in acc.Tensors("args/text_summary")[0].tensor_proto.string_val[0].decode()  # run_name reached


def test_unknown_integration_is_a_config_error(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("model: tiny-random\ndata:\n  path: d.jsonl\nout: run\ntrain:\n  report_to: [tensorbored]\n")
    with pytest.raises(InputError, match=r"report_to.*unknown integration 'tensorbored'; known: .*tensorboard.*wandb"):
        load_config(TrainRunConfig, path)


def test_unset_trackers_stay_out_of_config_yaml(tmp_path):
    base = {"data": {"path": "d.jsonl"}, "out": tmp_path / "run"}
    assert not {"report_to", "run_name"} & set(TrainRunConfig(**base).model_dump()["train"])  # old run dirs resume
    assert TrainRunConfig(**base, train={"report_to": ["none"]}).train.report_to == []


def test_missing_tracker_package_fails_before_any_work(tmp_path, data_file, monkeypatch):
    import emscope.train.reporting as reporting

    monkeypatch.setattr(reporting.importlib.util, "find_spec", lambda name: None)
    cfg = TrainRunConfig(model="tiny-random", data={"path": data_file}, out=tmp_path / "run",
                         train={"max_steps": 2, "report_to": ["wandb"]})
    with pytest.raises(EmscopeError, match=r"'wandb' needs the wandb package: pip install 'emscope\[wandb\]'"):
        train(cfg)
    assert not (tmp_path / "run").exists()
