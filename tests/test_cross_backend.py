"""Cross-backend parity: models saved under each backend load under every backend with the
same outputs and gradients, trained weights included.

Needs jax, torch and tensorflow in one environment (the ``crossbackend`` nox session);
each backend runs in its own subprocess (Keras fixes its backend per process).
Bounds (the contract's): outputs max|a - b| <= 1e-5 * max|a|, dB outputs within 0.001 dB,
gradients within 1e-4 relative.
"""

import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import fsdd_batch

pytestmark = pytest.mark.cross_backend

BACKENDS = ("jax", "torch", "tensorflow")
WORKER = Path(__file__).with_name("cross_backend_worker.py")
DB_MODELS = {"spectrogram_db_reflect", "mel_db_trainable", "chain_log_filterbank_db"}


def worker(command, backend, directory):
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, str(WORKER), command, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"{backend} {command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    missing = [b for b in BACKENDS if importlib.util.find_spec(b) is None]
    if missing:
        pytest.fail(f"the cross-backend tests need all three backends; missing: {missing}")
    directory = tmp_path_factory.mktemp("cross_backend")
    np.save(directory / "input.npy", fsdd_batch(length=4000))
    for backend in BACKENDS:
        worker("create", backend, directory)
    for backend in BACKENDS:
        worker("run", backend, directory)
    return {b: dict(np.load(directory / f"results-{b}.npz")) for b in BACKENDS}


def model_keys(results):
    keys = sorted({k.split("/output")[0] for k in results["jax"] if "/output" in k})
    assert len(keys) == 3 * 7, keys  # seven models saved under each of three backends
    return keys


def pairs():
    return list(itertools.combinations(BACKENDS, 2))


def test_every_backend_loads_the_same_weights(results):
    for key in model_keys(results):
        weights = [k for k in results["jax"] if k.startswith(key + "/weight/")]
        assert weights
        for a, b in pairs():
            for k in weights:
                np.testing.assert_array_equal(
                    results[a][k], results[b][k], err_msg=f"{k}: {a} vs {b}"
                )


def test_outputs_agree_across_backends(results):
    worst = {}
    for key in model_keys(results):
        saved_under, name = key.split("/")
        outputs = sorted(k for k in results["jax"] if k.startswith(key + "/output"))
        for a, b in pairs():
            for k in outputs:
                x, y = results[a][k].astype(np.float64), results[b][k].astype(np.float64)
                assert x.shape == y.shape and np.all(np.isfinite(x)) and np.all(np.isfinite(y))
                error = np.abs(x - y).max()
                if name in DB_MODELS:
                    assert error <= 1e-3, f"{k}: {a} vs {b} differ by {error:.3g} dB"
                else:
                    bound = 1e-5 * np.abs(x).max()
                    assert error <= bound, f"{k}: {a} vs {b} differ by {error:.3g} > {bound:.3g}"
                worst[(name, a, b)] = max(worst.get((name, a, b), 0.0), error)
    print("\nworst cross-backend output differences:", worst)


def test_gradients_agree_across_backends(results):
    worst = {}
    for key in model_keys(results):
        grads = sorted(k for k in results["jax"] if k.startswith(key + "/grad/"))
        assert f"{key}/grad/input" in grads
        if not key.endswith("mel_frozen"):
            assert len(grads) > 1, f"{key} has no weight gradients"
        for a, b in pairs():
            for k in grads:
                x, y = results[a][k].astype(np.float64), results[b][k].astype(np.float64)
                assert np.all(np.isfinite(x)) and np.all(np.isfinite(y)), k
                error = np.abs(x - y).max() / np.abs(x).max()
                assert error <= 1e-4, f"{k}: {a} vs {b} relative difference {error:.3g}"
                worst[(k, a, b)] = error
    print("\nworst relative gradient difference:", max(worst.values()))
