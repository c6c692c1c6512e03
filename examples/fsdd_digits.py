"""Spoken-digit classification on the Free Spoken Digit Dataset, front-end inside the model.

Raw 8 kHz waveforms go in; the model itself adds noise (training only), computes dB mel
spectrograms with a trainable filterbank, standardises each mel band, masks (training
only) and classifies. Runs unchanged under JAX, PyTorch or TensorFlow:

    KERAS_BACKEND=jax python examples/fsdd_digits.py                  # best model (cnn1d)
    KERAS_BACKEND=torch python examples/fsdd_digits.py --model all    # the three families
    KERAS_BACKEND=jax python examples/fsdd_digits.py --frontend mfcc  # MFCCs + deltas
    KERAS_BACKEND=jax python examples/fsdd_digits.py --simulate       # + room, mic, noise
    KERAS_BACKEND=tensorflow python examples/fsdd_digits.py --save digits.keras --check-backends
    python examples/fsdd_digits.py --quick                            # a few steps (CI)
    python examples/fsdd_digits.py --data /path/to/fsdd               # or $AUDIOFRONT_FSDD
    python examples/fsdd_digits.py --download                         # fetch FSDD to the cache

Data: FSDD (3,000 recordings, 6 speakers, digits 0-9, 50 takes each) with its official
split: takes 0-4 of every speaker and digit are the test set (300), takes 5-49 train (2,700).

Length: recordings last 0.14 s to 2.3 s (median 0.42 s, 99th percentile 0.92 s). Every
recording is placed in a fixed window of 1.0 s (8,000 samples): shorter ones are centred and
zero-padded on both sides (so a digit sits in the same place whatever its length, which a
classifier with a flattening layer needs); the 20 recordings longer than 1 s (0.7 %) are
cropped to their loudest second (the window of 8,000 samples with the most energy), which
keeps the spoken digit and drops trailing silence or noise. One fixed length also means one
compiled graph for JAX and TensorFlow instead of one per batch shape. Models: see `MODELS`.

Threads: on a CPU shared with other jobs, PyTorch's OpenMP threads wait on each other; on the
2-core machine of this project's measurements, with another process busy, a training step took
1.8 s with torch's default 2 threads and 0.08 s with ``OMP_NUM_THREADS=1``. Set it to the
number of idle cores.

Robustness: every run also scores the model on a corrupted copy of the test set (`corrupt`:
reverberant, band-limited, brown and pink noise; seeds and noise types of its own), and
``--simulate`` trains with the real world simulated inside the model (`simulation`).

With ``--check-backends`` the trained model is saved to ``.keras`` and loaded under the other
two backends (a subprocess each, this script with ``--predict``); their test-set predictions
are compared with the training backend's.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

import audiofront as af
from audiofront.tools import datasets

SAMPLE_RATE = 8000
LENGTH = 8000  # 1.0 s window: see the module docstring
N_FFT, HOP, N_MELS = 256, 80, 40  # 32 ms frames every 10 ms, 40 mel bands up to 4 kHz
N_MFCC = 13
FRAMES = 1 + LENGTH // HOP
# Training noise: pink, 20-40 dB below each example's power. The dB floor sits 50 dB under each
# example's peak, so the zero padding of a clean test recording and the noise that fills it in
# training look alike (both at or near the floor); with 10-30 dB noise and an 80 dB floor the
# padding differed so much between training and test that accuracy fell to 89 % (cnn1d).
SNR_DB = (20.0, 40.0)
TOP_DB = 50.0
BACKENDS = ("jax", "torch", "tensorflow")


def fit_length(y, length=LENGTH):
    """One waveform to exactly ``length`` samples: centred and zero-padded when shorter,
    cropped to its highest-energy window when longer.

    >>> fit_length(np.ones(4, "float32"), 8).tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    >>> fit_length(np.array([0, 0, 5, 5, 0, 0, 0], "float32"), 3).tolist()
    [0.0, 5.0, 5.0]
    """
    y = np.asarray(y, np.float32)
    if len(y) <= length:
        out = np.zeros(length, np.float32)
        start = (length - len(y)) // 2
        out[start : start + len(y)] = y
        return out
    energy = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    start = int(np.argmax(energy[length:] - energy[:-length]))
    return y[start : start + length].copy()


def load_split(root, split, limit=None):
    """``(waveforms (n, LENGTH) float32, digits (n,) int32)`` of the official split."""
    files = datasets.fsdd_files(root, split=split)
    if limit is not None:  # an even spread over digits and speakers, for --quick
        files = files[:: max(1, len(files) // limit)][:limit]
    waves, labels = [], []
    for path, digit, _speaker, _take in files:
        y, sr = datasets.load_wav(path)
        if sr != SAMPLE_RATE:
            raise ValueError(f"{path}: expected {SAMPLE_RATE} Hz, found {sr} Hz")
        waves.append(fit_length(y))
        labels.append(digit)
    return np.stack(waves), np.asarray(labels, np.int32)


def mel_features(x, trainable_kernel=False, trainable_filterbank=True):
    """dB mel spectrogram, ``(batch, FRAMES, N_MELS, 1)``."""
    return af.MelSpectrogram(
        sample_rate=SAMPLE_RATE,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        norm=None,  # peak-1 triangles: weights of order 1 train at Adam's usual step size
        decibel=True,
        top_db=TOP_DB,
        trainable_kernel=trainable_kernel,
        trainable_filterbank=trainable_filterbank,
        name="mel",
    )(x)


def mfcc_features(x, trainable_kernel=False, trainable_filterbank=True):
    """13 MFCCs with their deltas and delta-deltas (librosa's 9-frame filters),
    ``(batch, FRAMES, 39, 1)``: the classic speech front-end."""
    mfcc = af.MFCC(
        sample_rate=SAMPLE_RATE,
        n_mfcc=N_MFCC,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        norm=None,
        top_db=TOP_DB,
        trainable_kernel=trainable_kernel,
        trainable_filterbank=trainable_filterbank,
        name="mfcc",
    )(x)
    deltas = [af.Delta(order=order, name=f"delta{order}")(mfcc) for order in (1, 2)]
    return keras.layers.Concatenate(axis=2, name="mfcc_deltas")([mfcc, *deltas])


def leaf_features(x, trainable_kernel=False, trainable_filterbank=True):
    """LEAF with its defaults (Gabor filters over 25 ms, Gaussian pooling every 10 ms, sPCEN),
    ``N_MELS`` filters initialised on the mel scale up to Nyquist, ``(batch, FRAMES - 1,
    N_MELS, 1)``: learnable from the filters on (the ``trainable_*`` flags do not apply)."""
    return af.LEAF(n_filters=N_MELS, sample_rate=SAMPLE_RATE, max_freq=None, name="leaf")(x)


@keras.saving.register_keras_serializable(package="fsdd_digits")
class BandEnergy(keras.layers.Layer):
    """Each band's mean square over ``2 * hop`` samples every ``hop``: ``(batch, samples,
    bands)`` to ``(batch, samples // hop, bands)``, as means of ``hop``-sample blocks, then of
    each block and the next (the last block alone). In place of ``AveragePooling1D(2 * hop,
    strides=hop)``, whose gradient XLA had not compiled after 10 minutes on a CPU (and a
    ``hop``-then-2 pair of poolings took 1.2 s per gradient on 32 x 1 s); see docs/limits.md."""

    def __init__(self, hop, **kwargs):
        super().__init__(**kwargs)
        self.hop = hop

    def call(self, x):
        blocks = x.shape[1] // self.hop
        x = keras.ops.reshape(x[:, : blocks * self.hop], (-1, blocks, self.hop, x.shape[-1]))
        energy = keras.ops.mean(keras.ops.square(x), axis=2)
        pairs = (energy[:, :-1] + energy[:, 1:]) / 2.0
        return keras.ops.concatenate([pairs, energy[:, -1:]], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] // self.hop, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "hop": self.hop}


def sinc_features(x, trainable_kernel=False, trainable_filterbank=True):
    """SincNet's learnable band-pass filters (``N_MELS`` of them, 101 taps, cut-offs
    initialised on the mel scale), then each band's energy over 20 ms every 10 ms in dB,
    ``(batch, FRAMES - 1, N_MELS, 1)``: a learnable filterbank in place of the STFT and the
    mel matrix (the ``trainable_*`` flags do not apply)."""
    x = af.SincConv(n_filters=N_MELS, kernel_size=101, sample_rate=SAMPLE_RATE, name="sinc")(x)
    x = BandEnergy(HOP, name="energy")(x)
    x = keras.layers.Reshape((-1, N_MELS, 1))(x)
    return af.Decibel(top_db=TOP_DB, name="db")(x)


FRONT_ENDS = {"mel": mel_features, "mfcc": mfcc_features, "leaf": leaf_features,
              "sinc": sinc_features}  # fmt: skip


def babble_bank(x_train, count=12, voices=4, seed=0):
    """Background recordings for `simulation`: babble (``voices`` training recordings mixed)
    and white noise, each at unit power, ``(2 * count, LENGTH)``. The corrupted test set
    uses pink and brown noise instead: noise types held out of training."""
    rng = np.random.default_rng(seed)
    babble = x_train[rng.integers(0, len(x_train), (count, voices))].sum(axis=1)
    bank = np.concatenate([babble, rng.standard_normal((count, LENGTH))]).astype("float32")
    return bank / np.sqrt((bank**2).mean(axis=1, keepdims=True))


def simulation(x, bank, seed=0):
    """The real world, drawn per example in training: level, room, microphone, background."""
    x = af.RandomGain(min_db=-6.0, max_db=6.0, seed=seed + 10, name="gain")(x)
    x = af.Reverb(rt60=(0.1, 0.6), sample_rate=SAMPLE_RATE, probability=0.5, seed=seed + 11,
                  name="reverb")(x)  # fmt: skip
    x = af.BandPassFilter(sample_rate=SAMPLE_RATE, low_hz=(50.0, 400.0), high_hz=(2000.0, 3800.0),
                          probability=0.5, seed=seed + 12, name="band_pass")(x)  # fmt: skip
    return af.BackgroundNoise(bank, snr_db=(0.0, 20.0), probability=0.5, seed=seed + 13,
                              name="background")(x)  # fmt: skip


def corrupt(x, seed=1000):
    """A corrupted copy of waveforms, as the real world would hand them over: a reverberant
    room (RT60 0.3-0.8 s), a band-limited microphone (150-300 Hz to 2.5-3.5 kHz) and brown
    plus pink noise (5-15 dB SNR), drawn with seeds of their own. audiofront's draws are the
    same on every backend, so the corrupted set is too."""
    layers = [
        af.Reverb(rt60=(0.3, 0.8), sample_rate=SAMPLE_RATE, seed=seed),
        af.BandPassFilter(
            sample_rate=SAMPLE_RATE, low_hz=(150.0, 300.0), high_hz=(2500.0, 3500.0), seed=seed + 1
        ),  # fmt: skip
        af.AdditiveNoise(snr_db=(5.0, 15.0), noise="brown", seed=seed + 2),
        af.AdditiveNoise(snr_db=(10.0, 20.0), noise="pink", seed=seed + 3),
    ]
    for layer in layers:
        x = keras.ops.convert_to_numpy(layer(x, training=True))
    return np.asarray(x, np.float32)


def front_end(waveforms, frontend="mel", trainable_kernel=False, trainable_filterbank=True,
              seed=0, bank=None):  # fmt: skip
    """Waveforms ``(batch, LENGTH)`` -> standardised features ``(batch, FRAMES, bands, 1)``:
    with a ``bank`` the real-world `simulation`, then noise (training only), the chosen
    features, per-band standardisation, masks (training only)."""
    if bank is not None:
        waveforms = simulation(waveforms, bank, seed)
    x = af.AdditiveNoise(snr_db=SNR_DB, noise="pink", seed=seed, name="noise")(waveforms)
    x = FRONT_ENDS[frontend](x, trainable_kernel, trainable_filterbank)
    x = af.Normalization2D(axis="freq", name="normalize")(x)
    return af.SpecAugment(
        freq_mask_param=6, time_mask_param=15, n_time_masks=2, seed=seed + 1, name="specaugment"
    )(x)


def cnn2d(x):
    """Two blocks of (conv 3x3, ReLU, batch norm, 2x2 max-pool), dropout, linear classifier."""
    for filters in (16, 32):
        x = keras.layers.Conv2D(filters, 3, padding="same")(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.5)(x)
    return keras.layers.Dense(10, activation="softmax")(x)


def cnn1d(x):
    """1-D convolutions over time with the mel bands as channels, global average pooling."""
    x = keras.layers.Reshape((x.shape[1], x.shape[2]))(x)
    for filters in (64, 128, 128):
        x = keras.layers.Conv1D(filters, 5, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dropout(0.3)(x)
    return keras.layers.Dense(10, activation="softmax")(x)


def kapre(x):
    """The Kapre paper's 5-layer convnet (Choi et al., 2017, Table 1): a (20, 3) conv, four
    3x3 convs, all 64 channels, stride 2, ReLU, then global average pooling."""
    x = keras.layers.Conv2D(64, (20, 3), strides=2, activation="relu", padding="same")(x)
    for _ in range(4):
        x = keras.layers.Conv2D(64, 3, strides=2, activation="relu", padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.layers.Dense(10, activation="softmax")(x)


MODELS = {"cnn2d": cnn2d, "cnn1d": cnn1d, "kapre": kapre}
BEST = "cnn1d"  # the most accurate and the fastest, measured on every backend


def build_model(
    family, frontend="mel", trainable_kernel=False, trainable_filterbank=True, seed=0, bank=None
):
    """The front-end followed by one of `MODELS`, on waveforms of ``LENGTH`` samples."""
    if family not in MODELS:
        raise ValueError(f"`family` must be one of {sorted(MODELS)}. Received: family={family!r}")
    if frontend not in FRONT_ENDS:
        raise ValueError(
            f"`frontend` must be one of {sorted(FRONT_ENDS)}. Received: frontend={frontend!r}"
        )
    inputs = keras.Input(shape=(LENGTH,), name="waveform")
    features = front_end(inputs, frontend, trainable_kernel, trainable_filterbank, seed, bank)
    return keras.Model(inputs, MODELS[family](features), name=f"fsdd_{family}")


def train(family, data, epochs, batch_size=32, learning_rate=2e-3, seed=0, **front_end_args):
    """Builds, compiles and fits one model; returns it with its test accuracy and seconds."""
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = build_model(family, seed=seed, **front_end_args)
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=1 if sys.stdout.isatty() else 2,  # Keras's progress bar; a line per epoch in logs
    )
    _, accuracy = model.evaluate(x_test, y_test, batch_size=100, verbose=0)
    return model, float(accuracy), time.perf_counter() - start


def predict_under(backend, model_path, inputs_path, out_path):
    """Runs this script with ``--predict`` under ``KERAS_BACKEND=backend``."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, __file__, "--predict", str(model_path), str(inputs_path)]
    result = subprocess.run(
        command + [str(out_path)], env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{backend} could not load {model_path}:\n{result.stderr[-3000:]}")
    return np.load(out_path)


def check_backends(model, model_path, x_test, y_test):
    """Saves ``model``, loads it under the other backends, compares test predictions."""
    model.save(model_path)
    here = keras.backend.backend()
    reference = model.predict(x_test, batch_size=100, verbose=0)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x_test)
        for backend in BACKENDS:
            if backend == here:
                continue
            p = predict_under(backend, model_path, Path(tmp) / "x.npy", Path(tmp) / "p.npy")
            results[backend] = {
                "max_abs_probability_difference": float(np.max(np.abs(p - reference))),
                "same_predicted_digit": float(np.mean(p.argmax(1) == reference.argmax(1))),
                "test_accuracy": float(np.mean(p.argmax(1) == y_test)),
            }
            r = results[backend]
            print(
                f"loaded under {backend}: max |p - p_{here}| = "
                f"{r['max_abs_probability_difference']:.2e}, same digit for "
                f"{100 * r['same_predicted_digit']:.1f}% of the test set, "
                f"test accuracy {100 * r['test_accuracy']:.2f}%"
            )
    return results


def predict_main(model_path, inputs_path, out_path):
    """``--predict``: load a ``.keras`` model under this backend, save its predictions."""
    model = keras.saving.load_model(model_path)
    np.save(out_path, model.predict(np.load(inputs_path), batch_size=100, verbose=0))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="The backend is KERAS_BACKEND's (jax, torch or tensorflow).",
    )
    parser.add_argument(
        "--model",
        default=BEST,
        choices=[*MODELS, "all"],
        help=f"model family (default {BEST}, the best measured); 'all' trains each in turn",
    )
    parser.add_argument(
        "--frontend",
        default="mel",
        choices=list(FRONT_ENDS),
        help="features: dB mel spectrogram (default), 13 MFCCs + deltas + delta-deltas, LEAF, "
        "or SincNet filters with log energies",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="add the real-world simulation in training: random gain, reverb, band-pass "
        "microphone, background babble/noise (see `simulation`)",
    )
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's initial rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, noise and masks")
    parser.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="FSDD folder (holding recordings/); default $AUDIOFRONT_FSDD, else ../shared/data/fsdd",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="when FSDD is not found, fetch it from its public GitHub source into the cache "
        "($AUDIOFRONT_CACHE, default ~/.cache/audiofront)",
    )
    parser.add_argument(
        "--trainable-kernel",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="train the STFT's DFT kernel too (slower: the convolution path)",
    )
    parser.add_argument(
        "--trainable-filterbank",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train the mel filterbank (default on; kept non-negative)",
    )
    parser.add_argument("--save", metavar="PATH.keras", help="save the (last) trained model")
    parser.add_argument(
        "--check-backends",
        action="store_true",
        help="load the saved model under the other two backends and compare predictions",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 200 training and 100 test recordings, one epoch (CI)",
    )
    parser.add_argument(
        "--predict", nargs=3, metavar=("MODEL", "X.npy", "OUT.npy"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.predict:
        predict_main(*args.predict)
        return 0
    backend = keras.backend.backend()
    root = datasets.fsdd_path(args.data, download=args.download)
    limits = (200, 100) if args.quick else (None, None)
    epochs = 1 if args.quick else args.epochs
    started = time.perf_counter()
    data = load_split(root, "train", limits[0]), load_split(root, "test", limits[1])
    print(
        f"backend {backend}, FSDD at {root}: {len(data[0][0])} training and {len(data[1][0])} "
        f"test recordings, {LENGTH / SAMPLE_RATE:.1f} s windows"
    )
    families = list(MODELS) if args.model == "all" else [args.model]
    results = {"backend": backend, "quick": args.quick, "epochs": epochs, "models": {}}
    results.update(frontend=args.frontend, simulate=args.simulate)
    bank = babble_bank(data[0][0], seed=args.seed) if args.simulate else None
    corrupted = corrupt(data[1][0])
    for family in families:
        print(f"\n== {family}: {MODELS[family].__doc__.splitlines()[0]}")
        model, accuracy, seconds = train(
            family,
            data,
            epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            frontend=args.frontend,
            bank=bank,
            trainable_kernel=args.trainable_kernel,
            trainable_filterbank=args.trainable_filterbank,
        )
        _, robust = model.evaluate(corrupted, data[1][1], batch_size=100, verbose=0)
        results["models"][family] = {
            "test_accuracy": accuracy,
            "corrupted_test_accuracy": float(robust),
            "train_seconds": seconds,
        }
        print(
            f"{family}: test accuracy {100 * accuracy:.2f}%, on the corrupted test set "
            f"{100 * robust:.2f}% ({backend}, {seconds:.0f} s)"
        )
    if args.save or args.check_backends:
        path = Path(args.save or Path(tempfile.mkdtemp()) / "fsdd_digits.keras")
        if args.check_backends:
            results["cross_backend"] = check_backends(model, path, *data[1])
        else:
            model.save(path)
        print(f"saved {path}")
    results["wall_seconds"] = time.perf_counter() - started
    print(f"wall time {results['wall_seconds']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
