"""How every reply from outside is read as JSON: in the sources (a search page's TOTAL, a RESO
page's nextLink, a probe's reply) and at staging's decoding boundary alike.

A body that is not JSON, uses NaN or Infinity, or nests deeper than `MAX_JSON_DEPTH` levels
raises `UnreadableJson` with the reason, so a hostile reply is quarantined like any malformed one
instead of failing the step. Python's own parser raises RecursionError somewhere past ~1,000
levels, how far depending on the caller's stack; the cap makes the verdict the same everywhere,
and keeps every later reader — Polars' JSON paths stop at 128 levels — within reach of what was
accepted.
"""

from __future__ import annotations

import json
import math

MAX_JSON_DEPTH = 64  # objects and arrays within each other; no contract this platform reads comes near


def _not_json(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: Python reads it as inf, which no JSON number is
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


class UnreadableJson(ValueError):
    """A body that cannot be read as JSON; the message is the reason, naming no content."""


def json_depth(document) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def read_json(text: str | bytes):
    """The JSON value of a body from outside, or UnreadableJson with the reason."""
    try:
        # NaN/Infinity: Python reads them, JSON has none
        document = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise UnreadableJson(
            f"invalid JSON (truncated or malformed): {exc.msg} (char {exc.pos} of {len(text)})"
        ) from None
    except UnicodeDecodeError as exc:
        raise UnreadableJson(f"body is not UTF-8: {exc}") from None
    except RecursionError:
        raise UnreadableJson(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # a number Python will not read (over 4,300 digits, or out of range)
        raise UnreadableJson(f"invalid JSON: {str(exc).splitlines()[0][:120]}") from None
    if json_depth(document) > MAX_JSON_DEPTH:
        raise UnreadableJson(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def json_kind(value) -> str:
    """How a message names a JSON value's type: "an object", "a string", …"""
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
