"""Worker for test_cross_backend.py: one process, one backend (KERAS_BACKEND).

    python cross_backend_worker.py create DIR   build, train one step and save each model
                                                as DIR/<backend>/<name>.keras, its input
                                                as DIR/inputs/<name>.npz
    python cross_backend_worker.py draws DIR    two training calls of every augmentation
                                                case, as DIR/draws-<backend>.npz

The models: one per public layer, from the case table's "parity" rows (tools/cases.py),
and two chains of layers. The waveforms are DIR/input.npy. Loading and comparing is
audiofront.tools.parity's job.
"""

import os
import sys
from pathlib import Path

import keras  # noqa: E402  (after numpy; the backend comes from KERAS_BACKEND)
import numpy as np

import audiofront as af  # noqa: E402
from audiofront.catalog import LAYERS
from audiofront.tools import signals
from audiofront.tools.cases import CASES, tagged

BACKEND = keras.backend.backend()
SAMPLE_RATE = 8000


def chains():
    """Name -> (input shape without batch, function building the output tensors)."""
    return {
        "chain_log_filterbank_db": (
            (4000, 2),
            lambda x: af.Decibel(ref="max", top_db=60.0)(
                af.Filterbank(
                    kind="log", n_filters=24, sample_rate=8000, n_fft=512, fmin=60.0, trainable=True
                )(af.STFT(n_fft=512, hop_length=256, mode="power")(x))
            ),
        ),
        "augmented_normalized": (
            (4000,),
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
    }


def models(waves):
    """Name -> (input, function building the outputs) for every model this worker saves."""
    out = {}
    for case in tagged("parity"):
        params = dict(case.params)
        if LAYERS[case.layer].sample_rate:
            params.setdefault("sample_rate", SAMPLE_RATE)
        x = signals.layer_input(case.layer, params, waves, SAMPLE_RATE, case.takes)
        layer_cls = getattr(af, case.layer)
        out[case.layer] = (x, lambda inputs, c=layer_cls, p=params: c(**p)(inputs))
    stereo = np.ascontiguousarray(np.transpose(waves.reshape(-1, 2, waves.shape[1]), (0, 2, 1)))
    for name, (shape, build) in chains().items():
        out[name] = (stereo if len(shape) == 2 else waves, build)
    return out


def create(directory):
    waves = np.load(directory / "input.npy")
    out_dir = directory / BACKEND
    out_dir.mkdir(exist_ok=True)
    (directory / "inputs").mkdir(exist_ok=True)
    for name, (x, build) in models(waves).items():
        keras.utils.set_random_seed(0)
        inputs = keras.tree.map_structure(lambda v: keras.Input(shape=v.shape[1:]), x)
        outputs = build(inputs)
        model = keras.Model(inputs, list(outputs) if isinstance(outputs, tuple) else outputs)
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
        np.savez(directory / "inputs" / f"{name}.npz", *keras.tree.flatten(x))


def draws(directory):
    """Every augmentation case of the table, built with its seed, called twice in training
    on the same FSDD input: what the same seed must give on every backend."""
    waves = np.load(directory / "input.npy")
    stereo = np.ascontiguousarray(np.transpose(waves.reshape(-1, 2, waves.shape[1]), (0, 2, 1)))
    out = {}
    for case in CASES:
        if not LAYERS[case.layer].augments:
            continue
        params = dict(case.params)
        if LAYERS[case.layer].sample_rate:
            params.setdefault("sample_rate", SAMPLE_RATE)
        source = stereo if case.channels else waves
        x = signals.layer_input(case.layer, params, source, SAMPLE_RATE, case.takes)
        layer = getattr(af, case.layer)(**params)
        for call in range(2):
            out[f"{case.id}/{call}"] = keras.ops.convert_to_numpy(layer(x, training=True))
    np.savez(directory / f"draws-{BACKEND}.npz", **out)


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    assert os.environ.get("KERAS_BACKEND") == BACKEND, (os.environ.get("KERAS_BACKEND"), BACKEND)
    {"create": create, "draws": draws}[command](directory)
