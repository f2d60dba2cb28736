"""Run settings are declared once (RunConfig): the config schema's part for them is generated from it, and
every preset key's default lives in config.schema.yaml."""
import dataclasses
from pathlib import Path

import jsonschema
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from tfsnn.config import RunConfig, RunConfigError
from tfsnn.settings_schema import COMMAND, PATH, render, settings_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())


def test_settings_schema_file_is_what_runconfig_generates():
    ok = PATH.read_text() == render()
    assert ok, f"{PATH.relative_to(ROOT)} differs from what tfsnn.config.RunConfig generates; run `{COMMAND}`"


def test_config_schema_takes_the_settings_from_the_generated_file():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema["$defs"]["settings"] == {"$ref": PATH.name}


def test_every_top_level_key_is_required_or_has_its_default_in_the_schema():
    schema = yaml.safe_load(SCHEMA.read_text())
    optional = [k for k in schema["properties"] if k not in schema["required"]]
    assert [k for k in optional if "default" not in schema["properties"][k]] == []


@pytest.mark.parametrize("preset", ["config", "mini", "paper"])
def test_presets_validate_and_get_every_default(preset):
    cfg = _preset(preset)
    validate(cfg, str(SCHEMA))
    schema = yaml.safe_load(SCHEMA.read_text())
    assert set(schema["properties"]) <= set(cfg), "validate fills every default in"


@pytest.mark.parametrize("where, key, value, says", [
    (("run_defaults",), "lrr", 0.1, "'lrr' was unexpected"),
    (("run_defaults",), "method", "tet", "'tet' is not one of"),
    (("run_defaults",), "t_max", 0, "0 is less than the minimum of 1"),
    (("experiments", "comparison", "settings"), "arch", "resnet99", "'resnet99' is not one of"),
    (("experiments", "comparison", "settings"), "dataset", "cifar11", "'cifar11' is not one of"),
])
def test_a_bad_setting_fails_validation_naming_its_key(where, key, value, says):
    cfg = _preset("config")
    block = cfg
    for k in where:
        block = block.setdefault(k, {})
    block[key] = value
    with pytest.raises(WorkflowError) as e:
        validate(cfg, str(SCHEMA))
    assert says in str(e.value)
    assert key in str(e.value)


def _outside(f: dataclasses.Field):
    """A value just outside what the field declares, or None if it declares nothing."""
    m = f.metadata
    if "choices" in m:
        return "no-such-choice"
    if "minimum" in m:
        return m["minimum"] - 1
    if "exclusive_minimum" in m:
        return m["exclusive_minimum"]
    if "maximum" in m:
        return m["maximum"] + 1
    if "item_minimum" in m:
        return [m["item_minimum"] - 1]
    return None


@pytest.mark.parametrize("f", [f for f in dataclasses.fields(RunConfig) if _outside(f) is not None],
                         ids=lambda f: f.name)
def test_schema_and_validate_reject_the_same_values(f):
    """One declaration, two checks: the schema (at snakemake's start) and RunConfig.validate (every run).
    A registry's names (architectures, datasets, frame splits) are checked where the registry is used."""
    bad = {f.name: _outside(f)}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, settings_schema())
    if callable(f.metadata.get("choices")):
        return
    with pytest.raises(RunConfigError, match=f.name):
        RunConfig.from_dict(bad)


def test_defaults_validate_against_the_schema():
    jsonschema.validate(RunConfig().to_dict(), settings_schema())


def test_train_help_lists_the_registries(capsys):
    import re

    from tfsnn.cli import main
    from tfsnn.data import DATASETS
    from tfsnn.models import ARCHS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    words = set(re.findall(r"\w+", capsys.readouterr().out))
    assert [name for name in [*ARCHS, *DATASETS] if name not in words] == []


def test_a_dataset_role_names_a_registered_dataset():
    cfg = _preset("config")
    next(iter(cfg["datasets"].values()))["name"] = "cifar11"
    with pytest.raises(WorkflowError, match="'cifar11' is not one of"):
        validate(cfg, str(SCHEMA))
