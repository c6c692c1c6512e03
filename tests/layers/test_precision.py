"""Mixed precision: the front-end computes in float32 whatever the global policy or input dtype."""

import keras
import librosa
import numpy as np
import pytest

from audiofront import STFT, Decibel, Filterbank, MelSpectrogram, Spectrogram
from audiofront.testing import assert_db_close, assert_linear_close, to_numpy
from conftest import fsdd_batch

MEL = dict(sample_rate=8000, n_fft=512, hop_length=128, n_mels=40)


def mel_reference(batch, decibel):
    mel = np.stack(
        [
            librosa.feature.melspectrogram(
                y=y.astype(np.float64), sr=8000, n_fft=512, hop_length=128, n_mels=40
            ).T
            for y in batch
        ]
    )
    return np.stack([librosa.power_to_db(m) for m in mel]) if decibel else mel


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("decibel", [False, True])
def test_mixed_policy_model_keeps_front_end_in_float32(policy, decibel):
    keras.config.set_dtype_policy(policy)
    front_end = MelSpectrogram(**MEL, decibel=decibel)
    assert front_end.compute_dtype == "float32" and front_end.variable_dtype == "float32"
    conv = keras.layers.Conv2D(4, 3)
    inputs = keras.Input(shape=(6000,))
    features = front_end(inputs)
    model = keras.Model(inputs, [features, conv(features)])
    assert conv.compute_dtype == policy.split("_")[1]
    batch = fsdd_batch()
    out, after = model.predict(batch, verbose=0)
    assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.all(np.isfinite(after))
    reference = mel_reference(batch, decibel)
    if decibel:
        assert_db_close(out[..., 0], reference, top_db=80.0)
    else:
        assert_linear_close(out[..., 0], reference)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_every_layer_defaults_to_float32_under_mixed_policy(policy):
    keras.config.set_dtype_policy(policy)
    for layer in (STFT(), Spectrogram(), MelSpectrogram(), Filterbank(), Decibel()):
        assert layer.compute_dtype == "float32", type(layer).__name__


def test_loud_input_does_not_overflow_under_float16_policy():
    """Power spectra of full-scale audio exceed float16's 65504; float32 inside keeps them."""
    keras.config.set_dtype_policy("mixed_float16")
    x = np.sign(fsdd_batch()).astype("float32")  # a full-scale square-ish wave
    out = to_numpy(Spectrogram(n_fft=2048, hop_length=512)(x))
    assert np.all(np.isfinite(out)) and out.max() > 65504


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_low_and_high_precision_inputs_are_computed_in_float32(dtype):
    batch = fsdd_batch()
    # float64 as a numpy array: JAX without x64 has no float64 tensors to cast to.
    x = batch.astype(dtype) if dtype == "float64" else keras.ops.cast(batch, dtype)
    rounded = to_numpy(keras.ops.cast(x, "float32"))  # what the layer actually receives
    out = to_numpy(MelSpectrogram(**MEL)(x))
    assert out.dtype == np.float32
    assert_linear_close(out[..., 0], mel_reference(rounded, decibel=False))
