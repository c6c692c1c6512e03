"""Argument checks shared by the layers and the numpy builders. No Keras import.

Each check returns the value (normalised: ``int``, ``float``, ``bool``) or raises a
``ValueError`` that names the argument, the value received and what is accepted, in
Keras's words: ``"`hop_length` must be a positive integer. Received: hop_length=0"``.

Example:

>>> check_positive_int("n_fft", 512)
512
>>> check_number("eps", 0.0, minimum=0.0)
0.0
>>> check_number("power", True, minimum=0.0, strict=True)
Traceback (most recent call last):
...
ValueError: `power` must be a positive number. Received: power=True
"""

import numbers

import numpy as np

__all__ = [
    "is_number",
    "check_number",
    "check_positive_int",
    "check_non_negative_int",
    "check_bool",
    "check_choice",
    "check_seed",
    "check_range",
]


def is_number(value):
    """A real number that is not a bool (``True`` is an ``int`` to Python, not to us)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_number(name, value, *, minimum=None, strict=False, allow_none=False):
    """A real number, at least ``minimum`` (above it with ``strict``), or None if allowed."""
    if allow_none and value is None:
        return None
    ok = is_number(value) and (minimum is None or (value > minimum if strict else value >= minimum))
    if not ok:
        if minimum is None:
            what = "a number"
        elif minimum == 0:
            what = "a positive number" if strict else "a non-negative number"
        else:
            what = f"a number {'above' if strict else 'at least'} {minimum}"
        raise ValueError(
            f"`{name}` must be {what}{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    return float(value)


def _check_int(name, value, minimum, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        ok = False
    else:
        ok = value >= minimum
    if not ok:
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


def check_positive_int(name, value):
    """An integer >= 1 (not a bool)."""
    return _check_int(name, value, 1, "a positive integer")


def check_non_negative_int(name, value):
    """An integer >= 0 (not a bool)."""
    return _check_int(name, value, 0, "a non-negative integer")


def check_bool(name, value):
    """``True`` or ``False`` (numpy's bools too); anything else raises."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_choice(name, value, choices):
    """One of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def check_seed(name, value):
    """An integer seed, or None."""
    if value is not None and (
        isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
    ):
        raise ValueError(f"`{name}` must be an integer or None. Received: {name}={value!r}")
    return None if value is None else int(value)


def check_range(name, value, *, allow_number=True):
    """A ``(low, high)`` pair of numbers with ``low <= high`` (as a tuple of floats) or, with
    ``allow_number``, a single number (as a float)."""
    if allow_number and is_number(value):
        return float(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(is_number(v) for v in value)
        and value[0] <= value[1]
    ):
        return (float(value[0]), float(value[1]))
    what = "a number, or a (low, high) pair" if allow_number else "a (low, high) pair of numbers"
    raise ValueError(f"`{name}` must be {what} with low <= high. Received: {name}={value!r}")
