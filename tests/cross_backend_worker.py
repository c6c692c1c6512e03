"""Worker for test_cross_backend.py: one process, one backend (KERAS_BACKEND).

    python cross_backend_worker.py create DIR   build, train one step and save each model
                                                as DIR/<backend>/<name>.keras

The input batch is DIR/input.npy. Loading and comparing is audiofront.parity's job.
"""

import os
import sys
from pathlib import Path

import keras  # noqa: E402  (after numpy; the backend comes from KERAS_BACKEND)
import numpy as np

import audiofront as af  # noqa: E402

BACKEND = keras.backend.backend()
SAMPLES = 4000


def front_ends():
    """Name -> (input shape without batch, function building the output tensors)."""
    return {
        "stft_complex": (
            (SAMPLES,),
            lambda x: list(af.STFT(n_fft=512, hop_length=128, mode="complex", trainable=True)(x)),
        ),
        "spectrogram_db_reflect": (
            (SAMPLES,),
            lambda x: af.Spectrogram(
                n_fft=400,
                hop_length=160,
                pad_mode="reflect",
                power=1.0,
                decibel=True,
                trainable_kernel=True,
            )(x),
        ),
        "mel_db_trainable": (
            (SAMPLES,),
            lambda x: af.MelSpectrogram(
                sample_rate=8000,
                n_fft=512,
                hop_length=128,
                n_mels=40,
                decibel=True,
                trainable_kernel=True,
                trainable_filterbank=True,
            )(x),
        ),
        "mel_stereo_channels_first": (
            (2, SAMPLES),
            lambda x: af.MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                hop_length=100,
                n_mels=32,
                power=1.0,
                htk=True,
                center=False,
                data_format="channels_first",
                trainable_filterbank=True,
            )(x),
        ),
        "chain_log_filterbank_db": (
            (SAMPLES, 2),
            lambda x: af.Decibel(ref="max", top_db=60.0)(
                af.Filterbank(
                    kind="log", n_filters=24, sample_rate=8000, n_fft=512, fmin=60.0, trainable=True
                )(af.STFT(n_fft=512, hop_length=256, mode="power")(x))
            ),
        ),
        "augmented_normalized": (
            (SAMPLES,),
            lambda x: af.SpecAugment(freq_mask_param=8, time_mask_param=10, seed=1)(
                af.Normalization2D(axis="freq")(
                    af.MelSpectrogram(
                        sample_rate=8000,
                        n_fft=512,
                        hop_length=128,
                        n_mels=40,
                        decibel=True,
                        trainable_filterbank=True,
                    )(af.AdditiveNoise(snr_db=(10.0, 20.0), noise="pink", seed=0)(x))
                )
            ),
        ),
        "mel_frozen": (
            (SAMPLES,),
            lambda x: af.MelSpectrogram(
                sample_rate=8000, n_fft=1024, hop_length=256, n_mels=64, window="hamming"
            )(x),
        ),
    }


def shaped_input(batch, shape):
    if shape == (2, SAMPLES):
        return batch.reshape(-1, 2, SAMPLES)
    if shape == (SAMPLES, 2):
        return np.transpose(batch.reshape(-1, 2, SAMPLES), (0, 2, 1)).copy()
    return batch


def create(directory):
    batch = np.load(directory / "input.npy")
    out_dir = directory / BACKEND
    out_dir.mkdir(exist_ok=True)
    for name, (shape, build) in front_ends().items():
        keras.utils.set_random_seed(0)
        inputs = keras.Input(shape=shape)
        model = keras.Model(inputs, build(inputs))
        x = shaped_input(batch, shape)
        if model.trainable_weights:
            # One training step, so that trained (not initial) weights travel between backends.
            targets = [np.zeros(o.shape, "float32") for o in keras.tree.flatten(model(x))]
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=["mse"] * len(targets))
            model.fit(
                x,
                targets if len(targets) > 1 else targets[0],
                epochs=1,
                batch_size=len(x),
                verbose=0,
            )
        model.save(out_dir / f"{name}.keras")


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    assert os.environ.get("KERAS_BACKEND") == BACKEND, (os.environ.get("KERAS_BACKEND"), BACKEND)
    assert command == "create", command
    create(directory)
