"""Progress of the long tools (parity, bench, compare): a rich bar on a terminal, one line
per step where there is none (a log, a CI console, ``nox``'s captured output).

Example:

>>> import io
>>> from audiofront.tools.progress import progress
>>> log = io.StringIO()
>>> with progress("parity", total=2, stream=log) as bar:
...     for step in ("jax", "torch"):
...         bar.step(f"run under {step}")
...         bar.advance()
>>> print(log.getvalue().replace("0 s", "T").strip())
[parity 1/2] run under jax (elapsed T)
[parity 2/2] run under torch (elapsed T)
[parity] done: 2 steps in T
"""

import collections
import contextlib
import subprocess
import sys
import threading
import time

__all__ = ["PROGRESS", "progress", "run_worker"]

# A worker's stderr line that starts with this is progress for the parent, not output.
PROGRESS = "audiofront-progress:"


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


def _elapsed(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class _Lines:
    """One flushed line per step, ``[label i/n] description (elapsed T)``."""

    def __init__(self, label, total, stream):
        self._label, self._total, self._stream = label, total, stream
        self._done, self._start = 0, time.monotonic()

    def _print(self, text):
        print(text, file=self._stream, flush=True)

    def step(self, description):
        elapsed = _elapsed(time.monotonic() - self._start)
        self._print(
            f"[{self._label} {self._done + 1}/{self._total}] {description} (elapsed {elapsed})"
        )

    def advance(self):
        self._done += 1

    def close(self):
        elapsed = _elapsed(time.monotonic() - self._start)
        self._print(f"[{self._label}] done: {self._done} steps in {elapsed}")


@contextlib.contextmanager
def progress(label, total, enabled=True, stream=None):
    """A context yielding an object with ``step(description)`` and ``advance()``: a rich bar
    when ``stream`` (default ``sys.stderr``) is a terminal, else one line per step and a
    closing line; nothing at all with ``enabled=False``."""
    if not enabled:
        yield _Silent()
        return
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        lines = _Lines(label, total, stream)
        yield lines
        lines.close()
        return
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    try:
        yield _Bar(bar, bar.add_task(label, total=total))
    finally:
        bar.stop()


def run_worker(args, env, timeout, on_progress):
    """Runs a worker process, passing the text of each of its ``PROGRESS`` lines to
    ``on_progress`` as it comes; returns ``(returncode, tail)``, the tail being the last
    lines of its other output (stdout and stderr together). After ``timeout`` seconds the
    worker is killed and the tail says so."""
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    expired = threading.Event()

    def kill():
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    tail = collections.deque(maxlen=60)
    try:
        for line in process.stdout:
            if line.startswith(PROGRESS):
                on_progress(line[len(PROGRESS) :].strip())
            else:
                tail.append(line)
        returncode = process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
    if expired.is_set():
        tail.append(f"killed after {timeout} s\n")
    return returncode, "".join(tail)
