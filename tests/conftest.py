"""Shared fixtures. The suite runs once per backend: KERAS_BACKEND picks it (nox does)."""

import os

# Keras's conftest habit: in a process that may hold several backends, torch goes first.
try:  # pragma: no cover - depends on what is installed
    import torch  # noqa: F401
except ImportError:
    pass

import keras
import numpy as np
import pytest

from audiofront import datasets

# Real 8 kHz speech; the same few recordings in every parity test.
FSDD_FILES = ("7_jackson_32.wav", "0_george_10.wav", "3_theo_7.wav", "9_yweweler_41.wav")


def pytest_addoption(parser):
    parser.addoption(
        "--cross-backend",
        action="store_true",
        help="run only the cross-backend tests (they need jax, torch and tensorflow installed)",
    )


def pytest_collection_modifyitems(config, items):
    """Cross-backend tests run with --cross-backend and nothing else runs then."""
    wanted = config.getoption("--cross-backend")
    keep = [item for item in items if ("cross_backend" in item.keywords) == wanted]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _float32_policy():
    """Each test starts and ends under the float32 global policy."""
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def to_numpy(x):
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    return np.asarray(keras.ops.convert_to_numpy(x))


def fsdd_batch(length=6000, names=FSDD_FILES):
    """A float32 batch of FSDD recordings, zero-padded or cropped to ``length``."""
    try:
        root = datasets.fsdd_path()
    except FileNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))
    batch = np.zeros((len(names), length), np.float32)
    for i, name in enumerate(names):
        y, sr = datasets.load_wav(root / "recordings" / name)
        assert sr == 8000
        batch[i, : min(length, len(y))] = y[:length]
    return batch


def synthetic_batch(length=8000, sample_rate=16000, seed=0):
    """A chirp, a two-tone mix at very different levels, and quiet white noise."""
    t = np.arange(length) / sample_rate
    rng = np.random.default_rng(seed)
    chirp = np.sin(2 * np.pi * (100 * t + 0.5 * (sample_rate / 2.5 - 100) * t**2 / t[-1]))
    tones = 0.8 * np.sin(2 * np.pi * 440 * t) + 1e-3 * np.sin(2 * np.pi * 3000 * t + 1.0)
    noise = 0.05 * rng.standard_normal(length)
    return np.stack([chirp, tones, noise]).astype(np.float32)


@pytest.fixture
def fsdd():
    return fsdd_batch()


def assert_linear_close(actual, reference, rtol=1e-4):
    """The contract's linear bound: max|a - r| <= rtol * max|r|."""
    actual, reference = np.asarray(actual, np.float64), np.asarray(reference, np.float64)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    assert np.all(np.isfinite(actual))
    error = np.max(np.abs(actual - reference))
    bound = rtol * np.max(np.abs(reference))
    assert error <= bound, f"max abs error {error:.3g} > {bound:.3g} ({rtol} * max|ref|)"


def assert_db_close(actual, reference, top_db, atol=0.01):
    """The contract's dB bound, per example, above the reference's top_db floor.

    Without ``top_db`` every value is compared.
    """
    actual, reference = np.asarray(actual, np.float64), np.asarray(reference, np.float64)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    assert np.all(np.isfinite(actual))
    for a, r in zip(actual, reference):
        keep = np.ones(r.shape, bool) if top_db is None else r > r.max() - top_db + 1e-9
        error = np.max(np.abs(a[keep] - r[keep]))
        assert error <= atol, f"max dB error {error:.4g} > {atol} over {keep.sum()} values"


def input_gradient(fn, x, probe):
    """d sum(fn(x) * probe) / dx with the current backend's autodiff, as numpy."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: (fn(v) * probe).sum())(keras.ops.convert_to_tensor(x)))
    if backend == "tensorflow":
        import tensorflow as tf

        v = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(v)
            loss = tf.reduce_sum(fn(v) * probe)
        return tape.gradient(loss, v).numpy()
    import torch

    v = torch.tensor(x, requires_grad=True)
    (fn(v) * torch.tensor(probe)).sum().backward()
    return v.grad.numpy()
