"""Progress of the long tools (parity, bench, compare): a rich bar on a terminal, nothing
otherwise.

Example:

>>> from audiofront.tools.progress import progress
>>> with progress("parity", total=2, enabled=False) as bar:
...     for step in ("jax", "torch"):
...         bar.step(f"run under {step}")
...         bar.advance()
"""

import contextlib

__all__ = ["progress"]


class _Silent:
    def step(self, description):
        pass

    def advance(self):
        pass


class _Bar:
    def __init__(self, bar, task):
        self._bar, self._task = bar, task

    def step(self, description):
        self._bar.update(self._task, description=description)

    def advance(self):
        self._bar.advance(self._task)


@contextlib.contextmanager
def progress(label, total, enabled):
    """A context yielding an object with ``step(description)`` and ``advance()``."""
    if not enabled:
        yield _Silent()
        return
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    try:
        yield _Bar(bar, bar.add_task(label, total=total))
    finally:
        bar.stop()
