"""How the bench times a call: warm-up, then the median of repeated calls, each with its
result materialised before the clock stops; the first call apart (compile time)."""

import statistics
import time

import numpy as np

__all__ = ["timed", "record"]


def timed(fn, sync, warmup, repeats):
    """Runs ``fn`` once (timed apart), ``warmup`` times untimed, then ``repeats`` timed
    times; ``sync(out)`` waits for each result. Returns ``(first_seconds, [seconds])``."""
    start = time.perf_counter()
    sync(fn())
    first = time.perf_counter() - start
    for _ in range(warmup):
        sync(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sync(fn())
        times.append(time.perf_counter() - start)
    return first, times


def record(spec, implementation, mode, pass_, first, times, device):
    """One bench record: the median and spread of ``times`` with what was measured."""
    median = statistics.median(times)
    q = np.percentile(times, [25, 75]) if len(times) > 1 else (times[0], times[0])
    return {
        "backend": spec["backend"],
        "device": device,
        "implementation": implementation,
        "layer": spec["layer"],
        "mode": mode,
        "pass": pass_,
        "workload": spec["workload"],
        "median_ms": 1e3 * median,
        "min_ms": 1e3 * min(times),
        "max_ms": 1e3 * max(times),
        "iqr_ms": 1e3 * float(q[1] - q[0]),
        "repeats": len(times),
        "first_call_ms": 1e3 * first,
        "compile_ms": 1e3 * max(first - median, 0.0) if mode == "compiled" else None,
    }
