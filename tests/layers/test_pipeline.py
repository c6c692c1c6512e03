"""The whole front-end in a model: AdditiveNoise -> MelSpectrogram -> Normalization2D ->
SpecAugment -> conv net, trained with a compiled step on real speech."""

import keras
import numpy as np
import pytest

from audiofront import AdditiveNoise, MelSpectrogram, Normalization2D, SpecAugment
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


def pipeline():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(SAMPLES,)),
            AdditiveNoise(snr_db=(10.0, 30.0), noise="pink", seed=0),
            MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                hop_length=128,
                n_mels=32,
                decibel=True,
                trainable_filterbank=True,
            ),
            Normalization2D(axis="freq"),
            SpecAugment(freq_mask_param=6, time_mask_param=8, seed=1),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )


BACKEND = keras.backend.backend()


def train(model, x, y, jit_compile):
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model.fit(x, y, epochs=3, batch_size=16, verbose=0)


@pytest.mark.slow
def test_augmented_pipeline_trains_compiled_and_predicts_deterministically(tmp_path):
    """XLA-compiled steps on JAX and TensorFlow; Keras's default (eager) step under torch."""
    x, y = fsdd_subset()
    model = pipeline()
    history = train(model, x, y, jit_compile=BACKEND != "torch")
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(to_numpy(w))) for w in model.weights)
    first = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), first)
    np.testing.assert_allclose(to_numpy(model(x, training=False)), first, rtol=1e-4, atol=1e-4)
    # Saved and reloaded, the augmented model predicts the same.
    model.save(tmp_path / "pipeline.keras")
    loaded = keras.saving.load_model(tmp_path / "pipeline.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), first, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "torch", reason="a torch.compile workaround")
def test_augmented_pipeline_under_torch_compile_with_static_shapes():
    """Keras wraps its torch seed generator in torch.compiler.disable, so every random
    draw splits the compiled graph; torch 2.13's inductor can then fail on the dynamic
    shapes it infers for the pieces. With automatic dynamic shapes off it trains."""
    import torch._dynamo

    x, y = fsdd_subset()
    previous = torch._dynamo.config.automatic_dynamic_shapes
    torch._dynamo.config.automatic_dynamic_shapes = False
    try:
        history = train(pipeline(), x, y, jit_compile=True)
    finally:
        torch._dynamo.config.automatic_dynamic_shapes = previous
    assert np.all(np.isfinite(history.history["loss"]))
