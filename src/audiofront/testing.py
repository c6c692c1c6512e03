"""Pytest helpers: assert that front-ends give the same numbers on every backend.

Example (in a test module, with jax, torch and tensorflow installed):

>>> from audiofront import testing
>>> testing.assert_backends_agree(                       # doctest: +SKIP
...     [testing.layer_case("MelSpectrogram", {"n_fft": 512, "decibel": True})], grad=True)
"""

from audiofront import parity

__all__ = ["layer_case", "model_case", "assert_backends_agree"]


def layer_case(
    layer, params=None, name=None, source="chirp", batch=2, seconds=0.5, sample_rate=None
):
    """A `parity.compare` case for an audiofront layer (see `parity.layer_case`)."""
    return parity.layer_case(
        layer,
        params,
        name=name,
        source=source,
        batch=batch,
        seconds=seconds,
        sample_rate=sample_rate,
    )


def model_case(path, inputs, name=None):
    """A `parity.compare` case for a saved ``.keras`` model on given inputs."""
    return {"name": name or str(path), "model": str(path), "input": inputs}


def assert_backends_agree(cases, backends=parity.BACKENDS, grad=True, require_all=True, **kwargs):
    """Runs `parity.compare` and raises ``AssertionError`` naming every failed comparison.

    Args:
        cases: cases from `layer_case` / `model_case` (all run in one subprocess per
            backend).
        backends: the backends to compare.
        grad: compare gradients too.
        require_all: fail (rather than skip) when a requested backend is not installed.

    Returns:
        The `parity.Report`, for further checks.
    """
    report = parity.compare(cases, backends=backends, grad=grad, **kwargs)
    problems = []
    if require_all and report.skipped:
        problems.append(f"backends not installed: {', '.join(report.skipped)}")
    problems += [f"{where}: {message}" for where, message in report.errors.items()]
    problems += [
        f"{c.case} {c.quantity}: {c.a} vs {c.b} differ by {c.max_abs:.3g}"
        f"{' dB' if c.unit == 'dB' else f' (relative {c.relative:.3g})'} > bound {c.bound:g}"
        + (f" [{c.note}]" if c.note else "")
        for c in report.failures()
    ]
    if not report.comparisons and not problems:
        problems.append("nothing was compared")
    if problems:
        raise AssertionError("backends disagree:\n  " + "\n  ".join(problems))
    return report
