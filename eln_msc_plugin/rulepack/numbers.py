"""Numbers as the MSC rules read them (finite, not booleans) and as their messages show them (rounded).

Values are kept unrounded everywhere (metrics are data); only text meant for people rounds, through `show`.
"""

from __future__ import annotations

import math
from typing import Any

_isfinite = math.isfinite


def number(value: Any) -> float | int | None:
    """A finite JSON number (not a boolean), else None."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and _isfinite(value):
        return value
    return None


def integer(value: Any) -> int | None:
    """An integer, accepting integral floats such as 4.0, else None."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    return None


def show(value: float) -> str:
    """A number for a message: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# Relative slack for comparing a quotient of written numbers with a line: 28 cells on 0.28 cm² is 100 cells/cm²,
# although the division gives 99.99999999999999. Far below any precision a record states.
_SLACK = 1e-9


def above(value: float, line: float) -> bool:
    """`value` is above `line` by more than the float error of computing it (a value at the line is not above)."""
    return value > line + abs(line) * _SLACK


def below(value: float, line: float) -> bool:
    """`value` is below `line` by more than the float error of computing it (a value at the line is not below)."""
    return value < line - abs(line) * _SLACK
