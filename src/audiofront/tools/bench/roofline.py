"""How far a timing is from what the device allows: the work a pass must do (float32
operations and bytes through device memory), the device's two ceilings measured in the
same process, and the floor time they give.

The work counted is the least an implementation must do, so every implementation of a
pass (audiofront's paths, the native chains, nnAudio) is held to the same floor:

- forward (frozen kernels): a real FFT per frame (2.5 N log2 N operations), the window,
  the power, the filterbank and DCT matmuls; bytes: the input read once, the output
  written once.
- backward (trainable kernels): the DFT as a dense matmul (a trainable kernel is a
  matrix) and the filterbank matmul, each three times (forward, and the gradient with
  respect to the input and to the weights); bytes: the input and the weights read, the
  weight gradients written.

The floor is ``max(operations / peak_flops, bytes / peak_bandwidth)``; a timing's fraction
of the roofline is the floor over the timing.

Example:

>>> spec = dict(layer="MelSpectrogram", pass_="forward", batch=16, samples=960000,
...             n_fft=512, hop_length=256, n_mels=128)
>>> flops, nbytes = work(**spec)
>>> round(flops / 1e9, 2), round(nbytes / 1e6, 1)
(4.72, 92.2)
"""

import math
import statistics

from audiofront.tools.bench.timing import timed

__all__ = ["LAYERS", "work", "measure_ceilings", "floor_ms"]

LAYERS = ("STFT", "Spectrogram", "MelSpectrogram", "MFCC")  # the layers whose work is counted

N_MFCC = 20  # the bench's MFCC (see `peers`)


def work(layer, pass_, batch, samples, n_fft, hop_length, n_mels, **_):
    """``(float32 operations, bytes)`` one call of ``pass_`` must do on the layer
    (``center=True`` framing, power spectrum, dB or not alike)."""
    frames = batch * (samples // hop_length + 1)
    bins = n_fft // 2 + 1
    mel = layer in ("MelSpectrogram", "MFCC")
    out = N_MFCC if layer == "MFCC" else (n_mels if mel else bins)
    matmuls = (2 * bins * n_mels if mel else 0) + (2 * n_mels * N_MFCC if layer == "MFCC" else 0)
    if pass_ == "forward":
        per_frame = 2.5 * n_fft * math.log2(n_fft) + n_fft + 3 * bins + matmuls + out
        return frames * per_frame, 4 * (batch * samples + frames * out)
    if pass_ == "backward":
        per_frame = 3 * (2 * n_fft * 2 * bins + matmuls) + n_fft + 3 * bins + out
        weights = n_fft * 2 * bins + (bins * n_mels if mel else 0)
        return frames * per_frame, 4 * (batch * samples + 2 * weights)
    raise ValueError(f"`pass_` must be 'forward' or 'backward'. Received: pass_={pass_!r}")


def _median_seconds(fn, sync, repeats=10):
    return statistics.median(timed(fn, sync, warmup=0, repeats=repeats)[1])


def measure_ceilings(sync, matmul_size=8192, copy_mib=1024):
    """The current backend's float32 matmul rate (TF32 must be off: the bench worker turns
    it off) and its device-memory bandwidth (an elementwise op over ``copy_mib`` MiB,
    bytes read plus written), on the default device, through `keras.ops`.

    Returns ``{"flops": operations per second, "bandwidth": bytes per second}``.
    """
    import keras
    from keras import ops

    rng = keras.random.SeedGenerator(0)
    a = keras.random.normal((matmul_size, matmul_size), seed=rng)
    b = keras.random.normal((matmul_size, matmul_size), seed=rng)
    seconds = _median_seconds(lambda: ops.matmul(a, b), sync)
    flops = 2 * matmul_size**3 / seconds
    x = keras.random.normal((copy_mib * 2**18,), seed=rng)
    seconds = _median_seconds(lambda: ops.multiply(x, 1.5), sync)
    return {"flops": flops, "bandwidth": 2 * 4 * x.shape[0] / seconds}


def floor_ms(flops, nbytes, ceilings):
    """The roofline's time for ``flops`` operations and ``nbytes`` bytes, in ms."""
    return 1e3 * max(flops / ceilings["flops"], nbytes / ceilings["bandwidth"])
