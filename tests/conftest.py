"""Shared fixtures and data. The suite runs once per backend: KERAS_BACKEND picks it (nox does).

tests/layers/ tests the layers, tests/tools/ the tools, tests/ the package and the
cross-backend session. Helpers with the contract's bounds live in `audiofront.testing`;
the table of layer cases in `audiofront.tools.cases`.

Device: tests run where the backend puts tensors by default: the GPU when one is present,
else the CPU (``AUDIOFRONT_DEVICE=cpu|gpu`` forces one, through ``keras.device``). On a GPU,
TF32 is turned off so that the same tolerances hold.
"""

import contextlib
import os
from unittest import mock

# Keras's conftest habit: in a process that may hold several backends, torch goes first.
try:  # pragma: no cover - depends on what is installed
    import torch  # noqa: F401
except ImportError:
    pass

import keras
import numpy as np
import pytest

from audiofront import dispatch
from audiofront.tools import backend, datasets

# Real 8 kHz speech; the same few recordings in every parity test.
FSDD_FILES = ("7_jackson_32.wav", "0_george_10.wav", "3_theo_7.wav", "9_yweweler_41.wav")
DEVICE = os.environ.get("AUDIOFRONT_DEVICE") or backend.device_kind()


def pytest_addoption(parser):
    parser.addoption(
        "--cross-backend",
        action="store_true",
        help="run only the cross-backend tests (they need jax, torch and tensorflow installed)",
    )


def pytest_collection_modifyitems(config, items):
    """Cross-backend tests run with --cross-backend and nothing else runs then. A test marked
    ``once(backend)`` checks tooling that does not depend on the backend (usage errors,
    report files, experiment records): it runs in that backend's session, is skipped in the
    others, and so costs the matrix one run instead of three."""
    wanted = config.getoption("--cross-backend")
    keep = [item for item in items if ("cross_backend" in item.keywords) == wanted]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    for item in items:
        once = item.get_closest_marker("once")
        if once and once.args[0] != keras.backend.backend():
            reason = f"backend-independent tooling: runs in the {once.args[0]} session"
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_configure(config):
    if DEVICE == "gpu":
        backend.disable_tf32()
        if keras.backend.backend() == "torch":
            import torch

            # cuDNN may pick another convolution algorithm for a second layer of the same
            # shape (rounding apart by an ulp); the exact checks (a layer from its config
            # computes the same) need one choice.
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}, device: {DEVICE}"


@pytest.fixture(autouse=True)
def device():
    """The device the test runs on, ``"cpu"`` or ``"gpu"`` (see the module docstring)."""
    if os.environ.get("AUDIOFRONT_DEVICE"):
        with keras.device(f"{DEVICE}:0"):
            yield DEVICE
    else:
        yield DEVICE


@pytest.fixture(autouse=True)
def _float32_policy():
    """Each test starts and ends under the float32 global policy."""
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def fsdd_root():
    """The FSDD folder; a skip outside CI when it is missing (CI must have it)."""
    try:
        return datasets.fsdd_path()
    except FileNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


def fsdd_batch(length=6000, names=FSDD_FILES):
    """A float32 batch of FSDD recordings, zero-padded or cropped to ``length``."""
    root = fsdd_root()
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


@contextlib.contextmanager
def block_frames(frames):
    """Layers built and called inside take ``frames`` frames per block on the blocked STFT
    path, whatever the batch: a test's short signals then span several blocks, the last one
    partial, as a long signal does with the measured block size."""
    with mock.patch.object(dispatch, "block_frames", lambda batch, backend=None: frames):
        yield
