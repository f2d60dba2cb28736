"""The paper's targets, each declared once: name, caption, the runs it needs, its builder, its outputs.

A declaration is a *spec function* decorated with :func:`table` or :func:`figure`::

    @table("table9", "Table 9: VGG14 on CIFAR100", build=tables.table9, needs="vgg")
    def table9(plan):
        e = plan.exp("vgg")
        return {"ts": e["ts"], "groups": [plan.group("table9", e["dataset"], e, "MTT", method="mtt")]}

The spec function registers the training runs it needs with the plan (:meth:`Plan.group` returns a
typed :class:`~tfsnn.pipeline.plan.RunGroup`, which names its analyses and extra evaluations) and
returns the spec; the builder turns the spec's result files into a table or figure. From the
declaration follow the plan's runs, the rules' inputs and outputs, the ``tables``/``figures`` commands
and the report captions. ``needs`` names the preset's experiment block without which the target does
not exist in that preset.

The paper's targets are declared in :mod:`tfsnn.pipeline.paper`; a preset's ``target_modules`` key
names more modules to import (a project's own tables, without editing tfsnn).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import TfsnnError

KINDS = ("table", "figure")


@dataclass(frozen=True)
class Target:
    name: str
    kind: str                       # "table" or "figure"
    caption: str
    spec: Callable[[Any], dict]     # plan -> spec (registers the runs it needs)
    build: Callable                 # table: (spec, preset) -> Table; figure: (spec, plt, sns) -> (fig, runs, title)
    needs: str = "comparison"       # the preset's experiment block the target needs


TARGETS: dict[str, Target] = {}


def declare(kind: str, name: str, caption: str, build: Callable, needs: str = "comparison"):
    """Decorator: register the decorated spec function as target ``name``."""
    if kind not in KINDS:
        raise ValueError(f"a target is a table or a figure, not {kind!r}")

    def wrap(spec: Callable) -> Callable:
        if name in TARGETS and TARGETS[name].spec is not spec:
            raise ValueError(f"target {name!r} is declared twice ({TARGETS[name].spec.__module__} and "
                             f"{spec.__module__})")
        TARGETS[name] = Target(name, kind, caption, spec, build, needs)
        return spec

    return wrap


def table(name: str, caption: str, build: Callable, needs: str = "comparison"):
    return declare("table", name, caption, build, needs)


def figure(name: str, caption: str, build: Callable, needs: str = "comparison"):
    return declare("figure", name, caption, build, needs)


def load(modules: list[str] | tuple[str, ...] = ()) -> dict[str, Target]:
    """Every declared target: the paper's, and those of ``modules`` (a preset's ``target_modules``)."""
    from . import paper  # noqa: F401  (declares the paper's targets)

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise TfsnnError(f"target module {name!r} cannot be imported ({e}); put it on PYTHONPATH or remove "
                             f"it from target_modules") from None
    return TARGETS


def get(name: str, kind: str | None = None, modules: list[str] | tuple[str, ...] = ()) -> Target:
    targets = load(modules)
    found = targets.get(name)
    if found is None or (kind is not None and found.kind != kind):
        names = sorted(t.name for t in targets.values() if kind is None or t.kind == kind)
        raise TfsnnError(f"no {kind or 'target'} named {name!r}; choose one of {', '.join(names)}")
    return found
