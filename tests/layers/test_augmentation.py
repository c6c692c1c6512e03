"""AdditiveNoise and SpecAugment: identity at inference, the right statistics in training."""

import keras
import numpy as np
import pytest

from audiofront import AdditiveNoise, SpecAugment
from audiofront.testing import to_numpy
from conftest import fsdd_batch

# ---------------------------------------------------------------- AdditiveNoise


@pytest.mark.parametrize("noise", ["white", "pink", "brown"])
def test_noise_is_identity_at_inference(noise):
    x = fsdd_batch(length=2000)
    layer = AdditiveNoise(power=0.5, noise=noise, seed=0)
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)
    inputs = keras.Input(shape=(2000,))
    model = keras.Model(inputs, AdditiveNoise(power=0.5, noise=noise)(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def drawn_noise(layer, shape):
    x = np.zeros(shape, "float32")
    return to_numpy(layer(x, training=True))


@pytest.mark.parametrize("noise", ["white", "pink", "brown"])
@pytest.mark.parametrize("power", [0.01, 1.0, 3.0])
def test_noise_is_zero_mean_with_variance_power(noise, power):
    out = drawn_noise(AdditiveNoise(power=power, noise=noise, seed=1), (8, 4000))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-4 * np.sqrt(power))
    np.testing.assert_allclose(out.var(axis=1), power, rtol=1e-3)


def spectral_slope_db_per_octave(noise):
    """Fit of 10 log10(mean periodogram) against log2(frequency), between 1/256 and 1/4 of fs."""
    n = noise.shape[1]
    psd = np.mean(np.abs(np.fft.rfft(noise, axis=1)) ** 2, axis=0)
    k = np.arange(n // 256, n // 4)
    return np.polyfit(np.log2(k), 10 * np.log10(psd[k]), 1)[0]


@pytest.mark.parametrize("noise,slope", [("white", 0.0), ("pink", -3.01), ("brown", -6.02)])
def test_noise_spectra_have_the_right_slopes(noise, slope):
    out = drawn_noise(AdditiveNoise(power=1.0, noise=noise, seed=2), (64, 8192))
    assert abs(spectral_slope_db_per_octave(out) - slope) < 0.25


def test_colour_runs_along_the_chosen_axis():
    # channels_first waveforms (batch, channels, samples): colour along the last axis.
    out = drawn_noise(AdditiveNoise(power=1.0, noise="brown", seed=3, axis=-1), (32, 2, 8192))
    assert abs(spectral_slope_db_per_octave(out.reshape(64, 8192)) + 6.02) < 0.3
    # channels_last (batch, samples, channels): the default axis=1.
    out = drawn_noise(AdditiveNoise(power=1.0, noise="pink", seed=3), (32, 8192, 2))
    assert (
        abs(spectral_slope_db_per_octave(np.transpose(out, (0, 2, 1)).reshape(64, 8192)) + 3.01)
        < 0.3
    )


def test_random_gain_spreads_levels_uniformly_below_power():
    power = 2.0
    out = drawn_noise(AdditiveNoise(power=power, random_gain=True, seed=4), (4000, 64))
    gains = np.sort(out.var(axis=1) / power)
    assert gains.min() >= 0.0 and gains.max() < 1.0
    uniform = (np.arange(len(gains)) + 0.5) / len(gains)
    assert np.abs(gains - uniform).max() < 0.04  # Kolmogorov-Smirnov distance


@pytest.mark.parametrize("noise", ["white", "pink"])
def test_snr_db_is_reached_per_example_for_quiet_and_loud(noise):
    x = fsdd_batch(length=6000)
    x[0] *= 1e-3
    x[1] *= 10.0
    out = to_numpy(AdditiveNoise(snr_db=10.0, noise=noise, seed=5)(x, training=True))
    snr = 10 * np.log10(
        np.mean(x.astype(np.float64) ** 2, axis=1) / np.mean((out - x) ** 2, axis=1)
    )
    np.testing.assert_allclose(snr, 10.0, atol=0.5)


def test_snr_db_range_is_drawn_per_example():
    x = np.repeat(fsdd_batch(length=4000)[:1], 256, axis=0)
    out = to_numpy(AdditiveNoise(snr_db=(0.0, 20.0), seed=6)(x, training=True))
    snr = 10 * np.log10(
        np.mean(x.astype(np.float64) ** 2, axis=1) / np.mean((out - x) ** 2, axis=1)
    )
    assert snr.min() >= -0.5 and snr.max() <= 20.5
    assert snr.std() > 4.0  # uniform on [0, 20] has std 5.8


def test_same_seed_same_noise_and_successive_calls_differ():
    x = np.zeros((4, 1000), "float32")
    a, b = AdditiveNoise(seed=7), AdditiveNoise(seed=7)
    first_a, first_b = to_numpy(a(x, training=True)), to_numpy(b(x, training=True))
    np.testing.assert_array_equal(first_a, first_b)
    second_a = to_numpy(a(x, training=True))
    assert not np.allclose(first_a, second_a)
    assert not np.allclose(first_a[0], first_a[1])  # examples differ within a batch
    np.testing.assert_array_equal(second_a, to_numpy(b(x, training=True)))


def test_noise_on_spectrograms_of_any_shape():
    spec = np.ones((2, 30, 40, 3), "float32")
    out = to_numpy(AdditiveNoise(power=0.25, noise="pink", seed=8)(spec, training=True))
    assert out.shape == spec.shape
    np.testing.assert_allclose((out - spec).reshape(2, -1).var(axis=1), 0.25, rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(power=-0.1), "`power`.*-0.1"),
        (dict(noise="blue"), "`noise`.*'white'.*'blue'"),
        (dict(snr_db=(20.0, 10.0)), "`snr_db`"),
        (dict(snr_db="10"), "`snr_db`"),
        (dict(axis=0), "`axis`"),
        (dict(random_gain="yes"), "`random_gain`"),
        (dict(seed=1.5), "`seed`"),
    ],
)
def test_noise_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdditiveNoise(**kwargs)


# ---------------------------------------------------------------- SpecAugment

T, F, C = 100, 80, 2


def masked(layer, batch=64, data_format="channels_last"):
    """Runs ``layer`` in training on ones and returns the mask as (batch, T, F, C) booleans."""
    shape = (batch, T, F, C) if data_format == "channels_last" else (batch, C, T, F)
    out = to_numpy(layer(np.ones(shape, "float32"), training=True))
    if data_format == "channels_first":
        out = np.transpose(out, (0, 2, 3, 1))
    assert set(np.unique(out)) <= {1.0, layer.mask_value}
    return out == layer.mask_value


def intervals(row):
    """(start, width) of the runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts, ends - starts))


def test_specaugment_is_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(4, T, F, C)).astype("float32")
    layer = SpecAugment(freq_mask_param=30, time_mask_param=40, seed=0)
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_frequency_masks_are_within_their_parameter_and_fill_value(data_format):
    param = 20
    layer = SpecAugment(
        freq_mask_param=param, time_mask_param=0, mask_value=-7.5, seed=1, data_format=data_format
    )
    mask = masked(layer, batch=256, data_format=data_format)
    # A frequency mask covers every frame: the mask is constant along time.
    assert np.all(mask == mask[:, :1])
    widths = []
    for b in range(mask.shape[0]):
        for c in range(C):
            runs = intervals(mask[b, 0, :, c])
            assert len(runs) <= 1
            widths.append(runs[0][1] if runs else 0)
            if runs:
                assert runs[0][0] + runs[0][1] <= F
    widths = np.array(widths)
    assert widths.max() < param
    # torchaudio: width = floor(u * param), uniform over 0 .. param - 1.
    counts = np.bincount(widths, minlength=param)
    assert np.abs(counts / len(widths) - 1 / param).max() < 0.035
    np.testing.assert_allclose(widths.mean(), (param - 1) / 2, atol=1.0)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_time_masks_are_within_their_parameter(data_format):
    param = 30
    layer = SpecAugment(freq_mask_param=0, time_mask_param=param, seed=2, data_format=data_format)
    mask = masked(layer, batch=128, data_format=data_format)
    assert np.all(mask == mask[:, :, :1])  # constant along frequency
    starts, widths = [], []
    for b in range(mask.shape[0]):
        for c in range(C):
            runs = intervals(mask[b, :, 0, c])
            assert len(runs) <= 1
            if runs:
                starts.append(runs[0][0])
                widths.append(runs[0][1])
                assert runs[0][0] + runs[0][1] <= T
    assert max(widths) < param
    # Starts spread over the valid range, not bunched at zero.
    assert min(starts) < 10 and max(starts) > T - param
    # Masks differ per example and per channel (iid masks).
    assert len(set(zip(starts, widths))) > len(starts) // 2


def test_several_masks_per_axis():
    one = masked(SpecAugment(freq_mask_param=10, time_mask_param=10, seed=3), batch=256)
    three = masked(
        SpecAugment(freq_mask_param=10, time_mask_param=10, n_freq_masks=3, n_time_masks=3, seed=3),
        batch=256,
    )
    freq_runs = [
        len(intervals(three[b, :, :, c].all(axis=0))) for b in range(256) for c in range(C)
    ]
    assert max(freq_runs) >= 3 or np.mean(freq_runs) > 1.5
    # Each frequency mask is at most 9 bins: three of them mask at most 27 bins.
    assert three.all(axis=1).sum(axis=1).max() <= 27
    assert three.mean() > 2 * one.mean()


def test_mask_param_larger_than_axis_is_capped():
    mask = masked(SpecAugment(freq_mask_param=500, time_mask_param=500, seed=4), batch=32)
    assert not mask.all()  # a mask never spills over the axis


def test_specaugment_seed_reproducible_and_calls_differ():
    x = np.ones((8, T, F, C), "float32")
    a, b = SpecAugment(seed=9), SpecAugment(seed=9)
    np.testing.assert_array_equal(to_numpy(a(x, training=True)), to_numpy(b(x, training=True)))
    assert not np.array_equal(to_numpy(a(x, training=True)), to_numpy(a(x, training=True)))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(freq_mask_param=-1), "`freq_mask_param`.*-1"),
        (dict(time_mask_param=2.5), "`time_mask_param`.*2.5"),
        (dict(n_freq_masks=-2), "`n_freq_masks`"),
        (dict(n_time_masks="1"), "`n_time_masks`"),
        (dict(mask_value="min"), "`mask_value`"),
        (dict(data_format="nchw"), "`data_format`"),
    ],
)
def test_specaugment_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpecAugment(**kwargs)


def test_specaugment_rejects_non_4d():
    with pytest.raises(ValueError, match=r"4-D.*\(2, 10\)"):
        SpecAugment()(np.zeros((2, 10), "float32"))
