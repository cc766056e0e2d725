"""The one reader of params YAML files: a loader that keeps dates as text and refuses
what a params file never needs.

Every params file (``kpitools pack``, ``packs --params``, ``kpis --params``, ``rules
--params``, a notebook's params) is read by :func:`read_params_file`: UTF-8 text, parsed
by a :class:`yaml.SafeLoader` that does not resolve timestamps (``2023-03-31`` stays text
until :func:`kpitools.calendar.parse_date` parses it) and refuses anchors and aliases,
duplicate keys, non-finite numbers, over-long integers and deep nesting. What the values
mean is checked by the params schema, :mod:`kpitools.params`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from kpitools.errors import ParameterError

MAX_DEPTH = 10  # params nest two levels (rules:); deeper is a mistake or an attack
MAX_INT_DIGITS = 18  # no parameter needs more; Python refuses past 4,300 with a traceback


class _Refused(yaml.YAMLError):
    """A YAML construct params files do not allow, at a place in the file."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _ParamsLoader(yaml.SafeLoader):
    """SafeLoader for params files: dates and timestamps stay strings, and what a
    params file never needs is refused (aliases and anchors, which also make alias
    bombs; duplicate keys, where the last one would silently win; non-finite numbers;
    over-long integers; deep nesting). Python tags are refused by SafeLoader itself."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(
                "anchors and aliases (&name, *name) are not allowed in a params file",
                event.start_mark,
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            # types-PyYAML says index is an int; PyYAML also passes None and a mapping's
            # key node (yaml/composer.py compose_mapping_node)
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _Refused(
                    f"duplicate key {key!r}: each key may appear once", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if sum(c.isdigit() for c in str(node.value)) > MAX_INT_DIGITS:
            raise _Refused(f"integer longer than {MAX_INT_DIGITS} digits", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Refused(f"{node.value} is not a finite number", node.start_mark)
        return value


_ParamsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ParamsLoader.add_constructor("tag:yaml.org,2002:int", _ParamsLoader.construct_yaml_int)
_ParamsLoader.add_constructor("tag:yaml.org,2002:float", _ParamsLoader.construct_yaml_float)


def load_yaml_text(text: str, *, where: str = "") -> object:
    """Parse params YAML text with the params loader (dates kept as text).

    Raises:
        ParameterError: not YAML, or a construct params files refuse (see
            ``_ParamsLoader``), in one line naming the line of the file.
    """
    try:
        return yaml.load(text, Loader=_ParamsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ParameterError(_yaml_problem(error), path=where or None) from None
    except RecursionError:
        raise ParameterError(f"nested deeper than {MAX_DEPTH} levels", path=where or None) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in one line: ``line N: what is wrong``."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = str(getattr(error, "problem", None) or error).replace("\n", " ")
    if "could not determine a constructor for the tag" in problem:
        tag = problem.rsplit(" ", 1)[-1]
        problem = (
            f"the tag {tag} is not allowed: a params file holds plain values, lists and mappings"
        )
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return (
        f"{where}{problem}" if isinstance(error, _Refused) else f"not valid YAML: {where}{problem}"
    )


def read_params_file(path: str | Path) -> object:
    """The one reader of params YAML files (``kpitools pack``, ``packs --params``,
    ``kpis --params``, ``rules --params``): UTF-8 text, through the params loader.

    Raises:
        ParameterError: unreadable, not UTF-8, not YAML or refused; one line.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParameterError(f"cannot read params file: {error.strerror}", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParameterError(
            f"not UTF-8 text (byte {error.start}); save the file as UTF-8", path=path
        ) from None
    return load_yaml_text(text, where=str(path))
