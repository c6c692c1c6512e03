"""How far an approximate, decimated LEAF would go: the study behind docs/limits.md.

EfficientLEAF's idea, made as exact as it can be: each Gabor filter's complex output is
sampled every ``s`` samples (``s`` divides the pooling stride) from the input's spectrum
times the filter's, kept to a band of ``2 W`` bins around the filter's centre; the squared
modulus of those samples, weighted by the part of each ``s``-sample cell inside the input,
is pooled with the Gaussian kernel summed over each cell. ``W`` covers the filter's
Gaussian main lobe (``k_main`` standard deviations) and the pooling's pass band (4 of its
standard deviations); ``s`` is the largest step with ``L / s >= c * 2 W``. Filters whose
25 ms truncation leaves an edge above ``full_edge`` of the envelope's peak
(``exp(-half**2 / (2 sigma**2))``) are computed at every sample from every bin, as the exact
layer does: their sidelobes reach across the band, and what they pass is most of what a low
band holds on speech.

Printed, per setting: the filters at full rate, the work (product bins plus ``M log2 M``
per inverse FFT of ``M`` points, summed over filters) relative to the exact layer's, and
the worst error of the pooled energies per band (relative to that band's largest value) and
of the layer's features (energies plus the pooling bias, 1 at initialisation), on 8 FSDD
recordings resampled to 16 kHz (`make_input`'s picks across the set) and on uniform noise,
against the exact `LEAF` layer at initialisation (64 filters, 1 s). Then, on the bench's speech batch shape (32 x 1 s of noise), the median
compiled forward+backward time (with respect to the filters' and the pooling's weights) of
the decimated and the exact pooled energies, in the same process. JAX only (a prototype).

    KERAS_BACKEND=jax PYTHONPATH=src python docs/leaf_decimation.py  # reads $AUDIOFRONT_FSDD
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np

from audiofront import LEAF, filters
from audiofront.tools.bench.timing import timed
from audiofront.tools.signals import make_input

SR, N_FILTERS, SAMPLES = 16000, 64, 16000
STEPS = [1, 2, 4, 5, 8, 10, 16, 20, 32, 40, 80, 160]
SETTINGS = [(1.0, 4, 2), (1.0, 4, 4), (1e-2, 4, 2), (1e-2, 4, 4), (1e-3, 4, 2), (1e-3, 4, 4)]


def signals():
    speech, _ = make_input("fsdd", batch=8, seconds=SAMPLES / SR, sample_rate=SR)
    noise = np.random.default_rng(0).uniform(-1, 1, (1, SAMPLES)).astype("float32")
    return {"speech": speech, "noise": noise}


class Decimated:
    """The decimated pooled energies of a built `LEAF`, its filters grouped by step."""

    def __init__(self, layer, full_edge, k_main, c):
        self.layer = layer
        taps, stride = layer._kernel_size, layer._stride
        self.before = (taps - 1) // 2
        frames = (SAMPLES - 1) // stride + 1
        self.length = (frames + -(-taps // stride) - 1) * stride
        sizes = sorted(2**a * 3**b for a in range(14) for b in range(3))
        need = max(SAMPLES + 2 * self.before, self.length)
        self.size = stride * min(q for q in sizes if q * stride >= need)
        sigma = keras.ops.convert_to_numpy(layer.bandwidths).astype(float)
        width = keras.ops.convert_to_numpy(layer.pooling_widths).astype(float)
        self.groups = {}
        for n in range(layer.n_filters):
            pool_band = 4 * self.size / (2 * np.pi * width[n] * self.before)
            half = int(np.ceil(k_main * self.size / (2 * np.pi * sigma[n]) + pool_band))
            s = max(d for d in STEPS if stride % d == 0 and self.size // d >= c * 2 * half)
            if np.exp(-(self.before**2) / (2 * sigma[n] ** 2)) > full_edge:
                s, half = 1, self.size // 2
            self.groups.setdefault(s, []).append((n, half))
        self.order = np.concatenate([[m[0] for m in g] for _, g in sorted(self.groups.items())])

    def work(self):
        """Product bins plus ``M log2 M`` per inverse FFT, over the exact layer's."""
        total = sum(len(g) * (2 * max(h for _, h in g) + self.size / s * np.log2(self.size / s))
                    for s, g in self.groups.items())  # fmt: skip
        return total / (self.layer.n_filters * self.size * (1 + np.log2(self.size)))

    def __call__(self, values, x):
        """``(batch, frames, n_filters)`` in `order`, from the layer's trainable values."""
        layer, size, before = self.layer, self.size, self.before
        taps, stride = layer._kernel_size, layer._stride
        batch, samples = x.shape
        frames = (samples - 1) // stride + 1
        with keras.StatelessScope(state_mapping=list(zip(layer.trainable_variables, values))):
            kernels = layer._gabor_kernels("float32")  # (2 n, taps): real, then imaginary
            centres = layer.center_frequencies.value
            widths = layer.pooling_widths.value
        n_all = layer.n_filters
        h = jnp.zeros((n_all, size), "complex64")  # y = x * h on the pooling grid
        h = h.at[:, (2 * before - np.arange(taps)) % size].set(
            kernels[:n_all] + 1j * kernels[n_all:]
        )
        response = jnp.fft.fft(h, axis=-1)
        spectrum = jnp.fft.fft(x, size, axis=-1)
        u = filters.gaussian_pooling_axis(taps)
        out = []
        for s, members in sorted(self.groups.items()):
            which = np.array([m[0] for m in members])
            half, points, step = max(m[1] for m in members), size // s, stride // s
            if s == 1:  # every bin, as the exact layer
                y = jnp.fft.ifft(spectrum[:, None] * response[which][None], axis=-1)
            else:
                centre = -jnp.round(centres[which] * size / (2 * np.pi)).astype("int32")
                index = (centre[:, None] - half + jnp.arange(2 * half)[None]) % size  # (g, 2 W)
                signed = jnp.where(index > size // 2, index - size, index)
                kept = jnp.take_along_axis(response[which], index, axis=1)
                kept = kept * jnp.exp(2j * jnp.pi * signed * ((s - 1) / 2) / size)  # cell centres
                band = spectrum[:, index] * kept[None]  # (batch, g, 2 W)
                folded = jnp.zeros((batch, len(which), points), "complex64")
                folded = folded.at[:, :, np.arange(2 * half) % points].add(band)
                y = jnp.fft.ifft(folded, axis=-1) * (points / size)
            cells = np.arange(points) * s
            inside = np.minimum(cells + s, before + samples) - np.maximum(cells, before)
            e = (jnp.real(y) ** 2 + jnp.imag(y) ** 2) * (np.clip(inside, 0, s) / s)
            pooling = jnp.exp(-0.5 * (u[None] / widths[which, None]) ** 2)
            pooling = jnp.pad(pooling, ((0, 0), (0, -taps % s))).reshape(len(which), -1, s)
            pooling = pooling.sum(-1)  # (g, cells)
            blocks = -(-pooling.shape[1] // step)
            pooling = jnp.pad(pooling, ((0, 0), (0, blocks * step - pooling.shape[1])))
            pooling = pooling.reshape(len(which), blocks, step).transpose(0, 2, 1)
            rows = frames + blocks - 1
            e = e[..., : rows * step].reshape(batch, len(which), rows, step)
            products = jnp.einsum("bgrs,gsk->bgrk", e, pooling)
            out.append(sum(products[:, :, k : k + frames, k] for k in range(blocks)))
        return jnp.concatenate(out, axis=1).transpose(0, 2, 1)


def median_ms(fn, *args):
    _, times = timed(lambda: fn(*args), jax.block_until_ready, warmup=2, repeats=5)
    return round(1e3 * float(np.median(times)), 1)


def main():
    layer = LEAF(n_filters=N_FILTERS, sample_rate=SR, compression=None)
    layer.build((None, SAMPLES))
    values = [v.value for v in layer.trainable_variables]
    inputs = signals()
    exact = {name: np.asarray(layer._pooled_energies(x)) for name, x in inputs.items()}
    print("| full_edge | full-rate filters | k_main | c | work / exact | speech band | "
          "speech features | noise band | noise features |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for full_edge, k_main, c in SETTINGS:
        decimated = Decimated(layer, full_edge, k_main, c)
        row = [f"{full_edge:g}", f"{len(decimated.groups.get(1, []))}/{N_FILTERS}", f"{k_main}",
               f"{c}", f"{decimated.work():.2f}"]  # fmt: skip
        for name, x in inputs.items():
            reference = exact[name][..., decimated.order]
            diff = np.abs(np.asarray(decimated(values, x)) - reference)
            band = (diff.max(axis=1) / np.abs(reference).max(axis=1)).max()
            row += [f"{band:.1e}", f"{(diff / (1.0 + np.abs(reference).max())).max():.1e}"]
        print("| " + " | ".join(row) + " |", flush=True)

    x = jnp.asarray(np.random.default_rng(0).standard_normal((32, SAMPLES)) * 0.1, "float32")

    def exact_loss(values, x):
        with keras.StatelessScope(state_mapping=list(zip(layer.trainable_variables, values))):
            return jnp.sum(jnp.log1p(layer._pooled_energies(x)))

    exact_ms = median_ms(jax.jit(jax.grad(exact_loss)), values, x)
    for full_edge in (1.0, 1e-2):
        decimated = Decimated(layer, full_edge, 4, 2)
        grad = jax.jit(jax.grad(lambda v, x, d=decimated: jnp.sum(jnp.log1p(d(v, x)))))
        print(f"full_edge {full_edge:g}: forward+backward, compiled, 32 x 1 s: decimated "
              f"{median_ms(grad, values, x)} ms, exact {exact_ms} ms")  # fmt: skip


if __name__ == "__main__":
    main()
