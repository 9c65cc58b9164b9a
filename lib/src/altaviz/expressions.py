"""The part of the Fabric / Data Factory pipeline expression language the local runner needs.

``@pipeline().parameters.x``, ``@pipeline().RunId``, ``@activity('a').output.result.exitValue``,
``@activity('a').error?.message`` (``?.`` gives null for null or a missing property), string
interpolation ``"…@{expr}…"`` and a few functions (concat, string, int, float, bool, json,
coalesce, if, equals, empty, utcnow). Anything else fails with the expression named,
rather than being passed through unevaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\?\.|[().,\[\]]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"cannot read expression {text!r} at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _functions(context: Mapping[str, Any]) -> dict[str, Callable[..., Any]]:
    activities = context.get("activities", {})

    def activity(name: str) -> Any:
        if name not in activities:
            raise ExpressionError(f"activity('{name}') has not run yet (or does not exist)")
        return activities[name]

    return {
        "pipeline": lambda: context["pipeline"],
        "activity": activity,
        "concat": lambda *a: "".join(str(x) for x in a),
        "string": lambda x: x if isinstance(x, str) else json.dumps(x),
        "int": int,
        "float": float,
        "bool": lambda x: x if isinstance(x, bool) else str(x).lower() == "true",
        "json": lambda x: json.loads(x) if isinstance(x, str) else x,
        "coalesce": lambda *a: next((x for x in a if x is not None), None),
        "if": lambda c, a, b: a if c else b,
        "equals": lambda a, b: a == b,
        "empty": lambda x: x is None or len(x) == 0,
        "utcnow": lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.text, self.toks, self.i = text, _tokens(text), 0
        self.functions = _functions(context)

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"in {self.text!r}: expected {value or 'more'}, got {tok[1] if tok else 'end'}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.value()
        if self.peek() is not None:
            raise ExpressionError(f"in {self.text!r}: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return value

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            result: Any = text[1:-1].replace("''", "'")
        elif kind == "number":
            result = float(text) if "." in text else int(text)
        elif kind == "name" and text in ("true", "false", "null"):
            result = {"true": True, "false": False, "null": None}[text]
        elif kind == "name":
            if text not in self.functions:
                raise ExpressionError(f"in {self.text!r}: function {text}() is not supported by the local runner")
            self.take("(")
            args = []
            while self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                args.append(self.value())
                if self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                    self.take(",")
            self.take(")")
            result = self.functions[text](*args)
        else:
            raise ExpressionError(f"in {self.text!r}: unexpected {text!r}")
        return self.accessors(result)

    def accessors(self, result: Any) -> Any:
        while self.peek() and self.peek()[1] in (".", "?.", "["):  # type: ignore[index]
            op = self.take()[1]
            if op == "?.":
                key: Any = self.take()[1]
                # Null-safe, as in Fabric / Data Factory: null, or a property that is not there, is null.
                if result is None or (isinstance(result, dict) and key not in result):
                    result = None
                    continue
            elif op == ".":
                key = self.take()[1]
            else:
                key = self.value()
                self.take("]")
            try:
                result = result[key]
            except (KeyError, IndexError, TypeError) as err:
                raise ExpressionError(f"in {self.text!r}: no {key!r} in {result!r}") from err
        return result


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluates a pipeline expression string (``@…``, ``…@{…}…`` or a plain literal)."""
    if expression.startswith("@@"):
        return expression[1:]
    if expression.startswith("@") and not expression.startswith("@{"):
        return _Parser(expression[1:], context).parse()
    if "@{" in expression:
        return re.sub(r"@\{(.*?)\}", lambda m: str(_Parser(m.group(1), context).parse()), expression)
    return expression


def resolve(value: Any, context: Mapping[str, Any]) -> Any:
    """A parameter value as stored in pipeline JSON: literal, or ``{"value": …, "type": "Expression"}``."""
    if isinstance(value, dict) and value.get("type") == "Expression":
        return evaluate(str(value.get("value", "")), context)
    if isinstance(value, str):
        return evaluate(value, context)
    return value
