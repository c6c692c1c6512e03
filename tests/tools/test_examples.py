"""The examples a user copies first: examples/fsdd_digits.py in its reduced mode (CI), its
padding and cropping against a brute-force reference, and the FSDD download path against
a local archive (no network)."""

import importlib.util
import io
import json
import os
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from audiofront.tools import datasets

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fsdd_digits.py"


def load_example():
    spec = importlib.util.spec_from_file_location("fsdd_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_fit(y, length):
    """Brute force: every placement of y in the window (short) or every window of y (long)."""
    if len(y) <= length:
        left = (length - len(y)) // 2
        return np.pad(y, (left, length - len(y) - left))
    energies = [
        float(np.sum(y[s : s + length].astype(np.float64) ** 2)) for s in range(len(y) - length + 1)
    ]
    start = int(np.argmax(energies))
    return y[start : start + length]


@pytest.mark.parametrize("n", [1, 7, 999, 1000, 1001, 2500])
def test_fit_length_centres_short_and_keeps_loudest_window_of_long(n):
    fsdd = load_example()
    rng = np.random.default_rng(n)
    y = (rng.standard_normal(n) * np.linspace(0.1, 1.0, n) ** 2).astype(np.float32)
    if n > 1000:
        y[n // 3 : n // 3 + 200] *= 20  # a loud burst the crop must keep
    out = fsdd.fit_length(y, 1000)
    assert out.shape == (1000,) and out.dtype == np.float32
    np.testing.assert_array_equal(out, reference_fit(y, 1000))


def test_official_split_takes_0_to_4_are_test():
    fsdd = load_example()
    test = datasets.fsdd_files(split="test")
    train = datasets.fsdd_files(split="train")
    assert len(test) == 300 and len(train) == 2700
    assert {take for *_, take in test} == set(range(5))
    assert {take for *_, take in train} == set(range(5, 50))
    x, y = fsdd.load_split(None, "test", limit=20)
    assert x.shape == (20, fsdd.LENGTH) and sorted(set(y.tolist())) == list(range(10))


def test_model_families_have_the_documented_shape():
    fsdd = load_example()
    for family in fsdd.MODELS:
        model = fsdd.build_model(family)
        assert model.output_shape == (None, 10)
        names = [layer.name for layer in model.layers]
        assert names[1:5] == ["noise", "mel", "normalize", "specaugment"], names
        assert [w.name for w in model.get_layer("mel").trainable_weights] == ["filterbank"]
    with pytest.raises(ValueError, match="`family` must be one of"):
        fsdd.build_model("resnet")


def test_corrupted_test_set_is_reverberant_band_limited_and_noisy():
    fsdd = load_example()
    x, _ = fsdd.load_split(None, "test", limit=10)
    corrupted = fsdd.corrupt(x)
    assert corrupted.shape == x.shape and np.all(np.isfinite(corrupted))
    np.testing.assert_array_equal(fsdd.corrupt(x), corrupted)  # seeded: the same every time
    noise = corrupted - x
    snr = 10 * np.log10((x**2).mean(1) / (noise**2).mean(1))
    assert np.all(snr < 10.0)  # reverb, filter and noise change a lot


def test_mfcc_front_end_stacks_13_coefficients_with_their_deltas():
    fsdd = load_example()
    model = fsdd.build_model("cnn1d", frontend="mfcc")
    assert model.get_layer("mfcc_deltas").output.shape == (None, fsdd.FRAMES, 39, 1)
    assert [w.name for w in model.get_layer("mfcc").trainable_weights] == ["filterbank"]
    with pytest.raises(ValueError, match="`frontend` must be one of"):
        fsdd.build_model("cnn1d", frontend="gammatone")


@pytest.mark.parametrize(
    "frontend, weights",
    [
        ("leaf", {"center_frequencies", "bandwidths", "pooling_widths", "pooling_bias",
                  "pcen_gain", "pcen_bias", "pcen_root", "pcen_smoothing"}),
        ("sinc", {"low_hz", "band_hz"}),
    ],
)  # fmt: skip
def test_learnable_front_ends_give_a_band_per_filter_and_save(frontend, weights, tmp_path):
    fsdd = load_example()
    model = fsdd.build_model("cnn1d", frontend=frontend)
    layer = model.get_layer(frontend)
    assert {w.name for w in layer.trainable_weights} == weights
    assert model.get_layer("normalize").input.shape == (None, fsdd.FRAMES - 1, fsdd.N_MELS, 1)
    x, _ = fsdd.load_split(None, "test", limit=3)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


@pytest.mark.slow
def test_example_runs_in_reduced_mode(tmp_path):
    """What CI runs: the default family with MFCCs and the simulation, a few steps, scored
    on the clean and the corrupted test set, saved and reloaded (the other families and the
    mel front-end are built by the tests above and trained by the cross-backend session)."""
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), PYTHONUNBUFFERED="1")
    saved, report = tmp_path / "digits.keras", tmp_path / "report.json"
    command = [sys.executable, str(EXAMPLE), "--quick", "--frontend", "mfcc"]
    command.append("--simulate")
    result = subprocess.run(
        command + ["--save", str(saved), "--json", str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "test accuracy" in result.stdout
    results = json.loads(report.read_text())
    assert results["backend"] == keras.backend.backend() and results["quick"]
    assert set(results["models"]) == {"cnn1d"}
    assert results["simulate"] and results["frontend"] == "mfcc"
    for m in results["models"].values():
        assert 0.0 <= m["test_accuracy"] <= 1.0 and 0.0 <= m["corrupted_test_accuracy"] <= 1.0
    model = keras.saving.load_model(saved)
    fsdd = load_example()
    x, _ = fsdd.load_split(None, "test", limit=10)
    p = keras.ops.convert_to_numpy(model(x))
    assert p.shape == (10, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


# --- downloading FSDD (against local archives: tests never use the network) ---


def wav_bytes(samples, rate=8000):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(samples, "<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture
def archive(tmp_path):
    """A zip laid out as GitHub's archive of the FSDD repository, with a few hostile names."""
    rng = np.random.default_rng(0)
    recordings = {
        f"{digit}_{speaker}_{take}.wav": rng.integers(-3000, 3000, 400 + take)
        for digit in (0, 7)
        for speaker in ("alice", "bob")
        for take in (0, 4, 5, 49)
    }
    path = tmp_path / "master.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("free-spoken-digit-dataset-master/", "")
        z.writestr("free-spoken-digit-dataset-master/README.md", "FSDD, CC BY-SA 4.0")
        z.writestr("free-spoken-digit-dataset-master/recordings/", "")
        for name, samples in recordings.items():
            z.writestr(f"free-spoken-digit-dataset-master/recordings/{name}", wav_bytes(samples))
        z.writestr("free-spoken-digit-dataset-master/recordings/notes.txt", "not a recording")
        z.writestr("free-spoken-digit-dataset-master/../../escaped.wav", b"x")
        z.writestr("free-spoken-digit-dataset-master/utils/spectogramer.py", "pass")
    return path, recordings


def test_download_fsdd_from_a_local_archive(tmp_path, archive):
    path, recordings = archive
    root = datasets.download_fsdd(tmp_path / "cache" / "fsdd", url=path.as_uri(), progress=False)
    assert root == tmp_path / "cache" / "fsdd"
    assert sorted(p.name for p in (root / "recordings").iterdir()) == sorted(recordings)
    assert (root / "README.md").read_text() == "FSDD, CC BY-SA 4.0"
    assert not (tmp_path / "escaped.wav").exists() and not list(tmp_path.rglob("escaped.wav"))
    assert not list(root.rglob("*.py")) and not list(root.rglob("notes.txt"))
    for name, samples in recordings.items():
        y, sr = datasets.load_wav(root / "recordings" / name)
        assert sr == 8000
        np.testing.assert_array_equal(y, np.asarray(samples, np.float32) / 32768.0)
    test = datasets.fsdd_files(root, split="test")
    assert sorted(take for *_, take in test) == [0, 0, 0, 0, 4, 4, 4, 4]
    assert len(datasets.fsdd_files(root, split="train")) == 8
    # Already there: no second download (a missing URL would fail if it tried).
    missing = (tmp_path / "missing.zip").as_uri()
    assert datasets.download_fsdd(root, url=missing) == root
    with pytest.raises(OSError):
        datasets.download_fsdd(root, url=missing, force=True)
    assert len(list((root / "recordings").iterdir())) == len(recordings)  # left intact
    assert not list(root.parent.glob(".fsdd-*"))  # no staging folder left behind


def test_download_rejects_an_archive_without_recordings(tmp_path):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("repo/README.md", "nothing here")
    with pytest.raises(ValueError, match="No recordings"):
        datasets.download_fsdd(tmp_path / "fsdd", url=empty.as_uri(), progress=False)
    not_zip = tmp_path / "page.html"
    not_zip.write_text("<html>rate limited</html>")
    with pytest.raises(ValueError, match="not a zip"):
        datasets.download_fsdd(tmp_path / "fsdd", url=not_zip.as_uri(), progress=False)
    assert not (tmp_path / "fsdd").exists()


def test_fsdd_path_downloads_to_the_cache_only_when_asked(tmp_path, archive, monkeypatch):
    path, recordings = archive
    monkeypatch.delenv("AUDIOFRONT_FSDD", raising=False)
    monkeypatch.setenv("AUDIOFRONT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "_candidates", lambda: iter(()))
    monkeypatch.setattr(datasets, "FSDD_URL", path.as_uri())
    with pytest.raises(FileNotFoundError, match="download"):
        datasets.fsdd_path()
    root = datasets.fsdd_path(download=True)
    assert root == tmp_path / "cache" / "fsdd"
    assert len(datasets.fsdd_files(root)) == len(recordings)
    assert datasets.fsdd_path() == root  # found in the cache from now on


STREAM_EXAMPLE = ROOT / "examples" / "stream_digits.py"


def test_streaming_example_runs_in_reduced_mode(tmp_path):
    """examples/stream_digits.py --quick: trains a small model, streams three digits 10 ms
    at a time, reports what it heard and its latency."""
    out = tmp_path / "stream.json"
    command = [sys.executable, str(STREAM_EXAMPLE), "--quick", "--digits", "3", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert len(report["digits"]) == len(report["heard"]) == 3
    assert 0 <= report["correct"] <= 3 and set(report["heard"]) <= set(range(10))
    assert report["front_end_ms_per_chunk"] > 0 and report["classifier_ms_per_call"] > 0
    assert "latency: front-end" in result.stdout
