"""The parity tool itself: inputs, the command line, skipped backends, that it fails when a
backend really differs, and that it reports rounding noise as such."""

import json
import subprocess
import sys
import textwrap
import wave

import numpy as np
import pytest

from audiofront.tools import cli, parity, signals

BACKEND_NAMES = parity.BACKENDS


def run_cli(*args, env=None, timeout=900):
    import os

    return subprocess.run(
        [sys.executable, "-m", "audiofront", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("source", ["chirp", "noise", "fsdd"])
def test_builtin_inputs(source):
    x, sr = signals.make_input(source, batch=3, seconds=0.5)
    assert x.dtype == np.float32 and x.shape == (3, sr // 2) and np.abs(x).max() > 0.01
    assert sr == (8000 if source == "fsdd" else 16000)


def test_fsdd_resampled_to_requested_rate():
    x, sr = signals.make_input("fsdd", batch=2, seconds=0.25, sample_rate=16000)
    assert sr == 16000 and x.shape == (2, 4000)


def write_pcm24_stereo(path, rate, seconds):
    t = np.arange(int(rate * seconds)) / rate
    data = np.stack(
        [0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 1000 * t)], axis=1
    )
    ints = np.round(data * (2**23 - 1)).astype(np.int32)
    raw = np.stack([(ints >> s) & 0xFF for s in (0, 8, 16)], axis=-1).astype(np.uint8).tobytes()
    with wave.open(str(path), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(3)
        f.setframerate(rate)
        f.writeframes(raw)
    return data


def test_user_wav_of_any_rate_and_channel_count(tmp_path):
    path = tmp_path / "stereo.wav"
    data = write_pcm24_stereo(path, 44100, 1.2)
    x, sr = signals.make_input(str(path), batch=2, seconds=0.5)
    assert sr == 44100 and x.shape == (2, 22050, 2)
    np.testing.assert_allclose(x[1, :100], data[22050:22150], atol=1e-6)
    x, sr = signals.make_input(str(path), batch=1, seconds=0.5, sample_rate=16000)
    assert sr == 16000 and x.shape == (1, 8000, 2)


def test_float_wav_through_soundfile(tmp_path):
    soundfile = pytest.importorskip("soundfile")
    path = tmp_path / "float.wav"
    soundfile.write(str(path), np.linspace(-1, 1, 12000, dtype=np.float32), 12000, subtype="FLOAT")
    x, sr = signals.make_input(str(path), batch=1, seconds=1.0)
    assert sr == 12000 and x.shape == (1, 12000)


def test_bad_input_source_names_it():
    with pytest.raises(ValueError, match="`input`.*'speech.mp3'"):
        signals.make_input("speech.mp3")


@pytest.mark.parametrize("layer", list(parity.LAYERS))
def test_each_layer_gets_an_input_it_accepts(layer):
    waves, sr = signals.make_input("chirp", batch=2, seconds=0.25)
    x = signals.layer_input(layer, {"n_fft": 256}, waves, sr)
    takes = parity.LAYERS[layer].takes
    if takes == "complex":
        assert [p.shape for p in x] == [(2, 1 + 4000 // 64, 129, 1)] * 2
    else:
        assert x.ndim == (2 if takes == "waveform" else 4)
    if layer == "Filterbank":
        assert x.shape[2] == 129


def test_fit_input_to_a_saved_models_shape():
    waves = np.ones((2, 100), np.float32)
    assert signals.fit_input(waves, (80,)).shape == (2, 80)
    assert signals.fit_input(waves, (None,)).shape == (2, 100)
    assert signals.fit_input(waves, (2, 120)).shape == (2, 2, 120)
    assert signals.fit_input(waves, (120, 2)).shape == (2, 120, 2)


# ------------------------------------------------------------------ command line


def test_help_explains_every_option_with_examples():
    text = cli.build_parser()._subparsers._group_actions[0].choices["parity"].format_help()
    for option in (
        "LAYER",
        "-p",
        "--model",
        "--backends",
        "--input",
        "--batch",
        "--seconds",
        "--sample-rate",
        "--grad",
        "--reference",
        "--json",
        "--import",
    ):
        assert option in text, option
    assert (
        "examples:" in text and "audiofront parity MelSpectrogram" in text and "Exit status" in text
    )


def test_param_literals():
    assert cli.parse_param("n_fft=512") == ("n_fft", 512)
    assert cli.parse_param("decibel=True") == ("decibel", True)
    assert cli.parse_param("window=hann") == ("window", "hann")
    assert cli.parse_param("snr_db=(10, 20)") == ("snr_db", [10, 20])


@pytest.mark.once("tensorflow")
def test_single_backend_against_librosa_and_skipped_backends(tmp_path):
    """In a session with one backend installed the others are reported as skipped, not a crash."""
    import importlib.util

    report_path = tmp_path / "r.json"
    # Linear output: dB values 80 dB down carry float32 rounding near the 0.001 dB
    # cross-backend bound (see the README's known limits), which is not this test's point.
    args = "parity MelSpectrogram -p n_fft=512 -p hop_length=128 -p n_mels=48"
    args += f" --reference librosa --input fsdd --seconds 0.5 --json {report_path}"
    result = run_cli(*args.split())
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    installed = [b for b in BACKEND_NAMES if importlib.util.find_spec(b)]
    assert report["backends"] == installed
    assert report["skipped"] == [b for b in BACKEND_NAMES if b not in installed]
    for backend in report["skipped"]:
        assert f"skipped {backend}" in result.stdout
    assert {c["b"] for c in report["comparisons"] if c["a"] in installed} >= {"librosa"}
    assert report["ok"]


@pytest.mark.once("tensorflow")
def test_usage_errors_exit_2():
    assert run_cli("parity").returncode == 2
    assert run_cli("parity", "Bogus").returncode == 2
    result = run_cli("parity", "STFT", "--backends", "jax,mxnet")
    assert result.returncode == 2 and "mxnet" in result.stderr


# ------------------------------------------------------------------ rounding noise


def test_judge_reports_rounding_noise_of_a_zero_output_as_such():
    zero_a, zero_b = np.array([3e-8, -2e-8]), np.array([-4e-8, 1e-8])
    plain = parity.judge("c", "output 0", "jax", "torch", zero_a, zero_b, "linear", 1e-5)
    assert not plain.ok  # noise against noise fails a relative bound
    noisy = parity.judge(
        "c", "output 0", "jax", "torch", zero_a, zero_b, "linear", 1e-5, noise=(5e-8, 4e-8)
    )
    assert noisy.ok and noisy.note == parity.NOISE_NOTE
    # A real output moves by ~1e-6 of itself under the four-ulp change: judged as usual.
    real_a, real_b = np.array([1.0, 2.0]), np.array([1.0, 2.001])
    real = parity.judge(
        "c", "output 0", "jax", "torch", real_a, real_b, "linear", 1e-5, noise=(2e-6, 2e-6)
    )
    assert not real.ok and real.note == ""
    # One backend's real output against the other's noise is a failure, not noise.
    mixed = parity.judge(
        "c", "output 0", "jax", "torch", zero_a, real_a, "linear", 1e-5, noise=(5e-8, 2e-6)
    )
    assert not mixed.ok


ZERO_BY_CONSTRUCTION = textwrap.dedent(
    """
    import keras, audiofront as af
    inputs = keras.Input(shape=(4000,))
    x = af.MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=32, decibel=True)(inputs)
    x = af.Normalization2D(axis="freq")(x)
    keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)).save({path!r})
    """
)


@pytest.mark.cross_backend
def test_an_output_zero_by_construction_is_reported_as_rounding_noise(tmp_path):
    """The global average of per-bin standardised features is 0: only rounding is left."""
    path = tmp_path / "zero.keras"
    made = subprocess.run(
        [sys.executable, "-c", ZERO_BY_CONSTRUCTION.format(path=str(path))],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "KERAS_BACKEND": "jax"},
    )
    assert made.returncode == 0, made.stderr[-3000:]
    report = parity.compare_model(str(path), seconds=0.5, grad=True)
    assert report.ok, [c for c in report.comparisons if not c.ok]
    outputs = [c for c in report.comparisons if c.quantity == "output 0"]
    assert outputs and all(c.note == parity.NOISE_NOTE for c in outputs), outputs


# ------------------------------------------------------------------ it fails when it should

PLANTED = textwrap.dedent(
    """
    import keras

    @keras.saving.register_keras_serializable(package="planted")
    class BackendBump(keras.layers.Layer):
        '''Adds 1e-3 under torch only: a planted backend-dependent difference.'''

        def call(self, x):
            return x + (1e-3 if keras.backend.backend() == "torch" else 0.0)
    """
)


@pytest.mark.cross_backend
def test_planted_backend_difference_exits_1_naming_the_pair(tmp_path):
    (tmp_path / "planted.py").write_text(PLANTED)
    build = textwrap.dedent(
        f"""
        import keras, planted, audiofront as af
        inputs = keras.Input(shape=(4000,))
        outputs = planted.BackendBump()(af.MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=32)(inputs))
        keras.Model(inputs, outputs).save({str(tmp_path / "planted.keras")!r})
        """
    )
    env = {"PYTHONPATH": str(tmp_path), "KERAS_BACKEND": "jax"}
    made = subprocess.run(
        [sys.executable, "-c", build],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
    )
    assert made.returncode == 0, made.stderr[-3000:]
    report_path = tmp_path / "report.json"
    result = run_cli(
        "parity",
        "--model",
        str(tmp_path / "planted.keras"),
        "--import",
        "planted",
        "--seconds",
        "0.5",
        "--json",
        str(report_path),
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    failed = {(c["a"], c["b"]) for c in report["comparisons"] if not c["ok"]}
    assert failed == {("jax", "torch"), ("torch", "tensorflow")}
    assert "FAIL" in result.stdout and "jax vs torch" in result.stdout
