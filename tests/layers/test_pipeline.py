"""The whole front-end in a model: every random layer (RandomGain, Reverb, BandPassFilter,
BackgroundNoise, AdditiveNoise) -> MelSpectrogram -> Normalization2D -> SpecAugment -> conv
net, trained with fit(jit_compile=True) on real speech, on every backend.

Under torch, compiling that whole model takes about ten minutes on the 2-core CI machine
(dynamo traces Keras's Python for each op, twice, since Keras's ``loss.backward()`` breaks
the graph): there the whole pipeline is a ``full`` test (``nox -s "tests(torch)" -- -m full``)
and CI compiles a lean one, RandomGain -> MelSpectrogram -> a dense head (77 s cold on 2
cores; with SpecAugment too, 207 s). Every random layer's compiled training call, SpecAugment's
included, is checked apart under torch.compile, with no graph break, in test_simulation.py."""

import keras
import numpy as np
import pytest

from audiofront import (
    AdditiveNoise,
    BackgroundNoise,
    BandPassFilter,
    MelSpectrogram,
    Normalization2D,
    RandomGain,
    Reverb,
    SpecAugment,
)
from audiofront.testing import to_numpy
from audiofront.tools import datasets

SAMPLES = 6000  # 0.75 s at 8 kHz


def fsdd_subset(n=48):
    try:
        files = datasets.fsdd_files(split="train")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    files = files[:: max(1, len(files) // n)][:n]
    x = np.zeros((len(files), SAMPLES), "float32")
    for i, (path, *_rest) in enumerate(files):
        y, _ = datasets.load_wav(path)
        x[i, : min(SAMPLES, len(y))] = y[:SAMPLES]
    return x, np.array([digit for _path, digit, *_rest in files])


def pipeline(which="every"):
    """'every': every random layer and a conv net; 'lean': RandomGain -> MelSpectrogram -> a
    dense head."""
    keras.utils.set_random_seed(0)
    babble = np.random.default_rng(0).standard_normal((3, 2000)).astype("float32")
    simulation = [
        RandomGain(seed=2, probability=0.8),
        Reverb(rt60=(0.1, 0.3), sample_rate=8000, seed=3, probability=0.5),
        BandPassFilter(sample_rate=8000, low_hz=(50.0, 300.0), high_hz=(2000.0, 3500.0), seed=4),
        BackgroundNoise(babble, snr_db=(10.0, 30.0), seed=5, probability=0.5),
        AdditiveNoise(snr_db=(10.0, 30.0), noise="pink", seed=0),
    ]
    mel = MelSpectrogram(
        sample_rate=8000,
        n_fft=256,
        hop_length=128,
        n_mels=32,
        decibel=True,
        trainable_filterbank=True,
    )
    spec_augment = SpecAugment(freq_mask_param=6, time_mask_param=8, seed=1)
    if which == "lean":
        layers = [RandomGain(seed=2), mel]
        head = [keras.layers.GlobalAveragePooling2D()]
    else:
        layers = [*simulation, mel, Normalization2D(axis="freq"), spec_augment]
        head = [
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    return keras.Sequential([keras.Input(shape=(SAMPLES,)), *layers, *head, keras.layers.Dense(10)])


def train(model, x, y, jit_compile):
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model.fit(x, y, epochs=3, batch_size=16, verbose=0)


TORCH = keras.backend.backend() == "torch"


@pytest.mark.slow
@pytest.mark.parametrize(
    "which",
    [
        pytest.param("every", marks=[pytest.mark.full] if TORCH else []),
        pytest.param("lean", marks=[] if TORCH else [pytest.mark.skip(reason="'every' covers it")]),
    ],
)
def test_augmented_pipeline_trains_with_jit_compile_and_predicts_deterministically(tmp_path, which):
    """fit(jit_compile=True) on every backend (torch.compile included) with every random
    layer in the model; the counters moved once per step; predictions deterministic."""
    x, y = fsdd_subset()
    model = pipeline(which)
    history = train(model, x, y, jit_compile=True)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(to_numpy(w))) for w in model.weights)
    counters = {int(to_numpy(layer.counter)) for layer in model.layers if hasattr(layer, "counter")}
    assert counters == {3 * len(x) // 16}, counters  # 3 epochs of batches of 16
    # At inference the random layers are the identity: the same predictions every call, and
    # after a save and reload (eager calls: fit's compile is the one under test here).
    first = to_numpy(model(x, training=False))
    np.testing.assert_array_equal(to_numpy(model(x, training=False)), first)
    model.save(tmp_path / "pipeline.keras")
    loaded = keras.saving.load_model(tmp_path / "pipeline.keras")
    np.testing.assert_allclose(to_numpy(loaded(x, training=False)), first, rtol=1e-5, atol=1e-5)
