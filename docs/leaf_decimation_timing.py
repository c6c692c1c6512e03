"""Times the decimated LEAF of docs/leaf_decimation.py under jax: a prototype of that path
(pooled energies, forward+backward with respect to the centre frequencies, bandwidths and
pooling widths, compiled), next to the exact `LEAF` layer's pooled energies in the same
process, on the bench's speech batch (32 x 1 s of noise at 16 kHz, 64 filters). Filters cut
above ``FULL_EDGE`` of their peak by the 25 ms window run at full rate (1.0: none).

    FULL_EDGE=1e-2 KERAS_BACKEND=jax PYTHONPATH=src python docs/leaf_decimation_timing.py
"""

import os
import time

import jax
import jax.numpy as jnp
import keras
import numpy as np

from audiofront import LEAF, filters

BATCH, SAMPLES, N, TAPS, STRIDE, BEFORE = 32, 16000, 64, 401, 160, 200
FULL_EDGE = float(os.environ.get("FULL_EDGE", "1e-2"))
K_MAIN, C = 4.0, 2.0
STRIDES = [1, 2, 4, 5, 8, 10, 16, 20, 32, 40, 80, 160]
MU, SIGMA = filters.gabor_mel_init(N, 16000, 60.0, 7800.0)
FRAMES = (SAMPLES - 1) // STRIDE + 1
SIZE = STRIDE * 128  # the least 160 * 2**a * 3**b (b < 3) holding the input and the grid
T = jnp.asarray(filters.gabor_time_axis(TAPS))
U = jnp.asarray(filters.gaussian_pooling_axis(TAPS))


def plan():
    """Filters grouped by sampling step: ``{s: [(filter, half band in bins or None)]}``."""
    groups = {}
    for i in range(N):
        half = int(np.ceil(K_MAIN * SIZE / (2 * np.pi * SIGMA[i]) + 4 * SIZE / (2 * np.pi * 80)))
        s = max(d for d in STRIDES if SIZE // d >= C * 2 * half)
        if np.exp(-(BEFORE**2) / (2 * SIGMA[i] ** 2)) > FULL_EDGE:
            s, half = 1, None
        groups.setdefault(s, []).append((i, half))
    return groups


def energies(params, x, groups):
    mu, sigma, width = params
    envelope = jnp.exp(-(T[None] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = envelope / (jnp.sqrt(2 * jnp.pi) * sigma[:, None]) * jnp.exp(1j * mu[:, None] * T)
    taps = np.arange(TAPS)
    h = jnp.zeros((N, SIZE), jnp.complex64).at[:, (2 * BEFORE - taps) % SIZE].set(kernel)
    response, spectrum = jnp.fft.fft(h, axis=-1), jnp.fft.fft(x, SIZE, axis=-1)
    out = []
    for s, members in sorted(groups.items()):
        which = np.array([m[0] for m in members])
        points, step = SIZE // s, STRIDE // s
        pooling = jnp.exp(-0.5 * (U[None] / width[which, None]) ** 2)
        pooling = jnp.pad(pooling, ((0, 0), (0, -TAPS % s))).reshape(len(which), -1, s).sum(-1)
        blocks = -(-pooling.shape[1] // step)
        pooling = jnp.pad(pooling, ((0, 0), (0, blocks * step - pooling.shape[1])))
        pooling = pooling.reshape(len(which), blocks, step).transpose(0, 2, 1)
        if s == 1:
            y = jnp.fft.ifft(spectrum[:, None] * response[which][None], axis=-1)
        else:
            half = max(m[1] for m in members)
            centre = -jnp.round(mu[which] * SIZE / (2 * np.pi)).astype(jnp.int32)
            index = (centre[:, None] - half + jnp.arange(2 * half)[None]) % SIZE
            signed = jnp.where(index > SIZE // 2, index - SIZE, index)
            kept = jnp.take_along_axis(response[which], index, axis=1)
            kept = kept * jnp.exp(2j * jnp.pi * signed * ((s - 1) / 2) / SIZE)  # cell centres
            band = spectrum[:, index] * kept[None]
            y = jnp.fft.ifft(jnp.pad(band, ((0, 0), (0, 0), (0, points - 2 * half))), axis=-1)
            y = y * (points / SIZE)
        cells = np.arange(points) * s
        inside = np.clip(np.minimum(cells + s, BEFORE + SAMPLES) - np.maximum(cells, BEFORE), 0, s)
        e = (jnp.real(y) ** 2 + jnp.imag(y) ** 2) * (inside / s)
        rows = FRAMES + blocks - 1
        e = e[..., : rows * step].reshape(BATCH, len(which), rows, step)
        products = jnp.einsum("bgrs,gsk->bgrk", e, pooling)
        out.append(sum(products[:, :, k : k + FRAMES, k] for k in range(blocks)))
    order = np.concatenate([[m[0] for m in members] for _, members in sorted(groups.items())])
    return jnp.concatenate(out, axis=1).transpose(0, 2, 1), order


def median_ms(f, *args, repeats=5):
    for _ in range(2):
        jax.block_until_ready(f(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1e3, 1)


def main():
    groups = plan()
    x = jnp.asarray(np.random.default_rng(0).standard_normal((BATCH, SAMPLES)) * 0.1, "float32")
    params = tuple(jnp.asarray(v, "float32") for v in (MU, SIGMA, np.full(N, 0.4)))
    layer = LEAF(n_filters=N, compression=None)
    layer.build((None, SAMPLES))
    variables = layer.trainable_variables

    def exact_loss(values, x):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return jnp.sum(jnp.log1p(layer._pooled_energies(x)))

    def loss(p, x):
        return jnp.sum(jnp.log1p(energies(p, x, groups)[0]))

    values = [v.value for v in variables]
    print("steps:", {s: len(m) for s, m in sorted(groups.items())}, "full_edge", FULL_EDGE)
    print("decimated forward+backward ms", median_ms(jax.jit(jax.grad(loss)), params, x))
    print("exact forward+backward ms", median_ms(jax.jit(jax.grad(exact_loss)), values, x))
    approx, order = energies(params, x, groups)
    reference = np.asarray(layer._pooled_energies(x))[..., order]
    error = np.abs(np.asarray(approx) - reference).max(1) / np.abs(reference).max(1)
    print(f"worst error per band {error.max():.1e} (noise)")


if __name__ == "__main__":
    main()
