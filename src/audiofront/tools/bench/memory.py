"""Peak memory of one eager forward call, in a fresh process (Linux)."""

import os
import time

import numpy as np

from audiofront.tools.bench.peers import audiofront_layer, native_chain

__all__ = ["measure_memory"]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_during(fn, x, sync):
    """The largest resident set seen while ``fn(x)`` runs (sampled every 0.2 ms), and
    ``fn(x)``."""
    import threading

    peak = _rss_bytes()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out = sync(fn(x))
    done.set()
    sampler.join()
    return peak, out


def measure_memory(spec):
    """Peak resident memory of one eager forward call, above the process's baseline.

    A fresh process per implementation (``spec["memory"]``: ``"audiofront"`` or
    ``"native"``). glibc is told to serve every allocation of 64 KiB or more with its own
    ``mmap`` (so freed buffers leave the resident set and each call's allocations show in
    it); one untimed call builds and compiles what it needs, on the full batch (JAX compiles
    each eager op per shape) or, on TensorFlow, whose CPU allocator keeps what it once
    reserved, on one second; then a thread samples the resident set every 0.2 ms during
    a call on the full batch. Baseline: the resident set just before that call
    (framework, kernels and input loaded).
    """
    import ctypes
    import gc

    from audiofront.tools import backend

    ctypes.CDLL("libc.so.6").mallopt(-3, 65536)  # M_MMAP_THRESHOLD
    if spec["memory"] == "audiofront":
        implementation = f"audiofront:{spec['layer']}"
        path = spec.get("path", "auto")
        if path != "auto":  # one STFT path forced, named as in the timing rows
            implementation += f"[{path}]"
            spec = dict(spec, params=dict(spec["params"], implementation=path))
        fn = audiofront_layer(spec, trainable=False)
    else:
        implementation, fn = native_chain(spec)
    rng = np.random.default_rng(0)
    x = backend.to_device(rng.standard_normal((spec["batch"], spec["samples"])).astype(np.float32))
    warm = x[:1, : spec["sample_rate"]] if spec["backend"] == "tensorflow" else x
    backend.sync(fn(warm))
    gc.collect()
    baseline = _rss_bytes()
    peak, out = _peak_during(fn, x, backend.sync)
    io_bytes = 4 * spec["batch"] * spec["samples"] + int(np.prod(out.shape)) * 4
    return {
        "backend": spec["backend"],
        "device": backend.device_kind(),
        "implementation": implementation,
        "layer": spec["layer"],
        "mode": "eager",
        "pass": "memory",
        "workload": spec["workload"],
        "peak_mb": (peak - baseline) / 1e6,
        "io_mb": io_bytes / 1e6,
        "x_io": (peak - baseline) / io_bytes,
    }
