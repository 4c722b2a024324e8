"""CloudWatch Logs JSON filter patterns, read well enough to tell which CloudTrail events they match.

A metric filter is judged by what it does, not by how it is spelt: its pattern is parsed and run
against sample events, so whitespace, quoting, parentheses and the order of terms do not matter,
and the CIS Benchmark's patterns of every version qualify, as do equivalent or broader ones.
Only JSON patterns (`{ ... }`) are understood; any other pattern reads as matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Event = Mapping[str, Any]
Predicate = Callable[[Event], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<selector>\$(?:\.[\w-]+|\[\d+\])*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<symbol>&&|\|\||!=|<=|>=|[{}()=<>])
      | (?P<word>[^\s{}()=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_MISSING = object()
_CONSTANTS: dict[str, Any] = {"TRUE": True, "FALSE": False, "NULL": None}


class PatternError(ValueError):
    """The pattern is not a JSON filter pattern this reader understands."""


def _tokens(pattern: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(pattern.rstrip())
    while pos < end:
        m = _TOKEN.match(pattern, pos)
        if not m or m.end() == pos:
            raise PatternError(f"unexpected text at {pattern[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        text = m.group(kind)
        out.append((kind, re.sub(r"\\(.)", r"\1", text[1:-1]) if kind == "string" else text))
        pos = m.end()
    return out


def _resolve(event: Any, selector: str) -> Any:
    for key in re.findall(r"\.([\w-]+)|\[(\d+)\]", selector):
        name, index = key
        if name and isinstance(event, Mapping) and name in event:
            event = event[name]
        elif index and isinstance(event, list) and int(index) < len(event):
            event = event[int(index)]
        else:
            return _MISSING
    return event


def _compare(actual: Any, op: str, value: str) -> bool:
    if actual is _MISSING or isinstance(actual, Mapping | list):
        return False
    if op in ("=", "!="):
        equal = re.fullmatch(".*".join(map(re.escape, value.split("*"))), str(actual), re.DOTALL) is not None
        return equal if op == "=" else not equal
    try:
        left, right = float(actual), float(value)
    except (TypeError, ValueError):
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


class _Parser:
    """Recursive descent: `&&` binds tighter than `||`; parentheses group."""

    def __init__(self, pattern: str) -> None:
        self.tokens = _tokens(pattern)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None) -> str:
        if self.pos >= len(self.tokens) or (kind and self.tokens[self.pos][0] != kind):
            raise PatternError(f"expected {kind or 'more'} at token {self.pos}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def expect(self, text: str) -> None:
        if self.take() != text:
            raise PatternError(f"expected {text!r} at token {self.pos - 1}")

    def pattern(self) -> Predicate:
        self.expect("{")
        predicate = self.either()
        self.expect("}")
        if self.pos != len(self.tokens):
            raise PatternError("text after the closing brace")
        return predicate

    def either(self) -> Predicate:
        terms = [self.both()]
        while self.peek() == "||":
            self.take()
            terms.append(self.both())
        return terms[0] if len(terms) == 1 else lambda e: any(t(e) for t in terms)

    def both(self) -> Predicate:
        terms = [self.term()]
        while self.peek() == "&&":
            self.take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else lambda e: all(t(e) for t in terms)

    def term(self) -> Predicate:
        if self.peek() == "(":
            self.take()
            inner = self.either()
            self.expect(")")
            return inner
        selector = self.take("selector")
        op = self.take()
        if op.upper() == "IS":
            constant = self.take("word").upper()
            if constant not in _CONSTANTS:
                raise PatternError(f"IS {constant}")
            wanted = _CONSTANTS[constant]
            return lambda e: (actual := _resolve(e, selector)) is not _MISSING and actual is wanted
        if op.upper() == "NOT":
            if self.take("word").upper() != "EXISTS":
                raise PatternError("NOT without EXISTS")
            return lambda e: _resolve(e, selector) is _MISSING
        if op.upper() == "EXISTS":
            return lambda e: _resolve(e, selector) is not _MISSING
        if op not in ("=", "!=", "<", ">", "<=", ">="):
            raise PatternError(f"unknown operator {op!r}")
        kind, value = self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")
        if kind not in ("string", "word"):
            raise PatternError(f"expected a value after {op}")
        self.pos += 1
        return lambda e: _compare(_resolve(e, selector), op, value)


def parse(pattern: str) -> Predicate:
    """A predicate over one event (a CloudTrail record as JSON); PatternError if not understood."""
    return _Parser(pattern).pattern()


def catches(pattern: str, events: list[Event], quiet: list[Event]) -> bool:
    """Whether the pattern matches every one of `events` and none of `quiet` (a catch-all filter
    would alert on everything, which is no alert on the events that matter)."""
    try:
        match = parse(pattern)
    except PatternError:
        return False
    return all(map(match, events)) and not any(map(match, quiet))
