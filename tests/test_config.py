"""The one YAML / pydantic error formatter (`FILE:LINE: YAML: problem`, `FILE:LINE: field: message`) in
`emscope.config`, through every loader that uses it."""

import pytest
import yaml
from pydantic import Field, ValidationError

from emscope.config import Strict, field_error, load_yaml, load_yaml_list, parse_config, yaml_error
from emscope.errors import InputError


class Entry(Strict):
    id: str
    n: int = Field(1, ge=1)


class Nested(Strict):
    name: str
    inner: Entry


def test_yaml_error_names_the_line_of_the_problem(tmp_path):
    text = "a: 1\nb: 2\nc: [unclosed\nd: 4\n"
    with pytest.raises(yaml.YAMLError) as info:
        yaml.safe_load(text)
    mark = info.value.problem_mark.line + 1
    assert mark > 2  # the parser notices only after line 2
    assert str(yaml_error("f.yaml", info.value)) == f"f.yaml:{mark}: YAML: {info.value.problem}"
    assert str(yaml_error("f.yaml", yaml.YAMLError("no position"))) == "f.yaml:?: YAML: no position"
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    for load in (load_yaml, lambda path: load_yaml_list(path, Entry, "entry")):
        with pytest.raises(InputError, match=rf"^{p}:{mark}: YAML: "):
            load(p)


def test_field_error_formats_first_or_every_pydantic_error():
    with pytest.raises(ValidationError) as info:
        Nested.model_validate({"inner": {"id": "x", "n": 0}, "extra": 1})
    assert len(info.value.errors()) == 3
    first = str(field_error("c.yaml", 7, info.value))
    assert first.count("\n") == 0 and first.startswith("c.yaml:7: ")
    every = str(field_error("c.yaml", lambda field: len(field), info.value, first_only=False)).splitlines()
    assert sorted(every) == sorted(["c.yaml:4: name: Field required",
                                    "c.yaml:7: inner.n: Input should be greater than or equal to 1",
                                    "c.yaml:5: extra: Extra inputs are not permitted"])
    with pytest.raises(ValidationError) as whole:
        Entry.model_validate("not a mapping")
    assert str(field_error("l.yaml", 3, whole.value)).startswith("l.yaml:3: <entry>: ")
    assert str(field_error("l.yaml", 3, whole.value, no_field="row")).startswith("l.yaml:3: row: ")


def test_loaders_give_file_line_field(tmp_path):
    p = tmp_path / "list.yaml"
    p.write_text("- id: a\n- id: b\n  n: 0\n")
    with pytest.raises(InputError, match=rf"^{p}:2: n: Input should be greater"):
        load_yaml_list(p, Entry, "entry")
    c = tmp_path / "c.yaml"
    c.write_text("name: x\ninner:\n  id: y\n  n: 0\n")
    with pytest.raises(InputError, match=rf"^{c}:4: inner\.n: Input should be greater"):
        parse_config(Nested, load_yaml(c), c)
    with pytest.raises(InputError, match=r"^<config>:\?: name: Field required"):
        parse_config(Nested, {"inner": {"id": "y"}})
