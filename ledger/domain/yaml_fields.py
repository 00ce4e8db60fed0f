"""YAML files the finance team writes, read as text with line numbers.

Catalog and agreement files are YAML. Scalars are kept as the text that was
written (never YAML floats or octal numbers), every value knows its line, and
:class:`Fields` reads one mapping's keys, recording each problem with file,
line and field so a file is fixed in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ledger.domain.errors import LedgerError, ProblemCollector

_NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with the 1-based line it starts on; scalars keep their raw text."""

    value: object  # str | None | dict[str, Node] | list[Node]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_null(self) -> bool:
        return self.value is None

    def text(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


def _convert(node: yaml.Node) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL_TAG:
            return Node(None, line)
        return Node(str(node.value), line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item) for item in node.value], line)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in out:
                # A repeated key silently wins in YAML; here it is a problem.
                out[f"{key}\x00dup{key_node.start_mark.line}"] = _convert(value_node)
            out.setdefault(key, _convert(value_node))
            key_lines.setdefault(key, key_node.start_mark.line + 1)
        return Node(out, line, key_lines)
    return Node(None, line)


def load_yaml(text: str, filename: str, problems: ProblemCollector) -> Node | None:
    """Compose ``text`` into :class:`Node` values, or record a syntax problem and return None."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.add(filename, line, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if root is None:
        return Node({}, 1)
    return _convert(root)


class Fields:
    """Reads the keys of one YAML mapping, recording problems with file, line and field."""

    def __init__(
        self, node: Node, filename: str, problems: ProblemCollector, where: str, allowed: set[str]
    ) -> None:
        self.node = node
        self.filename = filename
        self.problems = problems
        self.where = where
        self.map: dict[str, Node] = node.value if isinstance(node.value, dict) else {}
        if not isinstance(node.value, dict):
            problems.add(filename, node.line, where, "expected a mapping of keys to values")
        for key, child in self.map.items():
            if "\x00dup" in key:
                self.problem(key.split("\x00")[0], "appears twice; keep one", child.line)
            elif key not in allowed:
                self.problem(
                    key, f"unknown key; expected one of {', '.join(sorted(allowed))}", child.line
                )

    def field_name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def problem(self, key: str | None, message: str, line: int | None = None) -> None:
        name = self.field_name(key) if key else self.where
        if line is None:
            line = self.map[key].line if key in self.map else self.node.line
        self.problems.add(self.filename, line, name or None, message)

    def has(self, key: str) -> bool:
        return key in self.map and not self.map[key].is_null

    def line(self, key: str) -> int:
        return self.map[key].line if key in self.map else self.node.line

    def text(self, key: str, *, required: bool = True) -> str | None:
        child = self.map.get(key)
        if child is None or child.is_null:
            if required:
                self.problem(None, f"'{key}' is missing")
            return None
        value = child.text()
        if value is None:
            self.problem(key, "expected a single value, not a list or mapping")
            return None
        value = value.strip()
        if not value and required:
            self.problem(key, "is empty")
            return None
        return value

    def seq(self, key: str, *, required: bool = False) -> list[Node]:
        child = self.map.get(key)
        if child is None or child.is_null:
            if required:
                self.problem(None, f"'{key}' is missing")
            return []
        if isinstance(child.value, list):
            return child.value
        return [child]  # a single value is a list of one

    def flag(self, key: str) -> bool:
        value = self.text(key, required=False)
        if value is None:
            return False
        low = value.lower()
        if low in {"true", "yes", "on"}:
            return True
        if low in {"false", "no", "off"}:
            return False
        self.problem(key, f"{value!r} is not true or false")
        return False

    def call(self, key: str, parse: object, *, required: bool = True) -> object | None:
        """Parse the text of ``key`` with ``parse``; a LedgerError becomes a problem."""
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return parse(value)  # type: ignore[operator]
        except LedgerError as exc:
            self.problem(key, str(exc))
            return None


def as_list(node: Node | None) -> list[Node]:
    if node is None or node.is_null:
        return []
    return node.value if isinstance(node.value, list) else [node]
