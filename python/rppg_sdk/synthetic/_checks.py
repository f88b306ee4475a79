"""Argument checks shared by the renderer's modules: clear errors naming what was expected."""

from __future__ import annotations

import math
import numbers

import numpy as np


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_real(name: str, value: object, low: float, high: float) -> float:
    """Check ``low <= value <= high`` for a finite real number and return it as float."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    out = float(value)  # type: ignore[arg-type]
    if not math.isfinite(out) or not low <= out <= high:
        raise ValueError(f"{name}: expected {low:g} <= {name} <= {high:g}, got {value!r}")
    return out


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    out = int(value)
    if not low <= out <= high:
        raise ValueError(f"{name}: expected {low} <= {name} <= {high}, got {out}")
    return out


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
