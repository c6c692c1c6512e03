"""Experiments beyond single-layer timings, run inside a bench worker (one backend)."""

import sys

import numpy as np

from audiofront.tools.bench.timing import record, timed
from audiofront.tools.progress import PROGRESS

__all__ = ["overhead_experiment", "streaming_experiment"]


def _front_end(spec, trainable):
    import audiofront

    return audiofront.MelSpectrogram(
        sample_rate=spec["sample_rate"],
        n_fft=spec["n_fft"],
        hop_length=spec["hop_length"],
        n_mels=spec["n_mels"],
        decibel=True,
        trainable_kernel=trainable,
        trainable_filterbank=trainable,
    )


def _convnet(inputs):
    """The Kapre paper's Table 1 convnet."""
    import keras

    h = keras.layers.Conv2D(64, (20, 3), strides=2, activation="relu")(inputs)
    for _ in range(4):
        h = keras.layers.Conv2D(64, (3, 3), strides=2, activation="relu", padding="same")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.layers.Dense(88, activation="softmax")(h)


def overhead_experiment(spec):
    """The Kapre paper's experiment: the Table 1 convnet trained on precomputed dB mel
    spectrograms versus on raw audio with the front-end inside (frozen, then trainable).

    Returns ``train_step`` records; each one's ``overhead`` is the ratio of its median to
    the precomputed variant's, minus one.
    """
    import keras

    from audiofront.tools import backend

    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((spec["batch"], spec["samples"]))).astype("float32")
    y = rng.integers(0, 88, spec["batch"])
    features = keras.ops.convert_to_numpy(_front_end(spec, False)(x))
    variants = {
        "precomputed": (features, None),
        "frontend-frozen": (x, False),
        "frontend-trainable": (x, True),
    }
    jit = spec["backend"] != "torch"
    records = []
    for name, (data, trainable) in variants.items():
        print(f"{PROGRESS} kapre-overhead {name} train step", file=sys.stderr, flush=True)
        keras.utils.set_random_seed(0)
        inputs = keras.Input(shape=data.shape[1:])
        outputs = _convnet(inputs if trainable is None else _front_end(spec, trainable)(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        first, times = timed(
            lambda m=model, d=data: m.train_on_batch(d, y),
            lambda out: out,
            spec["warmup"],
            spec["repeats"],
        )
        mode = "compiled" if jit else "eager"
        entry = record(spec, f"kapre-overhead:{name}", mode, "train_step", first, times,
                       backend.device_kind())  # fmt: skip
        entry["layer"] = "MelSpectrogram"
        records.append(entry)
    base = records[0]["median_ms"]
    for r in records:
        r["overhead"] = r["median_ms"] / base - 1.0
    return records


def _streaming_model(spec):
    """One microphone's front-end: a stateful mel spectrogram (power) and PCEN."""
    import keras

    import audiofront

    hop = spec["hop_length"]
    inputs = keras.Input(batch_shape=(1, hop))
    mel = audiofront.MelSpectrogram(
        sample_rate=spec["sample_rate"],
        n_fft=spec["n_fft"],
        hop_length=hop,
        n_mels=spec["n_mels"],
        center=False,
        stateful=True,
    )(inputs)
    outputs = audiofront.PCEN(sample_rate=spec["sample_rate"], hop_length=hop, stateful=True)(mel)
    return keras.Model(inputs, outputs)


def streaming_experiment(spec):
    """Streaming latency: chunks of one hop (10 ms on the speech workload) of one example
    through a stateful `MelSpectrogram` and `PCEN`, called eagerly and through
    ``predict_on_batch`` of the model compiled with ``jit_compile=True``.

    Returns ``stream_chunk`` records; each one's ``real_time`` is its median over the
    chunk's duration (below 1: faster than the audio arrives).
    """
    from audiofront.tools import backend

    hop, rate = spec["hop_length"], spec["sample_rate"]
    chunk = (0.1 * np.random.default_rng(0).standard_normal((1, hop))).astype("float32")
    records = []
    for mode in ("eager", "compiled"):
        print(f"{PROGRESS} streaming {mode}: chunks of {hop} samples", file=sys.stderr, flush=True)
        model = _streaming_model(spec)
        if mode == "compiled":
            model.compile(jit_compile=True)
            call = lambda m=model: m.predict_on_batch(chunk)  # noqa: E731
        else:
            call = lambda m=model: m(chunk)  # noqa: E731
        first, times = timed(call, backend.sync, spec["warmup"], spec["repeats"])
        entry = record(spec, "streaming:MelSpectrogram+PCEN", mode, "stream_chunk", first,
                       times, backend.device_kind())  # fmt: skip
        entry["layer"] = "MelSpectrogram"
        entry["chunk_ms"] = 1e3 * hop / rate
        entry["real_time"] = entry["median_ms"] / entry["chunk_ms"]
        records.append(entry)
    return records
