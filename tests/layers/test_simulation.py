"""Simulating the real world: audiofront's own randomness, RandomGain, Reverb, BandPassFilter,
BackgroundNoise, each against a closed form or numpy, on the current backend; compiled
training calls equal eager ones. (Same draws across backends: tests/test_cross_backend.py.)"""

import numpy as np
import pytest
import scipy.signal
import scipy.stats

from audiofront import (
    AdditiveNoise,
    BackgroundNoise,
    BandPassFilter,
    RandomGain,
    Reverb,
    SpecAugment,
    random,
)
from audiofront.testing import assert_raises_naming, to_numpy
from audiofront.tools import backend
from conftest import fsdd_batch

SR = 8000


def speech(batch=4, length=8000):
    return fsdd_batch(length=length)[:batch]


# ---------------------------------------------------------------- the generator


def triple32_uint32(x):
    """The reference: Chris Wellons' triple32 on numpy uint32 (wrapping arithmetic)."""
    x = np.asarray(x, np.uint32)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint32(17)
        x *= np.uint32(0xED5AD4BB)
        x ^= x >> np.uint32(11)
        x *= np.uint32(0xAC4C1B51)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x31848BAB)
        x ^= x >> np.uint32(14)
    return x


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_hash_bits_equal_a_numpy_uint32_reference(compiled):
    x = np.concatenate([np.arange(-70000, 70000, 13), [-(2**31), 2**31 - 1]]).astype(np.int32)
    fn = backend.compile(random.triple32) if compiled else random.triple32
    got = to_numpy(fn(backend.to_device(x)))
    np.testing.assert_array_equal(got.view(np.uint32), triple32_uint32(x.view(np.uint32)))


def test_draw_bits_are_the_documented_hash_of_key_counter_stream_and_index():
    key, counter, stream = random.seed_key(7), 3, 2
    bits = to_numpy(random.random_bits((5,), key, counter, stream)).view(np.uint32)
    golden, mix = np.uint64(0x9E3779B9), np.uint64(0x85EBCA6B)
    with np.errstate(over="ignore"):
        start = (np.uint64(counter) * golden + np.uint64(stream) * mix) & np.uint64(0xFFFFFFFF)
        base = triple32_uint32(np.uint32(start) ^ np.uint32(key & 0xFFFFFFFF))
        index = (np.arange(5, dtype=np.uint64) * golden) & np.uint64(0xFFFFFFFF)
        expected = triple32_uint32(index.astype(np.uint32) ^ base)
    np.testing.assert_array_equal(bits, expected)


def test_uniform_and_normal_draws_have_their_distributions():
    key = random.seed_key(0)
    u = to_numpy(random.uniform((200_000,), key, 0, 0))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert scipy.stats.kstest(u, "uniform").statistic < 0.005
    z = to_numpy(random.normal((200_000,), key, 0, 1))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert scipy.stats.kstest(z, "norm").statistic < 0.005


def test_streams_counters_and_seeds_give_unrelated_draws():
    draws = [
        to_numpy(random.uniform((50_000,), random.seed_key(seed), counter, stream))
        for seed, counter, stream in [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0)]
    ]
    correlation = np.corrcoef(draws)
    assert np.abs(correlation[np.triu_indices(4, 1)]).max() < 0.02


# ---------------------------------------------------------------- the layers


def train_calls(layer, x, count=2):
    return [to_numpy(layer(x, training=True)) for _ in range(count)]


RANDOM_LAYERS = {
    "gain": lambda: RandomGain(seed=1),
    "reverb": lambda: Reverb(rt60=(0.1, 0.4), sample_rate=SR, seed=2),
    "band_pass": lambda: BandPassFilter(
        sample_rate=SR, low_hz=(50.0, 300.0), high_hz=(2000.0, 3500.0), seed=3
    ),
    "background": lambda: BackgroundNoise(
        np.random.default_rng(0).standard_normal((3, 5000)), snr_db=(5.0, 20.0), seed=4
    ),
    "noise": lambda: AdditiveNoise(snr_db=(5.0, 20.0), noise="pink", seed=5, probability=0.7),
}


@pytest.mark.parametrize("name", RANDOM_LAYERS)
def test_identity_at_inference_and_calls_differ_in_training(name):
    x = speech()
    layer = RANDOM_LAYERS[name]()
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    first, second = train_calls(layer, x)
    assert not np.array_equal(first, second) and not np.array_equal(first, x)
    assert int(to_numpy(layer.counter)) == 2
    again = train_calls(RANDOM_LAYERS[name](), x)  # the same seed: the same sequence
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)


@pytest.mark.parametrize("name", RANDOM_LAYERS)
def test_compiled_training_calls_equal_eager_ones(name):
    x = speech()
    eager = train_calls(RANDOM_LAYERS[name](), x)
    layer = RANDOM_LAYERS[name]()
    layer(x)
    compiled = backend.compile_training_call(layer)
    for expected in eager:
        got = to_numpy(compiled(backend.to_device(x)))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    assert int(to_numpy(layer.counter)) == 2


@pytest.mark.skipif(backend.name() != "torch", reason="graph breaks are a torch.compile notion")
@pytest.mark.parametrize("name", [*RANDOM_LAYERS, "specaugment"])
def test_training_calls_have_no_graph_break_under_torch_compile(name):
    import torch._dynamo

    if name == "specaugment":
        layer, x = (
            SpecAugment(freq_mask_param=5, time_mask_param=8, seed=1),
            np.ones((2, 40, 30, 1)),
        )
    else:
        layer, x = RANDOM_LAYERS[name](), speech()
    x = backend.to_device(np.asarray(x, np.float32))
    layer(x)
    explanation = torch._dynamo.explain(lambda v: layer(v, training=True))(x)
    assert explanation.graph_break_count == 0, [b.reason for b in explanation.break_reasons]


def test_random_gain_is_uniform_in_db_and_shared_by_channels():
    x = np.ones((4000, 50, 2), "float32")
    y = to_numpy(RandomGain(min_db=-10.0, max_db=4.0, seed=0)(x, training=True))
    assert np.all(y == y[:, :1, :1])  # one gain per example, every sample and channel
    gains_db = 20 * np.log10(y[:, 0, 0])
    assert gains_db.min() >= -10.0 - 1e-4 and gains_db.max() <= 4.0 + 1e-4
    assert scipy.stats.kstest((gains_db + 10.0) / 14.0, "uniform").statistic < 0.03
    fixed = to_numpy(RandomGain(min_db=-6.0, max_db=-6.0)(x[:3], training=True))
    np.testing.assert_allclose(fixed, 10 ** (-6 / 20), rtol=1e-6)


@pytest.mark.parametrize("probability", [0.0, 0.3, 1.0])
def test_probability_is_drawn_per_example(probability):
    x = np.ones((4000, 10), "float32")
    y = to_numpy(
        RandomGain(min_db=6.0, max_db=6.0, probability=probability, seed=1)(x, training=True)
    )
    changed = (y[:, 0] != 1.0).mean()
    assert abs(changed - probability) < 0.03
    assert np.all((y[:, 0] == 1.0) | np.isclose(y[:, 0], 10 ** (6 / 20)))


def test_given_impulse_response_is_exactly_the_causal_convolution_at_the_input_rms():
    x = speech(batch=3, length=4000)
    rng = np.random.default_rng(1)
    rooms = rng.standard_normal((1, 700)) * np.exp(-np.arange(700) / 150.0)
    layer = Reverb(impulse_responses=rooms, seed=0)
    y = to_numpy(layer(x, training=True))
    for example, out in zip(x.astype(np.float64), y):
        full = np.convolve(example, rooms[0])[: len(example)]
        expected = full * np.sqrt((example**2).mean() / (full**2).mean())
        np.testing.assert_allclose(out, expected, atol=2e-5 * np.abs(expected).max())


def test_impulse_responses_longer_than_the_input_keep_its_length():
    x = speech(batch=2, length=500)
    rooms = np.random.default_rng(2).standard_normal((2, 3000))
    y = to_numpy(Reverb(impulse_responses=rooms, seed=0)(x, training=True))
    assert y.shape == x.shape and np.all(np.isfinite(y))


def schroeder_t30(response, sample_rate):
    """RT60 from the Schroeder integral: 2 x the time from -5 to -35 dB, by a line fit."""
    energy = np.cumsum((response**2)[::-1])[::-1]
    decay = 10 * np.log10(energy / energy[0])
    section = (decay <= -5) & (decay >= -35)
    t = np.arange(len(response))[section] / sample_rate
    slope = np.polyfit(t, decay[section], 1)[0]  # dB per second
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.2, 0.5, 1.0])
def test_synthetic_rt60_is_recovered_by_schroeder_t30(rt60):
    impulse = np.zeros((8, SR * 2), "float32")
    impulse[:, 0] = 1.0  # the output is the drawn response (rescaled)
    y = to_numpy(Reverb(rt60=(rt60, rt60), sample_rate=SR, seed=3)(impulse, training=True))
    estimates = [schroeder_t30(response, SR) for response in y]
    assert np.all(np.abs(np.array(estimates) / rt60 - 1) < 0.25), estimates


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_channels_of_an_example_share_the_room(data_format):
    x = speech(batch=2, length=3000)
    stereo = np.stack([x, 0.5 * x], axis=-1)  # the second channel a copy at half level
    layer = Reverb(rt60=(0.2, 0.6), sample_rate=SR, seed=4, data_format=data_format)
    y = to_numpy(
        layer(
            stereo if data_format == "channels_last" else np.moveaxis(stereo, -1, 1), training=True
        )
    )
    y = y if data_format == "channels_last" else np.moveaxis(y, 1, -1)
    np.testing.assert_allclose(y[..., 1], 0.5 * y[..., 0], atol=1e-6 * np.abs(y).max())


def band_gain_db(layer, frequencies, length=SR * 2):
    """The layer's gain at each frequency, from sinusoids (the middle half, away from the
    ends), in dB."""
    t = np.arange(length) / SR
    tones = np.stack([np.sin(2 * np.pi * f * t) for f in frequencies]).astype("float32")
    out = to_numpy(layer(tones, training=True))
    middle = slice(length // 4, 3 * length // 4)
    return 20 * np.log10(np.abs(out[:, middle]).max(axis=1) / np.abs(tones[:, middle]).max(axis=1))


@pytest.mark.parametrize("low,high", [(100.0, 1600.0), (300.0, 3000.0), (50.0, 900.0)])
def test_band_pass_response_is_flat_inside_and_30_db_down_an_octave_beyond(low, high):
    layer = BandPassFilter(sample_rate=SR, low_hz=(low, low), high_hz=(high, high), seed=0)
    inside = band_gain_db(layer, np.geomspace(2 * low, high / 2, 7))
    assert np.abs(inside).max() <= 1.0, inside
    outside = band_gain_db(layer, [low / 2, low / 3, min(2 * high, SR / 2 * 0.98)])
    beyond_high = 2 * high < SR / 2  # the octave above the cut-off exists below Nyquist
    assert outside[0] <= -30.0 and outside[1] <= -30.0, outside
    if beyond_high:
        assert outside[2] <= -30.0, outside


def test_band_pass_draws_cut_offs_in_their_ranges_per_example():
    layer = BandPassFilter(sample_rate=SR, low_hz=(100.0, 400.0), high_hz=(1500.0, 3000.0), seed=5)
    x = np.random.default_rng(0).standard_normal((64, SR)).astype("float32")
    y = to_numpy(layer(x, training=True))
    f, ratio = scipy.signal.welch(y, fs=SR, nperseg=512)
    _, reference = scipy.signal.welch(x, fs=SR, nperseg=512)
    gain_db = 10 * np.log10(ratio / reference)
    half_power_high = [f[(g > -3) & (f > 1000)].max() for g in gain_db]
    assert 1400 <= min(half_power_high) and max(half_power_high) <= 3100
    assert np.std(half_power_high) > 200  # drawn per example, not one for the batch


@pytest.mark.parametrize("noise_length", [20000, 700], ids=["crop", "tiling"])
def test_background_noise_reaches_its_snr_for_quiet_and_loud_examples(noise_length):
    x = speech(batch=4)
    x[1] *= 1e-3
    x[2] *= 10.0
    noises = np.random.default_rng(3).standard_normal((3, noise_length)) * [[1.0], [0.01], [5.0]]
    layer = BackgroundNoise(noises, snr_db=(0.0, 20.0), seed=6)
    snrs = []
    for _ in range(3):
        added = to_numpy(layer(x, training=True)) - x
        snr = 10 * np.log10(
            (x.astype(np.float64) ** 2).mean(1) / (added.astype(np.float64) ** 2).mean(1)
        )
        assert np.all((snr > -0.5) & (snr < 20.5)), snr
        snrs.append(snr)
    fixed = BackgroundNoise(noises, snr_db=12.0, seed=6)
    added = to_numpy(fixed(x, training=True)) - x
    snr = 10 * np.log10(
        (x.astype(np.float64) ** 2).mean(1) / (added.astype(np.float64) ** 2).mean(1)
    )
    np.testing.assert_allclose(snr, 12.0, atol=0.5)
    assert np.std(np.concatenate(snrs)) > 2.0


def test_background_noise_is_a_crop_or_tiling_of_one_recording_shared_by_channels():
    rng = np.random.default_rng(4)
    noises = rng.standard_normal((2, 300))
    x = np.ones((3, 1000, 2), "float32")
    added = to_numpy(BackgroundNoise(noises, snr_db=0.0, seed=1)(x, training=True)) - x
    np.testing.assert_allclose(added[..., 0], added[..., 1], atol=1e-6)
    for example in added[..., 0]:
        scale = np.abs(example).max() / max(np.abs(noises[0]).max(), np.abs(noises[1]).max())
        matches = []
        for row in noises:
            for offset in range(300):
                tiled = np.tile(np.roll(row, -offset), 4)[:1000]
                g = (example @ tiled) / (tiled @ tiled)
                matches.append(np.abs(example - g * tiled).max())
        assert min(matches) < 1e-4 * scale * 10, min(matches)


# ---------------------------------------------------------------- bad input

CONSTRUCTION_ERRORS = [
    (RandomGain, dict(min_db=3.0, max_db=-3.0), ["`min_db`", "`max_db`"]),
    (RandomGain, dict(probability=1.5), ["`probability`", "1.5"]),
    (RandomGain, dict(seed=1.5), ["`seed`"]),
    (Reverb, dict(impulse_responses=np.ones(100)), ["`impulse_responses`", "2-D", "(100,)"]),
    (Reverb, dict(impulse_responses=np.ones((0, 10))), ["`impulse_responses`", "non-empty"]),
    (Reverb, dict(rt60=(1.0, 0.5)), ["`rt60`", "low <= high"]),
    (Reverb, dict(rt60=(0.0, 0.5)), ["`rt60`", "positive"]),
    (BandPassFilter, dict(low_hz=(600.0, 300.0)), ["`low_hz`", "low <= high"]),
    (
        BandPassFilter,
        dict(low_hz=(100.0, 2500.0)),
        ["`low_hz`", "`high_hz`", "low_hz[1] < high_hz[0]"],
    ),
    (
        BandPassFilter,
        dict(sample_rate=8000, high_hz=(2000.0, 4000.0)),
        ["`high_hz`", "Nyquist", "4000"],
    ),
    (BandPassFilter, dict(low_hz=(0.0, 100.0)), ["`low_hz`", "above 0"]),
    (BackgroundNoise, dict(noises=np.ones((3, 0))), ["`noises`", "non-empty"]),
    (BackgroundNoise, dict(noises=[[1.0, np.nan]]), ["`noises`", "finite"]),
    (BackgroundNoise, dict(noises=np.ones((2, 10)), snr_db=(20.0, 10.0)), ["`snr_db`"]),
]


@pytest.mark.parametrize(
    "layer,kwargs,words",
    CONSTRUCTION_ERRORS,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CONSTRUCTION_ERRORS)],
)
def test_bad_argument_raises_value_error_naming_it(layer, kwargs, words):
    assert_raises_naming(lambda: layer(**kwargs), words)


def test_fixed_ranges_and_wrong_ranks():
    x = speech(batch=2, length=2000)
    BandPassFilter(sample_rate=SR, low_hz=(200.0, 200.0), high_hz=(3000.0, 3000.0))(
        x, training=True
    )
    Reverb(rt60=(0.3, 0.3), sample_rate=SR)(x, training=True)
    with pytest.raises(ValueError, match=r"2-D \(batch, samples\).*\(2, 10, 10, 1\)"):
        Reverb()(np.zeros((2, 10, 10, 1), "float32"))
    with pytest.raises(TypeError, match="int32"):
        RandomGain()(np.zeros((2, 10), "int32"))
