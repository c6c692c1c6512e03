"""The per-backend side of `audiofront.bench`: one process, one backend, one device.

    python -m audiofront._bench_worker SPEC.json OUT.json

``backend`` in the spec is ``jax``, ``torch``, ``tensorflow`` (KERAS_BACKEND is set to it)
or ``numpy`` (librosa only, no Keras). Every measurement materialises its result before
the clock stops; the first call of a compiled function is timed apart as compile time.
"""

import json
import os
import statistics
import sys
import time
import traceback

import numpy as np


def _timed(fn, sync, warmup, repeats):
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


def _record(spec, implementation, mode, pass_, first, times, device):
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


# ------------------------------------------------------------------ backend glue


class Backend:
    """Compile, sync, gradient and device handling for one backend."""

    def __init__(self, name, device):
        self.name = name
        self.want_gpu = device == "gpu"
        if name == "jax":
            import jax

            self.jax = jax
            self.device = "gpu" if any(d.platform == "gpu" for d in jax.devices()) else "cpu"
        elif name == "torch":
            import torch

            self.torch = torch
            self.device = "gpu" if torch.cuda.is_available() else "cpu"
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        elif name == "tensorflow":
            import tensorflow as tf

            self.tf = tf
            self.device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
        else:
            self.device = "cpu"

    def tensor(self, x):
        if self.name == "jax":
            return self.jax.device_put(x)
        if self.name == "torch":
            t = self.torch.from_numpy(np.ascontiguousarray(x))
            return t.cuda() if self.device == "gpu" else t
        if self.name == "tensorflow":
            return self.tf.convert_to_tensor(x)
        return x

    def sync(self, out):
        leaves = out if isinstance(out, (tuple, list)) else [out]
        if self.name == "jax":
            self.jax.block_until_ready(leaves)
        elif self.name == "torch":
            if self.device == "gpu":
                self.torch.cuda.synchronize()
        elif self.name == "tensorflow" and self.device == "gpu":
            for leaf in leaves:  # GPU kernels run asynchronously; CPU eager ops do not
                leaf.numpy()
        return out

    def compile(self, fn):
        if self.name == "jax":
            return self.jax.jit(fn)
        if self.name == "tensorflow":
            return self.tf.function(fn, jit_compile=True)
        if self.name == "torch":
            return self.torch.compile(fn)
        return fn


def _keras_grad_fn(backend, layer):
    """A function x -> gradients of sum(layer(x)) w.r.t. the layer's trainable weights."""
    if backend.name == "jax":
        jax = backend.jax
        non_trainable = [v.value for v in layer.non_trainable_variables]
        trainable = [v.value for v in layer.trainable_variables]

        def loss(weights, x):
            out, _ = layer.stateless_call(weights, non_trainable, x)
            return out.sum()

        grad = jax.grad(loss)
        return lambda x: grad(trainable, x)
    if backend.name == "tensorflow":
        tf = backend.tf

        def grads(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(layer(x))
            return tape.gradient(loss, [v.value for v in layer.trainable_variables])

        return grads

    def grads(x):
        for v in layer.trainable_variables:
            v.value.grad = None
        layer(x).sum().backward()
        return [v.value.grad for v in layer.trainable_variables]

    return grads


def _torch_grad_fn(fn, parameters):
    params = [p for p in parameters if p.requires_grad]

    def grads(x):
        for p in params:
            p.grad = None
        fn(x).sum().backward()
        return [p.grad for p in params]

    return grads


# ------------------------------------------------------------------ implementations


def _mel_matrix(spec):
    from audiofront import filters

    return filters.mel_filterbank(spec["sample_rate"], spec["n_fft"], spec["n_mels"]).T.astype(
        np.float32
    )


def _window(spec):
    from audiofront import filters

    return filters.get_window("hann", spec["n_fft"]).astype(np.float32)


def _is_mel(spec):
    return spec["layer"] == "MelSpectrogram"


def native_chain(backend, spec):
    """The backend's own FFT chain: frames, rfft, |.|^2, mel matmul, dB (no Keras)."""
    n_fft, hop, decibel = spec["n_fft"], spec["hop_length"], spec["decibel"]
    mel = _mel_matrix(spec) if _is_mel(spec) else None
    if backend.name == "torch":
        torch = backend.torch
        window = torch.from_numpy(_window(spec)).to("cuda" if backend.device == "gpu" else "cpu")
        melt = None if mel is None else torch.from_numpy(mel).to(window.device)

        def fn(x):
            s = torch.stft(
                x, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True
            )
            p = s.real.square() + s.imag.square()  # (batch, bins, frames)
            p = p.transpose(1, 2)
            if melt is not None:
                p = p @ melt
            if decibel:
                db = 10 * torch.log10(torch.clamp(p, min=1e-10))
                return torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80.0)
            return p

        return "native:torch.stft", fn
    if backend.name == "tensorflow":
        tf = backend.tf
        melt = None if mel is None else tf.constant(mel)

        def fn(x):
            x = tf.pad(x, [[0, 0], [n_fft // 2, n_fft // 2]])
            s = tf.signal.stft(
                x, n_fft, hop, fft_length=n_fft, window_fn=tf.signal.hann_window, pad_end=False
            )
            p = tf.math.real(s) ** 2 + tf.math.imag(s) ** 2
            if melt is not None:
                p = tf.matmul(p, melt)
            if decibel:
                db = 10.0 * tf.math.log(tf.maximum(p, 1e-10)) / np.log(10.0)
                return tf.maximum(db, tf.reduce_max(db, axis=(1, 2), keepdims=True) - 80.0)
            return p

        return "native:tf.signal.stft", fn
    jnp = backend.jax.numpy
    window = jnp.asarray(_window(spec))
    melt = None if mel is None else jnp.asarray(mel)

    def fn(x):
        x = jnp.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)))
        frames = 1 + (x.shape[1] - n_fft) // hop
        index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
        s = jnp.fft.rfft(x[:, index] * window, axis=-1)
        p = s.real**2 + s.imag**2
        if melt is not None:
            p = p @ melt
        if decibel:
            db = 10 * jnp.log10(jnp.maximum(p, 1e-10))
            return jnp.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
        return p

    return "native:jnp.fft.rfft", fn


def keras_builtin(spec):
    import keras

    if _is_mel(spec):
        layer = keras.layers.MelSpectrogram(
            fft_length=spec["n_fft"],
            sequence_stride=spec["hop_length"],
            sampling_rate=spec["sample_rate"],
            num_mel_bins=spec["n_mels"],
            min_freq=0.0,
            power_to_db=spec["decibel"],
            top_db=80.0,
        )
        return "keras.layers.MelSpectrogram", layer
    layer = keras.layers.STFTSpectrogram(
        mode="magnitude",
        frame_length=spec["n_fft"],
        frame_step=spec["hop_length"],
        fft_length=spec["n_fft"],
    )
    return "keras.layers.STFTSpectrogram", layer


def audiofront_layer(spec, trainable):
    import audiofront

    common = dict(n_fft=spec["n_fft"], hop_length=spec["hop_length"])
    extra = dict(spec.get("params", {}))
    layer = spec["layer"]
    if layer == "MelSpectrogram":
        kw = dict(sample_rate=spec["sample_rate"], n_mels=spec["n_mels"], decibel=spec["decibel"])
        if trainable:
            kw.update(trainable_kernel=True, trainable_filterbank=True)
        return audiofront.MelSpectrogram(**common, **kw, **extra)
    if layer == "Spectrogram":
        return audiofront.Spectrogram(
            **common, decibel=spec["decibel"], trainable_kernel=trainable, **extra
        )
    if layer == "STFT":
        return audiofront.STFT(**common, mode="power", trainable=trainable, **extra)
    raise ValueError(f"bench supports STFT, Spectrogram and MelSpectrogram; got {layer}")


def nnaudio_module(backend, spec, trainable):
    import nnAudio.features as features

    device = "cuda" if backend.device == "gpu" else "cpu"
    kwargs = dict(
        n_fft=spec["n_fft"],
        hop_length=spec["hop_length"],
        center=True,
        pad_mode="constant",
        verbose=False,
    )
    if _is_mel(spec):
        m = features.MelSpectrogram(
            sr=spec["sample_rate"],
            n_mels=spec["n_mels"],
            trainable_mel=trainable,
            trainable_STFT=trainable,
            **kwargs,
        )
    else:
        m = features.STFT(output_format="Magnitude", trainable=trainable, **kwargs)
    m = m.to(device)
    if spec["decibel"] and _is_mel(spec):
        torch = backend.torch

        def fn(x):
            db = 10 * torch.log10(torch.clamp(m(x), min=1e-10))
            return torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80.0)

        return fn, m
    return m, m


# ------------------------------------------------------------------ the run


def measure(spec):
    backend = Backend(spec["backend"], spec["device"])
    device = backend.device
    if spec["device"] == "gpu" and device != "gpu":
        return [], [f"{spec['backend']}: no GPU visible"]
    x_np = (
        np.random.default_rng(0)
        .standard_normal((spec["batch"], spec["samples"]))
        .astype(np.float32)
        * 0.1
    )
    warmup, repeats = spec["warmup"], spec["repeats"]
    modes = ["eager", "compiled"] if spec["compile"] else ["eager"]
    records, notes = [], []

    def add(implementation, mode, pass_, fn, x):
        try:
            first, times = _timed(lambda: fn(x), backend.sync, warmup, repeats)
            records.append(_record(spec, implementation, mode, pass_, first, times, device))
        except Exception as error:  # noqa: BLE001 - a failed peer is a note, not a crash
            notes.append(
                f"{spec['backend']} {implementation} {mode} {pass_}: {type(error).__name__}: {str(error)[:300]}"
            )
            traceback.print_exc(file=sys.stderr)

    if spec["backend"] == "numpy":
        if spec["peers"]:
            try:
                import librosa
            except ImportError:
                return records, ["librosa not installed"]

            def librosa_fn(x):
                kw = dict(
                    n_fft=spec["n_fft"],
                    hop_length=spec["hop_length"],
                    center=True,
                    pad_mode="constant",
                )
                if _is_mel(spec):
                    s = librosa.feature.melspectrogram(
                        y=x, sr=spec["sample_rate"], n_mels=spec["n_mels"], **kw
                    )
                else:
                    s = np.abs(librosa.stft(x, **kw)) ** 2
                return librosa.power_to_db(s, top_db=80.0) if spec["decibel"] else s

            add("librosa", "eager", "forward", librosa_fn, x_np)
        return records, notes

    x = backend.tensor(x_np)
    # audiofront, forward
    for mode in modes:
        layer = audiofront_layer(spec, trainable=False)
        layer(x)
        add(
            f"audiofront:{spec['layer']}",
            mode,
            "forward",
            backend.compile(layer) if mode == "compiled" else layer,
            x,
        )
    if spec["backward"]:
        for mode in modes:
            layer = audiofront_layer(spec, trainable=True)
            layer(x)
            grad = _keras_grad_fn(backend, layer)
            add(
                f"audiofront:{spec['layer']}",
                mode,
                "backward",
                backend.compile(grad) if mode == "compiled" else grad,
                x,
            )
    if not spec["peers"]:
        return records, notes
    # The backend's native chain and Keras's own layer.
    name, chain = native_chain(backend, spec)
    for mode in modes:
        add(name, mode, "forward", backend.compile(chain) if mode == "compiled" else chain, x)
    try:
        name, builtin = keras_builtin(spec)
        builtin(x)
        for mode in modes:
            add(
                name,
                mode,
                "forward",
                backend.compile(builtin) if mode == "compiled" else builtin,
                x,
            )
    except Exception as error:  # noqa: BLE001
        notes.append(f"keras built-in: {error}")
    if spec["backend"] == "torch":
        try:
            fn, module = nnaudio_module(backend, spec, trainable=False)
            add("nnAudio", "eager", "forward", fn, x)
            if spec["backward"]:
                fn, module = nnaudio_module(backend, spec, trainable=True)
                add("nnAudio", "eager", "backward", _torch_grad_fn(fn, module.parameters()), x)
        except ImportError:
            notes.append("nnAudio not installed")
    if spec["backend"] == "tensorflow":
        try:
            import kapre  # noqa: F401
            from kapre.composed import get_melspectrogram_layer, get_stft_magnitude_layer

            shape = (spec["samples"], 1)
            if _is_mel(spec):
                kl = get_melspectrogram_layer(
                    input_shape=shape,
                    n_fft=spec["n_fft"],
                    hop_length=spec["hop_length"],
                    sample_rate=spec["sample_rate"],
                    n_mels=spec["n_mels"],
                    return_decibel=spec["decibel"],
                    pad_end=False,
                )
            else:
                kl = get_stft_magnitude_layer(
                    input_shape=shape,
                    n_fft=spec["n_fft"],
                    hop_length=spec["hop_length"],
                    return_decibel=spec["decibel"],
                )
            x3 = backend.tensor(x_np[..., None])
            kl(x3)
            add("kapre", "eager", "forward", kl, x3)
        except ImportError:
            notes.append("kapre not installed (it needs keras<3.14: use a peers-only environment)")
    return records, notes


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_memory(spec):
    """Peak resident memory of one eager forward call, above the process's baseline.

    A fresh process per implementation (``spec["memory"]``: ``"audiofront"`` or
    ``"native"``). glibc is told to serve every allocation of 64 KiB or more with its own
    ``mmap`` (so freed buffers leave the resident set and each call's allocations show in
    it); one untimed call builds and compiles what it needs, on the full batch (JAX compiles
    each eager op per shape) or, on TensorFlow, whose CPU allocator keeps what it once
    reserved, on one second; then a thread samples the resident set every 0.2 ms during
    a call on the full batch. Baseline: the resident set just before that call
    (framework, kernels and input loaded). Linux only.
    """
    import ctypes
    import gc
    import threading

    ctypes.CDLL("libc.so.6").mallopt(-3, 65536)  # M_MMAP_THRESHOLD
    backend = Backend(spec["backend"], spec["device"])
    rng = np.random.default_rng(0)
    if spec["memory"] == "audiofront":
        implementation = f"audiofront:{spec['layer']}"
        fn = audiofront_layer(spec, trainable=False)
    else:
        implementation, fn = native_chain(backend, spec)
    x = backend.tensor(rng.standard_normal((spec["batch"], spec["samples"])).astype(np.float32))
    warm = x[:1, : spec["sample_rate"]] if spec["backend"] == "tensorflow" else x
    backend.sync(fn(warm))
    gc.collect()
    baseline = peak = _rss_bytes()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out = fn(x)
    backend.sync(out)
    done.set()
    sampler.join()
    out_bytes = int(np.prod(out.shape)) * 4
    io_bytes = 4 * spec["batch"] * spec["samples"] + out_bytes
    return {
        "backend": spec["backend"],
        "device": backend.device,
        "implementation": implementation,
        "layer": spec["layer"],
        "mode": "eager",
        "pass": "memory",
        "workload": spec["workload"],
        "peak_mb": (peak - baseline) / 1e6,
        "io_mb": io_bytes / 1e6,
        "x_io": (peak - baseline) / io_bytes,
    }


def versions():
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("keras", "jax", "torch", "tensorflow", "librosa", "nnAudio", "kapre"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001
            pass
    return out


def main(argv):
    with open(argv[0]) as f:
        spec = json.load(f)
    if spec["backend"] != "numpy":
        import keras  # noqa: F401  (KERAS_BACKEND is set by the caller)
    if spec.get("memory"):
        records, notes = [measure_memory(spec)], []
    else:
        records, notes = measure(spec)
    if spec.get("overhead"):
        from audiofront import bench

        records += bench.overhead_experiment(spec)
    with open(argv[1], "w") as f:
        json.dump({"records": records, "notes": notes, "versions": versions()}, f)


if __name__ == "__main__":
    main(sys.argv[1:])
