"""The conv/fft dispatch table: which STFT path is faster for a frozen kernel, per
(backend, device), as ``implementation="auto"`` reads it. Filled from `audiofront bench`
runs, not guessed.

CPU (Intel Xeon, 2 cores), MelSpectrogram(decibel=True) forward, median ms of 5 after 2
warm-ups (jax: of 3 after 1, 2026-11-21 session 1; torch and tensorflow re-measured in
session 2, after their FFT path moved from an index gather to ``keras.ops.stft``), from

    audiofront bench --workload {speech,kapre} --backends B --no-peers --repeats 5 \\
        --warmup 2 -p implementation={conv,fft}

    workload  backend     mode       conv    fft
    speech    jax         compiled   15.7    3.8
    speech    jax         eager      23.0   19.2
    speech    torch       compiled   10.0    2.6
    speech    torch       eager      14.7    4.1
    speech    tensorflow  compiled   10.5    6.5
    speech    tensorflow  eager      16.4   18.3
    kapre     jax         compiled  236.6  236.3
    kapre     jax         eager     398.1  429.7
    kapre     torch       compiled  232.3  186.4
    kapre     torch       eager     273.2  213.0
    kapre     tensorflow  compiled  182.9  179.7
    kapre     tensorflow  eager     284.5  197.9

The FFT path is faster or equal in every compiled case and in torch eager (1.3-3.6x on
speech); the eager exceptions (JAX kapre 1.08x, TF speech 1.12x slower) are modes nobody
picks for speed. Geometric means of fft/conv: jax 0.49 (compiled), torch 0.47 (eager),
tensorflow 0.78 (compiled). So "fft" on every CPU backend.

The blocked path (`implementation="blocked"`, issue 18) takes the FFT path one block of frames
at a time (gather, window, rfft, power, filterbank per block; `functional.blocked_stft`), so
that no full-size framed signal or spectrum goes through main memory. Measured on this
project's 2-core AMD EPYC (no GPU), 2026-11-24, MelSpectrogram(decibel=True) forward compiled
the backend's way, against the backend's native chain (`audiofront.tools.bench.peers`), all
built from the bench's own functions and timed in one process, median ms of 5 interleaved rounds
after one call (the same rows, one after another: `audiofront bench --workload kapre
--implementations fft,blocked`; docs/tools.md has that run, with peak memory):

    workload (batch x samples, framed floats)  backend     native    fft  blocked (rows/block)
    kapre  16 x 960000, 30.7M                  jax          206.9  208.0  110.0 (1024)  0.53x
                                               tensorflow   207.4  231.6  103.1 (1024)  0.50x
                                               torch        216.2  215.2   85.3 (4096)  0.39x
    speech 32 x 16000, 1.7M                    jax            3.3    3.0    3.9
                                               tensorflow     4.4    4.2    4.6
                                               torch          4.2    3.9    6.7
    speech 32 x 64000 (4 s), 6.6M              jax           37.9   35.7   21.1
                                               tensorflow    38.9   39.6   18.5
                                               torch         15.6   14.2   18.1
    speech 32 x 128000 (8 s), 13.1M            torch         82.5   54.3   30.8

After the dB stage took the log of the maximum and the blocked path's mel product skipped
the filterbank's zeros (2d920e8), `audiofront compare --full` on the same machine
(2026-11-24; reports/compare.md at d1d6e44) timed the kapre workload's blocked path compiled at jax
68.0, torch 64.6, tensorflow 71.3 ms against native chains of 194.1, 193.1, 216.6.

Small batches fit the caches whole and the blocks only add their loop (torch eager-style
per-block overhead most); past a few million framed samples the blocks win. So "auto" takes
the blocked path from `BLOCKED_FROM` framed floats (batch x frames x n_fft, known when the
graph is built; an unknown length keeps the FFT path), and the FFT path below it.

TensorFlow gains from the blocks only under XLA: eagerly, ``keras.ops.map`` runs each block's
ops one by one, and in a ``tf.function`` without ``jit_compile`` the loop is a while loop that
XLA does not fuse (kapre workload, same process, median of 5, 2026-12-07: fft 140.8 / 119.6 /
126.5 ms eager / graph / XLA, blocked 812.1 / 154.8 / 74.5). So on TensorFlow "auto" takes the
blocked path only inside an XLA-compiled function (Keras ``fit``/``predict`` compile with XLA
by default); JAX and torch take it eagerly too (blocked 343 / 140 ms eager against fft 474 /
262, `audiofront compare --full`, 2026-11-24).
"""

import sys

import keras
from keras import ops

__all__ = [
    "BLOCKED_FROM",
    "BLOCK_ROWS",
    "FASTER_FROZEN_PATH",
    "UNMEASURED",
    "block_frames",
    "current_device",
    "frozen_path",
    "in_xla",
]

FASTER_FROZEN_PATH = {
    ("jax", "cpu"): "fft",
    ("torch", "cpu"): "fft",
    ("tensorflow", "cpu"): "fft",
}

# Where nothing was measured (a GPU, so far): the FFT path, which is also the more
# accurate of the two near the top_db floor (see the README's known limits).
UNMEASURED = "fft"


def current_device():
    """``"gpu"`` or ``"cpu"``: where a new tensor lands on this backend (torch ``cuda:0``,
    TensorFlow ``.../device:GPU:0``, JAX ``cuda:0``)."""
    where = str(getattr(ops.convert_to_tensor(0.0), "device", "")).lower()
    return "gpu" if ("gpu" in where or "cuda" in where) else "cpu"


def frozen_path(backend=None, device=None, framed=None):
    """The fastest measured path for a frozen kernel, from the tables above: ``"blocked"``
    when ``framed`` (batch x frames x n_fft, ``None`` when unknown) reaches `BLOCKED_FROM`,
    else the faster of ``"conv"`` and ``"fft"``; the current backend and device by default."""
    key = (backend or keras.backend.backend(), device or current_device())
    threshold = BLOCKED_FROM.get(key)
    if framed is not None and threshold is not None and framed >= threshold:
        if key[0] != "tensorflow" or in_xla():
            return "blocked"
    return FASTER_FROZEN_PATH.get(key, UNMEASURED)


def in_xla():
    """Whether TensorFlow is tracing an XLA-compiled function (``jit_compile=True``) now:
    the blocked path's loop is fast on TensorFlow there only (see the module docstring)."""
    # Loaded by Keras's TensorFlow backend (no backend import here).
    tf = sys.modules.get("tensorflow")
    util = sys.modules.get("tensorflow.python.ops.control_flow_util")
    if tf is None or util is None:  # asked about TensorFlow from a process without it
        return False
    return util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


# Framed floats (batch x frames x n_fft) from which "auto" takes the blocked path, per
# (backend, device): between the measured sizes where it lost and where it won.
BLOCKED_FROM = {
    ("jax", "cpu"): 4 * 2**20,
    ("tensorflow", "cpu"): 4 * 2**20,
    ("torch", "cpu"): 8 * 2**20,
}

# Rows (one frame of one example each) per block of the blocked path, per backend: the
# block's frames, spectrum and features stay in the caches (kapre workload: jax 1024 rows
# 110 ms, 4096 113; tensorflow 103, 109; torch 90, 85).
BLOCK_ROWS = {"jax": 1024, "torch": 4096, "tensorflow": 1024}
DEFAULT_BLOCK_FRAMES = 64  # when the batch size is not known


def block_frames(batch, backend=None):
    """Frames per block of the blocked path for a batch of ``batch`` signals (``None``:
    unknown), from `BLOCK_ROWS`."""
    if batch is None:
        return DEFAULT_BLOCK_FRAMES
    rows = BLOCK_ROWS.get(backend or keras.backend.backend(), 1024)
    return max(1, rows // batch)
