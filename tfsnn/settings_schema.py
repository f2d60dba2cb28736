"""The config schema's run settings, generated from the fields of :class:`tfsnn.config.RunConfig`.

``python -m tfsnn schema --write`` writes ``workflow/schemas/settings.schema.yaml``, which
``config.schema.yaml`` references for ``run_defaults``, ``experiments.*.settings`` and ``role_settings``;
``tests/test_settings_schema.py`` fails while the file differs from what RunConfig generates.

A property's type comes from the field's annotation (``X | None`` is nullable), its ``enum`` from the
field's choices (a registry's names included: architectures, datasets), its bounds from the field's
``minimum``, ``exclusive_minimum``, ``maximum`` and ``item_minimum``. The properties carry no help text
(``python -m tfsnn train --help`` has it): a validation error prints the schema it failed against. Nor
any ``default``: snakemake's ``validate`` would write the defaults into every settings block, and an
experiment's filled-in defaults would then override the preset's ``run_defaults``.
"""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from .config import RunConfig, field_choices

PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "settings.schema.yaml"
COMMAND = "python -m tfsnn schema --write"

_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
_BOUNDS = {"minimum": "minimum", "exclusive_minimum": "exclusiveMinimum", "maximum": "maximum"}


def _property(f: dataclasses.Field, hint) -> dict:
    args = typing.get_args(hint)
    nullable = type(None) in args
    base = next(a for a in args if a is not type(None)) if nullable else hint
    kind = typing.get_origin(base) or base
    prop: dict = {}
    choices = field_choices(f)
    if choices is not None:
        prop["enum"] = [*choices, *([None] if nullable else [])]
    else:
        prop["type"] = [_TYPES[kind], "null"] if nullable else _TYPES[kind]
    if kind is list:
        prop["items"] = {"type": _TYPES[typing.get_args(base)[0]]}
        if "item_minimum" in f.metadata:
            prop["items"]["minimum"] = f.metadata["item_minimum"]
    prop.update({name: f.metadata[key] for key, name in _BOUNDS.items() if key in f.metadata})
    return prop


def settings_schema() -> dict:
    """The JSON schema of one block of run settings (every RunConfig field, none required)."""
    hints = typing.get_type_hints(RunConfig)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Run settings: RunConfig keys (python -m tfsnn train --help lists them), checked again by "
                       "tfsnn with a did-you-mean hint.",
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _property(f, hints[f.name]) for f in dataclasses.fields(RunConfig)},
    }


def render() -> str:
    """The schema file's text."""
    import yaml

    header = (f"# Generated from tfsnn.config.RunConfig by `{COMMAND}`: do not edit by hand;\n"
              "# change the RunConfig field and run the command. Each setting's help: python -m tfsnn train --help\n")
    return header + yaml.safe_dump(settings_schema(), sort_keys=False, width=110, default_flow_style=None)


def write(path: str | Path = PATH) -> Path:
    from .io import write_text

    write_text(path, render())
    return Path(path)
