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
"""

import keras
from keras import ops

__all__ = ["FASTER_FROZEN_PATH", "UNMEASURED", "current_device", "frozen_path"]

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


def frozen_path(backend=None, device=None):
    """The faster of ``"conv"`` and ``"fft"`` for a frozen kernel, from the table above;
    the current backend and device by default."""
    key = (backend or keras.backend.backend(), device or current_device())
    return FASTER_FROZEN_PATH.get(key, UNMEASURED)
