"""How far an approximate, decimated LEAF would go: the study behind docs/limits.md.

EfficientLEAF's idea, made as exact as it can be: each Gabor filter's complex output is
sampled every ``s`` samples (``s`` divides the pooling stride) from the input's spectrum
times the filter's, kept to a band of ``2 W`` bins around the filter's centre and folded
onto an inverse FFT of ``L / s`` points; the squared modulus of those samples, weighted by
the part of each ``s``-sample cell inside the input, is pooled with the Gaussian kernel
summed over each cell. ``W`` covers the filter's Gaussian main lobe (``k_main`` standard
deviations) and the pooling's pass band (4 of its standard deviations); ``s`` is the
largest stride with ``L / s >= c * 2 W``. Filters whose 25 ms truncation leaves an edge
above ``full_edge`` of the envelope's peak (``exp(-half**2 / (2 sigma**2))``) are computed
at every sample from every bin, as the exact layer does: their sidelobes reach across
the band, and what they pass is most of what a low band holds on speech.

Printed: per setting, the filters at full rate, the work (product bins plus ``M log2 M``
per inverse FFT, summed over filters) relative to the exact layer's, and the worst error
of the pooled energies per band (relative to that band's largest value) and of the
layer's features (energies plus the pooling bias, 1 at initialisation), on 8 FSDD
recordings at 16 kHz and on uniform noise, against the exact `LEAF` layer at
initialisation (64 filters, 1 s, the bench's speech batch shape).

    PYTHONPATH=src python docs/leaf_decimation.py   # ~10 s here; reads $AUDIOFRONT_FSDD
"""

import glob
import os

import numpy as np
import scipy.io.wavfile
import scipy.signal
from keras import ops

from audiofront import LEAF, filters

SR, N_FILTERS, SAMPLES = 16000, 64, 16000
STRIDES = [1, 2, 4, 5, 8, 10, 16, 20, 32, 40, 80, 160]


def signals():
    folder = os.environ.get("AUDIOFRONT_FSDD", "../shared/data/fsdd")
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "recordings", "*.wav")))[:40:5]:
        rate, audio = scipy.io.wavfile.read(path)
        audio = scipy.signal.resample_poly(audio / 32768.0, SR // rate, 1)[:SAMPLES]
        out.append(np.pad(audio, (0, SAMPLES - len(audio))))
    noise = np.random.default_rng(0).uniform(-1, 1, (1, SAMPLES))
    return {"speech": np.array(out), "noise": noise}


def decimated(layer, x, full_edge, k_main, c):
    """The approximate pooled energies ``(batch, frames, n)`` and the work done."""
    taps, stride = layer._kernel_size, layer._stride
    before = (taps - 1) // 2
    mu = ops.convert_to_numpy(layer.center_frequencies).astype(float)
    sigma = ops.convert_to_numpy(layer.bandwidths).astype(float)
    width = ops.convert_to_numpy(layer.pooling_widths).astype(float)
    batch, samples = x.shape
    frames = (samples - 1) // stride + 1
    length = (frames + -(-taps // stride) - 1) * stride
    sizes = sorted(2**a * 3**b for a in range(14) for b in range(3))
    size = stride * min(q for q in sizes if q * stride >= max(samples + 2 * before, length))
    spectrum = np.fft.fft(x, size)
    t = filters.gabor_time_axis(taps)
    u = filters.gaussian_pooling_axis(taps)
    bins = np.fft.fftfreq(size) * size
    out, work = np.zeros((batch, frames, len(mu))), 0.0
    for n in range(len(mu)):
        kernel = np.exp(-(t**2) / (2 * sigma[n] ** 2) + 1j * mu[n] * t)
        kernel /= np.sqrt(2 * np.pi) * sigma[n]
        h = np.zeros(size, complex)
        h[(2 * before - np.arange(taps)) % size] = kernel  # y = x * h on the pooling grid
        response = np.fft.fft(h)
        pool_band = 4 * size / (2 * np.pi * width[n] * before)
        half = int(np.ceil(k_main * size / (2 * np.pi * sigma[n]) + pool_band))
        s = max(d for d in STRIDES if stride % d == 0 and size // d >= c * 2 * half)
        if np.exp(-(before**2) / (2 * sigma[n] ** 2)) > full_edge:
            half, s = size // 2, 1
        points, offset = size // s, (s - 1) / 2
        centre = -int(round(mu[n] * size / (2 * np.pi)))  # h passes negative frequencies
        index = centre - half + np.arange(2 * half)
        kept = spectrum[:, index % size] * response[index % size]
        kept = kept * np.exp(2j * np.pi * bins[index % size] * offset / size)  # cell centres
        folded = np.zeros((batch, points), complex)
        np.add.at(folded, (slice(None), (index - index[0]) % points), kept)
        y = np.fft.ifft(folded, axis=-1) * points / size
        cells = np.arange(points) * s
        inside = np.clip(np.minimum(cells + s, before + samples) - np.maximum(cells, before), 0, s)
        energies = np.abs(y) ** 2 * inside / s
        pooling = np.exp(-0.5 * (u / width[n]) ** 2)
        pooling = np.pad(pooling, (0, -taps % s)).reshape(-1, s).sum(axis=1)
        for f in range(frames):
            start = f * (stride // s)
            out[:, f, n] = energies[:, start : start + len(pooling)] @ pooling
        work += 2 * half + points * np.log2(points)
    return out, work / (len(mu) * (size + size * np.log2(size)))


def main():
    layer = LEAF(n_filters=N_FILTERS, sample_rate=SR, compression=None)
    layer.build((None, SAMPLES))
    sigma = ops.convert_to_numpy(layer.bandwidths)
    half = (layer._kernel_size - 1) // 2
    inputs = signals()
    exact = {  # the pooled energies, before the bias and the floor
        name: ops.convert_to_numpy(layer._pooled_energies(ops.convert_to_tensor(x, "float32")))
        for name, x in inputs.items()
    }
    print(
        "| full_edge | full-rate filters | k_main | c | work / exact | speech band | "
        "speech features | noise band | noise features |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for full_edge in (1.0, 1e-2, 1e-3):
        full = int(np.sum(np.exp(-(half**2) / (2 * sigma**2)) > full_edge))
        for k_main, c in ((4, 2), (4, 4)):
            row = [f"{full_edge:g}", f"{full}/{N_FILTERS}", f"{k_main}", f"{c}"]
            for name, x in inputs.items():
                approx, work = decimated(layer, x, full_edge, k_main, c)
                diff = np.abs(approx - exact[name])
                band = (diff.max(axis=1) / np.abs(exact[name]).max(axis=1)).max()
                feature = (diff / (1.0 + np.abs(exact[name]).max())).max()
                if name == "speech":
                    row.append(f"{work:.2f}")
                row += [f"{band:.1e}", f"{feature:.1e}"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
