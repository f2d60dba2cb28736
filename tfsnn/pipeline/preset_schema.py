"""A preset checked against its schema (workflow/schemas/config.schema.yaml) with one-line errors.

Snakemake's ``validate`` prints the whole config and schema on an error; :func:`check` fails first, in
one line: an unknown key with the allowed key closest to it (did-you-mean), or a wrong value with its
path. It also reads ``--config`` values as YAML users write them: Snakemake parses ``--config
gpu=true`` or ``--config 'resources={train: {mem_mb: 900}}'`` into strings, and :func:`coerce` turns a
string into the boolean or number the schema asks for (true/false/yes/no/on/off, any case).
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import TfsnnError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"
SCHEMA = SCHEMA_DIR / "config.schema.yaml"
BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
INTEGER = re.compile(r"[-+]?[0-9]+")


class PresetError(TfsnnError):
    pass


@lru_cache(maxsize=None)
def _document(name: str) -> dict:
    return yaml.safe_load((SCHEMA_DIR / name).read_text())


def _resolve(node: dict, doc: str) -> tuple[dict, str]:
    """``node`` with its ``$ref`` followed (``#/$defs/x``, ``file.yaml``, ``file.yaml#/properties/x``)."""
    while isinstance(node, dict) and "$ref" in node:
        target, _, pointer = node["$ref"].partition("#")
        doc = target or doc
        node = _document(doc)
        for part in filter(None, pointer.split("/")):
            node = node[part]
    return node, doc


def _types(node: dict) -> set[str]:
    t = node.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _coerce_scalar(value: str, types: set[str]) -> Any:
    if "string" in types:
        return value
    low = value.strip().lower()
    if "boolean" in types and low in BOOLEANS:
        return BOOLEANS[low]
    if types & {"integer", "number"} and INTEGER.fullmatch(value.strip()):
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "null" in types and low in ("null", "~"):
        return None
    return value


def coerce(value: Any, node: dict | None = None, doc: str = SCHEMA.name) -> Any:
    """``value`` with strings turned into the booleans and numbers the schema asks for (dicts and lists
    are changed in place)."""
    if node is None:
        node = _document(doc)
    node, doc = _resolve(node, doc)
    if isinstance(value, str):
        return _coerce_scalar(value, _types(node))
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key in value:
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = coerce(value[key], sub, doc)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        value[:] = [coerce(v, node["items"], doc) for v in value]
    return value


def _nested_keys(props: dict, doc: str) -> dict[str, str]:
    """Keys one level down (``child -> parent``): a key put one level too high is found there."""
    out: dict[str, str] = {}
    for parent, sub in props.items():
        node, _ = _resolve(sub, doc)
        for child in node.get("properties", {}) if isinstance(node, dict) else ():
            out.setdefault(child, parent)
    return out


def unknown_key(value: Any, node: dict | None = None, doc: str = SCHEMA.name, path: tuple = ()) -> str | None:
    """The first key the schema does not allow, as one sentence with the closest allowed key; or None."""
    if node is None:
        node = _document(doc)
    node, doc = _resolve(node, doc)
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, v in enumerate(value):
            found = unknown_key(v, node["items"], doc, path + (str(i),))
            if found:
                return found
    if not isinstance(value, dict):
        return None
    props = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for key, v in value.items():
        if key in props:
            sub = props[key]
        elif isinstance(extra, dict):
            sub = extra
        elif extra is False and props:
            return _unknown(str(key), props, doc, path)
        else:
            continue
        found = unknown_key(v, sub, doc, path + (str(key),))
        if found:
            return found
    return None


def _unknown(key: str, props: dict, doc: str, path: tuple) -> str:
    where = f"in {'.'.join(path)}" if path else "at the top level of the preset"
    close = difflib.get_close_matches(key, list(props), n=1)
    if close:
        hint = f"did you mean '{close[0]}'?"
    else:
        nested = _nested_keys(props, doc)
        deeper = difflib.get_close_matches(key, list(nested), n=1)
        if deeper:
            hint = f"did you mean '{deeper[0]}' under '{nested[deeper[0]]}'?"
        else:
            hint = f"allowed keys: {', '.join(props)}"
    return f"'{key}' was unexpected {where}; {hint}"


def check(config: dict) -> dict:
    """``config`` coerced, checked and given the schema's defaults (in place); :class:`PresetError` in one
    line naming the key or value otherwise."""
    coerce(config)
    found = unknown_key(config)
    if found:
        raise PresetError(found)
    import jsonschema
    from snakemake.utils import validate

    try:
        validate(config, str(SCHEMA))
    except Exception as e:   # snakemake's WorkflowError wraps the jsonschema error; its text has the schema
        err = e
        while err is not None and not isinstance(err, jsonschema.ValidationError):
            err = err.__cause__ or err.__context__
        if err is None:
            raise PresetError(str(e).strip().splitlines()[0]) from None
        where = ".".join(map(str, err.absolute_path)) or "the preset"
        raise PresetError(f"{where}: {err.message}") from None
    return config
