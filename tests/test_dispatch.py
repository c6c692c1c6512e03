"""`implementation="auto"`: which STFT path a frozen layer takes, per backend, size and mode.

The dispatch table's numbers are measurements (see `audiofront.dispatch`); these tests check
that a layer reads them as documented: the blocked path from `BLOCKED_FROM` framed floats,
the FFT path below it or at an unknown size, and on TensorFlow the blocked path only under
XLA (eagerly and in a plain ``tf.function`` its loop runs block by block, 5.8x and 1.3x
slower than the FFT path on the kapre workload).
"""

from unittest import mock

import keras
import numpy as np
import pytest

import audiofront as af
from audiofront import dispatch
from audiofront import functional as F
from audiofront.testing import assert_same
from audiofront.tools import backend

BACKEND = keras.backend.backend()
KEY = (BACKEND, "cpu")


def test_below_the_threshold_or_unknown_the_fft_path():
    threshold = dispatch.BLOCKED_FROM[KEY]
    assert dispatch.frozen_path(device="cpu", framed=threshold - 1) == "fft"
    assert dispatch.frozen_path(device="cpu", framed=None) == "fft"


def test_from_the_threshold_eagerly_blocked_except_on_tensorflow():
    path = dispatch.frozen_path(device="cpu", framed=dispatch.BLOCKED_FROM[KEY])
    assert path == ("fft" if BACKEND == "tensorflow" else "blocked")


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's graph modes")
@pytest.mark.parametrize("jit_compile, expected", [(True, "blocked"), (False, "fft")])
def test_tensorflow_takes_the_blocks_under_xla_only(jit_compile, expected):
    import tensorflow as tf

    framed = dispatch.BLOCKED_FROM[KEY]
    seen = []

    @tf.function(jit_compile=jit_compile)
    def traced(x):
        seen.append(dispatch.frozen_path(device="cpu", framed=framed))
        return x

    traced(tf.constant(1.0))
    assert seen == [expected]


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_an_auto_layer_past_the_threshold_takes_the_path_the_table_gives(mode):
    """A frozen auto MelSpectrogram, with the threshold lowered to its input, computes
    through `functional.blocked_stft` where the table says so, and gives the FFT path's
    numbers either way."""
    x = np.random.default_rng(0).standard_normal((2, 4000)).astype("float32")
    params = dict(sample_rate=8000, n_fft=256, n_mels=32, decibel=True)
    reference = keras.ops.convert_to_numpy(af.MelSpectrogram(implementation="fft", **params)(x))
    here = (BACKEND, dispatch.current_device())  # the GPU sessions run this file too
    with (
        mock.patch.dict(dispatch.BLOCKED_FROM, {here: 1}),
        mock.patch.object(F, "blocked_stft", wraps=F.blocked_stft) as blocked,
    ):
        layer = af.MelSpectrogram(**params)
        layer.build(x.shape)
        call = backend.compile(layer) if mode == "compiled" else layer
        out = keras.ops.convert_to_numpy(call(keras.ops.convert_to_tensor(x)))
    takes_blocks = not (BACKEND == "tensorflow" and mode == "eager")
    assert blocked.called == takes_blocks
    assert_same(out, reference)
