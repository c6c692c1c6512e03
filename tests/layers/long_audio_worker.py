"""Runs MelSpectrogram over ten minutes of 16 kHz audio in a fresh process and records the
peak memory it adds: the resident set on a CPU, the allocator's device memory on a GPU
(see tests/test_long_audio.py).

Usage: KERAS_BACKEND=... python long_audio_worker.py OUT_DIR
"""

import gc
import json
import resource
import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
SECONDS = 600
CONFIG = dict(sample_rate=SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=64)


def long_signal():
    """A chirp sweeping up and down every 10 s, plus quiet noise; float32, built in place
    one second at a time so that no float64 copy of the whole signal ever exists."""
    x = np.empty((1, SAMPLE_RATE * SECONDS), np.float32)
    rng = np.random.default_rng(0)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    for second in range(SECONDS):
        u = (second % 10 + t) / 10.0  # position in the 10 s sweep
        frequency = 100.0 + 3800.0 * np.abs(2 * u - 1)
        x[0, second * SAMPLE_RATE : (second + 1) * SAMPLE_RATE] = 0.5 * np.sin(
            2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE + second
        ) + 0.01 * rng.standard_normal(SAMPLE_RATE)
    return x


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def device_bytes(peak):
    """On a GPU: the device memory in use (or its peak since the last reset) of the
    backend's allocator, where the layer's intermediates live."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return torch.cuda.max_memory_allocated() if peak else torch.cuda.memory_allocated()
    if keras.backend.backend() == "jax":
        import jax

        stats = jax.local_devices()[0].memory_stats()
        return stats["peak_bytes_in_use" if peak else "bytes_in_use"]
    import tensorflow as tf

    info = tf.config.experimental.get_memory_info("GPU:0")
    return info["peak" if peak else "current"]


def main(out_dir):
    import keras

    from audiofront import MelSpectrogram
    from audiofront.tools import backend

    gpu = backend.device_kind() == "gpu"
    backend.disable_tf32()  # float32 on a GPU too: the librosa bound is float32's
    layer = MelSpectrogram(**CONFIG)
    np.asarray(keras.ops.convert_to_numpy(layer(np.zeros((1, SAMPLE_RATE), np.float32))))
    x = long_signal()
    gc.collect()
    if gpu and keras.backend.backend() == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()
    # jax cannot reset its peak: the warm-up call above used a 1 s input, far below.
    baseline = device_bytes(peak=False) if gpu else peak_rss_bytes()
    out = np.asarray(keras.ops.convert_to_numpy(layer(x)))
    peak = device_bytes(peak=True) if gpu else peak_rss_bytes()
    np.save(Path(out_dir) / "mel.npy", out)
    record = {
        "backend": keras.backend.backend(),
        "memory": "device" if gpu else "host resident set",
        "baseline_bytes": baseline,
        "peak_bytes": peak,
        "input_bytes": x.nbytes,
        "output_bytes": out.nbytes,
        "shape": list(out.shape),
    }
    (Path(out_dir) / "memory.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main(sys.argv[1])
