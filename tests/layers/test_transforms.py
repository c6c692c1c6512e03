"""InverseSTFT, MFCC, Delta and PCEN against librosa over parameter grids, on FSDD speech and
synthetic signals; the STFT round trip; the learnable PCEN; bad input.

References are librosa in float64 on the float64 copy of the float32 input; the bounds are
the contract's: within 1e-4 * max|ref|."""

import keras
import librosa
import numpy as np
import pytest

from audiofront import MFCC, PCEN, STFT, Delta, InverseSTFT
from audiofront.testing import assert_linear_close, assert_raises_naming, to_numpy
from conftest import fsdd_batch, synthetic_batch


def signal(kind, length=6000):
    if kind == "speech":
        return fsdd_batch(length=length)[:3]
    return synthetic_batch(length=length, sample_rate=8000)


def channels_last_to(x, data_format):
    return x if data_format == "channels_last" else np.moveaxis(x, -1, 1)


# ---------------------------------------------------------------- InverseSTFT

ISTFT_GRID = [
    # (n_fft, hop, win_length, window, center, length)
    (512, 128, None, "hann", True, None),
    (512, 256, None, "hann", True, 5000),
    (400, 100, 300, "hamming", True, 6500),
    (256, 64, None, "blackman", True, None),
    # center=False: the window's edge samples reach the output undivided only where the
    # window is exactly 0 there (hann; blackman's edge is a -1.4e-17 rounding residue whose
    # square librosa divides by in float64, which no float32 computation can follow)
    (256, 64, None, "hann", False, None),
    (1024, 256, 800, "hann", False, 5000),
    (256, 128, None, "rectangular", True, None),
]


def librosa_window(window):
    return "boxcar" if window == "rectangular" else window


@pytest.mark.parametrize("n_fft,hop,win_length,window,center,length", ISTFT_GRID)
@pytest.mark.parametrize("kind", ["speech", "synthetic"])
def test_inverse_stft_matches_librosa_istft(kind, n_fft, hop, win_length, window, center, length):
    x = signal(kind).astype(np.float64)
    framing = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center)
    spectrum = librosa.stft(x, window=librosa_window(window), **framing)  # (batch, bins, frames)
    reference = librosa.istft(spectrum, window=librosa_window(window), length=length, **framing)
    pair = [
        np.swapaxes(part, 1, 2)[..., None].astype(np.float32)
        for part in (spectrum.real, spectrum.imag)
    ]
    out = to_numpy(InverseSTFT(window=window, length=length, **framing)(pair))[..., 0]
    if not center:
        # Uncentred, the first and last samples are covered only by the window's tapering
        # ends; where librosa's normalisation divides by less than 1e-4 of the window sum's
        # steady value, it amplifies the float32 rounding of the spectrum (not of our
        # arithmetic: the input itself is float32) by as much. Those samples are left out.
        wss = librosa.filters.window_sumsquare(
            window=librosa_window(window), n_frames=spectrum.shape[-1], hop_length=hop,
            win_length=win_length, n_fft=n_fft)  # fmt: skip
        wss = librosa.util.fix_length(wss, size=reference.shape[-1])
        keep = wss >= 1e-4 * wss.max()
        assert (~keep).sum() < hop, (~keep).sum()
        out, reference = out[:, keep], reference[:, keep]
    assert_linear_close(out, reference)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_inverse_stft_of_stereo_in_both_layouts(data_format):
    x = fsdd_batch(length=5000)
    stereo = np.stack([x[:2], 0.1 * x[2:]], axis=-1)  # (2, samples, 2)
    spectrum = librosa.stft(
        np.moveaxis(stereo, -1, 1).astype(np.float64), n_fft=512, hop_length=128
    )
    reference = librosa.istft(spectrum, hop_length=128, length=5000)  # (2, 2, samples)
    pair = [
        channels_last_to(np.moveaxis(part, 1, -1).swapaxes(1, 2).astype(np.float32), data_format)
        for part in (spectrum.real, spectrum.imag)
    ]  # (batch, frames, bins, channels) per data_format
    layer = InverseSTFT(n_fft=512, hop_length=128, length=5000, data_format=data_format)
    out = to_numpy(layer(pair))
    expected = np.moveaxis(reference, 1, -1) if data_format == "channels_last" else reference
    assert out.shape == expected.shape
    assert_linear_close(out, expected)


ROUND_TRIPS = [
    # (n_fft, hop, win_length, window): all satisfy librosa's NOLA condition
    (512, 128, None, "hann"),
    (512, 256, None, "hann"),
    (400, 100, None, "hamming"),
    (1024, 256, None, "blackman"),
    (512, 128, 384, "hann"),
    (256, 128, None, "rectangular"),
    (400, 160, None, "hann"),
]


@pytest.mark.parametrize("n_fft,hop,win_length,window", ROUND_TRIPS)
@pytest.mark.parametrize("kind", ["speech", "synthetic"])
def test_round_trip_through_stft_gives_the_signal_back(kind, n_fft, hop, win_length, window):
    x = signal(kind)
    framing = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, window=window)
    spectrum = STFT(mode="complex", **framing)(x)
    y = to_numpy(InverseSTFT(length=x.shape[1], **framing)(spectrum))[..., 0]
    error = np.abs(y - x).max()
    assert error <= 1e-5 * np.abs(x).max(), f"round trip error {error:.3g}"


def test_trainable_synthesis_kernel_moves_and_starts_exact():
    x = fsdd_batch(length=4000)
    spectrum = [to_numpy(p) for p in STFT(n_fft=256, hop_length=64, mode="complex")(x)]
    inputs = [keras.Input(shape=p.shape[1:]) for p in spectrum]
    layer = InverseSTFT(n_fft=256, hop_length=64, length=4000, trainable=True)
    model = keras.Model(inputs, layer(inputs))
    before = to_numpy(layer.kernel).copy()
    y = to_numpy(model(spectrum))[..., 0]
    assert np.abs(y - x).max() <= 1e-5 * np.abs(x).max()
    model.compile(optimizer=keras.optimizers.SGD(1e-2), loss="mse")
    model.fit(spectrum, np.zeros((4, 4000, 1), "float32"), epochs=1, batch_size=4, verbose=0)
    after = to_numpy(layer.kernel)
    assert np.all(np.isfinite(after)) and np.abs(after - before).max() > 0


# ---------------------------------------------------------------- MFCC

MFCC_GRID = [
    # (n_mfcc, dct_type, dct_norm, lifter, n_fft, hop, n_mels, extra mel/dB settings, signal)
    (13, 2, "ortho", 0.0, 512, 128, 40, {}, "speech"),
    (13, 2, "ortho", 0.0, 512, 128, 40, {}, "synthetic"),
    (20, 2, None, 22.0, 256, 80, 40, {}, "speech"),
    (20, 2, None, 22.0, 256, 80, 40, {}, "synthetic"),
    (40, 2, "ortho", 0.0, 512, 128, 40, {"fmin": 50.0, "fmax": 3800.0}, "speech"),
    (20, 3, "ortho", 0.0, 512, 160, 64, {"htk": True}, "speech"),
    (20, 3, "ortho", 0.0, 512, 160, 64, {"htk": True}, "synthetic"),
    (12, 3, None, 10.0, 400, 133, 32, {"norm": None, "power": 1.0}, "speech"),
    # power=1 with power_to_db's 80 dB floor reaches 160 dB below the peak in energy:
    # float32's own rounding, so on the two-tone signal 40 "dB" (80 dB of energy).
    (12, 3, None, 10.0, 400, 133, 32, {"norm": None, "power": 1.0, "top_db": 40.0}, "synthetic"),
    (10, 1, None, 0.0, 256, 64, 30, {}, "speech"),
    (10, 1, None, 0.0, 256, 64, 30, {}, "synthetic"),
    # No floor at all: speech only (the synthetic batch has -100 dB silences, see above).
    (16, 1, "ortho", 5.0, 512, 128, 48, {"top_db": None, "ref": 0.5}, "speech"),
    (13, 2, "ortho", 0.0, 1024, 256, 128, {"amin": 1e-6, "top_db": 40.0}, "speech"),
    (13, 2, "ortho", 0.0, 1024, 256, 128, {"amin": 1e-6, "top_db": 40.0}, "synthetic"),
]


def librosa_mfcc(x, sample_rate, n_fft, hop, n_mels, n_mfcc, dct_type, dct_norm, lifter, **kw):
    """librosa's MFCC of each example, through power_to_db with MFCC's dB arguments."""
    mel_names = ("fmin", "fmax", "htk", "norm", "power")
    mel = {k: v for k, v in kw.items() if k in mel_names}
    db = {"amin": 1e-10, **{k: v for k, v in kw.items() if k not in mel_names}}
    out = []
    for y in x.astype(np.float64):
        S = librosa.feature.melspectrogram(y=y, sr=sample_rate, n_fft=n_fft, hop_length=hop,
                                           n_mels=n_mels, **mel)  # fmt: skip
        S = librosa.power_to_db(S, **db)
        out.append(librosa.feature.mfcc(S=S, n_mfcc=n_mfcc, dct_type=dct_type, norm=dct_norm,
                                        lifter=lifter).T)  # fmt: skip
    return np.stack(out)


@pytest.mark.parametrize("n_mfcc,dct_type,dct_norm,lifter,n_fft,hop,n_mels,extra,kind", MFCC_GRID)
def test_mfcc_matches_librosa(n_mfcc, dct_type, dct_norm, lifter, n_fft, hop, n_mels, extra, kind):
    x = signal(kind)
    args = dict(n_fft=n_fft, n_mels=n_mels, n_mfcc=n_mfcc, dct_type=dct_type, lifter=lifter)
    layer = MFCC(sample_rate=8000, hop_length=hop, dct_norm=dct_norm, **args, **extra)
    reference = librosa_mfcc(x, 8000, hop=hop, dct_norm=dct_norm, **args, **extra)
    assert_linear_close(to_numpy(layer(x))[..., 0], reference)


def test_mfcc_defaults_equal_librosa_feature_mfcc_on_audio():
    x = signal("speech")
    reference = np.stack([librosa.feature.mfcc(y=y, sr=8000).T for y in x.astype(np.float64)])
    assert_linear_close(to_numpy(MFCC(sample_rate=8000)(x))[..., 0], reference)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_mfcc_of_stereo_in_both_layouts(data_format):
    x = fsdd_batch(length=4000)
    stereo = np.stack([x[:2], 0.1 * x[2:]], axis=-1)
    layer = MFCC(sample_rate=8000, n_mfcc=13, n_fft=256, n_mels=40, top_db=None,
                 data_format=data_format)  # fmt: skip
    out = to_numpy(layer(stereo if data_format == "channels_last" else np.moveaxis(stereo, -1, 1)))
    for c in range(2):
        reference = librosa_mfcc(stereo[..., c], 8000, 256, 64, 40, 13, 2, "ortho", 0.0,
                                 top_db=None)  # fmt: skip
        got = out[..., c] if data_format == "channels_last" else out[:, c]
        assert_linear_close(got, reference)


# ---------------------------------------------------------------- Delta


def db_mel(kind="speech", frames=None):
    x = signal(kind).astype(np.float64)
    mel = librosa.feature.melspectrogram(y=x, sr=8000, n_fft=512, hop_length=128, n_mels=40)
    db = librosa.power_to_db(mel, top_db=80.0)  # (batch, mels, frames)
    db = db if frames is None else db[..., :frames]
    return np.swapaxes(db, 1, 2)[..., None]  # (batch, frames, mels, 1)


@pytest.mark.parametrize("mode", ["interp", "nearest", "mirror", "constant", "wrap"])
@pytest.mark.parametrize("width,order", [(3, 1), (5, 1), (9, 1), (5, 2), (9, 2), (7, 3)])
def test_delta_matches_librosa(width, order, mode):
    spec = db_mel()
    reference = librosa.feature.delta(spec, width=width, order=order, axis=1, mode=mode)
    out = to_numpy(Delta(width=width, order=order, mode=mode)(spec.astype(np.float32)))
    assert_linear_close(out, reference)


@pytest.mark.parametrize("frames", [3, 4, 5])
@pytest.mark.parametrize("mode", ["nearest", "mirror", "constant", "wrap"])
def test_delta_on_fewer_frames_than_its_reach(mode, frames):
    """Padding several reflections (or wraps) deep, as scipy does."""
    spec = db_mel(frames=frames)
    reference = librosa.feature.delta(spec, width=9, axis=1, mode=mode)
    out = to_numpy(Delta(width=9, mode=mode)(spec.astype(np.float32)))
    assert_linear_close(out, reference)


@pytest.mark.parametrize("mode", ["interp", "nearest", "mirror", "constant", "wrap"])
def test_delta_of_a_single_frame_or_a_constant_is_zero(mode):
    """Zero by construction (librosa's own result is 1e-16 of rounding there): centred
    differences make it exactly 0, not float32 rounding of -40 dB values."""
    spec = db_mel()
    constant = np.broadcast_to(spec[:, :1], spec.shape).astype(np.float32)
    out = to_numpy(Delta(width=9, mode=mode)(constant))
    assert np.all((out[:, 4:-4] if mode == "constant" else out) == 0.0)  # zeros pad "constant"
    if mode != "interp":
        single = to_numpy(Delta(width=9, mode=mode)(spec[:, :1].astype(np.float32)))
        assert np.abs(single).max() <= 1e-6 * np.abs(spec).max()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_delta_along_time_in_both_layouts_and_synthetic(data_format):
    spec = db_mel("synthetic")
    reference = librosa.feature.delta(spec, width=7, order=2, axis=1, mode="interp")
    layer = Delta(width=7, order=2, data_format=data_format)
    out = to_numpy(layer(channels_last_to(spec.astype(np.float32), data_format)))
    assert_linear_close(out, channels_last_to(reference, data_format))


# ---------------------------------------------------------------- PCEN

PCEN_GRID = [
    # (gain, bias, power, time_constant, eps)
    (0.98, 2.0, 0.5, 0.4, 1e-6),
    (0.8, 10.0, 0.25, 0.06, 1e-6),
    (0.5, 0.5, 1.0, 1.0, 1e-3),
    (1.0, 2.0, 0.0, 0.4, 1e-6),
    (0.98, 0.0, 0.5, 0.4, 1e-6),
    (0.0, 1.0, 0.3, 0.1, 1e-9),
]


def magnitude_mel(kind="speech"):
    x = signal(kind).astype(np.float64)
    mel = librosa.feature.melspectrogram(y=x, sr=8000, n_fft=512, hop_length=128, n_mels=40,
                                         power=1.0)  # fmt: skip
    return np.swapaxes(mel, 1, 2)[..., None]  # (batch, frames, mels, 1)


@pytest.mark.parametrize("gain,bias,power,time_constant,eps", PCEN_GRID)
@pytest.mark.parametrize("scale", [2.0**31, 1.0], ids=["advised-scale", "scale-1"])
@pytest.mark.parametrize("kind", ["speech", "synthetic"])
def test_pcen_matches_librosa(kind, scale, gain, bias, power, time_constant, eps):
    S = magnitude_mel(kind) * scale
    args = dict(hop_length=128, gain=gain, bias=bias, power=power, time_constant=time_constant,
                eps=eps)  # fmt: skip
    with np.errstate(divide="ignore"):  # librosa's log(0) on silent bins when bias == 0
        reference = librosa.pcen(S, sr=8000, axis=1, **args)
    out = to_numpy(PCEN(sample_rate=8000, **args)(S.astype(np.float32)))
    assert_linear_close(out, reference)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_trainable_pcen_starts_as_librosa_in_both_layouts(data_format):
    S = magnitude_mel() * 2.0**31
    reference = librosa.pcen(S, sr=8000, hop_length=128, axis=1)
    layer = PCEN(sample_rate=8000, hop_length=128, trainable=True, data_format=data_format)
    out = to_numpy(layer(channels_last_to(S.astype(np.float32), data_format)))
    assert_linear_close(out, channels_last_to(reference, data_format))
    assert [w.name for w in layer.trainable_weights] == ["gain", "bias", "power", "smoothing"]
    assert all(tuple(w.shape) == (40,) for w in layer.trainable_weights)


def test_trainable_pcen_moves_all_four_weights_per_band_in_one_fit_step_and_stays_in_range():
    S = (magnitude_mel() * 2.0**31).astype(np.float32)
    layer = PCEN(sample_rate=8000, hop_length=128, trainable=True)
    model = keras.Sequential([keras.Input(S.shape[1:]), layer])
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss="mse")
    before = {w.name: to_numpy(w).copy() for w in layer.trainable_weights}
    model.fit(S, np.zeros_like(S), epochs=1, batch_size=len(S), verbose=0)
    for w in layer.trainable_weights:
        value = to_numpy(w)
        assert np.all(np.isfinite(value)), w.name
        assert np.all(value != before[w.name]), f"{w.name}: some bands did not move"
    values = {w.name: to_numpy(w) for w in layer.trainable_weights}
    assert values["gain"].min() >= 0 and values["power"].min() >= 0
    assert values["bias"].min() >= 1e-6
    assert 1e-6 <= values["smoothing"].min() and values["smoothing"].max() <= 1.0


# ---------------------------------------------------------------- bad input

CONSTRUCTION_ERRORS = [
    (Delta, dict(width=4), ["`width`", "width=4", "odd"]),
    (Delta, dict(width=1), ["`width`", ">= 3"]),
    (Delta, dict(order=0), ["`order`", "order=0"]),
    (Delta, dict(width=3, order=3), ["`order`", "less than `width`"]),
    (Delta, dict(mode="reflect"), ["`mode`", "'reflect'", "interp", "wrap"]),
    (MFCC, dict(lifter=-1.0), ["`lifter`", "lifter=-1.0"]),
    (MFCC, dict(n_mfcc=30, n_mels=20), ["`n_mfcc`", "n_mels=20", "n_mfcc=30"]),
    (MFCC, dict(dct_type=4), ["`dct_type`", "dct_type=4"]),
    (MFCC, dict(dct_norm="l2"), ["`dct_norm`", "'l2'", "ortho"]),
    (MFCC, dict(amin=0.0), ["`amin`", "amin=0.0"]),
    (InverseSTFT, dict(n_fft=256, win_length=512), ["`win_length`", "512", "n_fft=256"]),
    (InverseSTFT, dict(length=0), ["`length`", "length=0"]),
    (InverseSTFT, dict(window="kaiser"), ["`window`", "'kaiser'"]),
    (PCEN, dict(eps=0.0), ["`eps`", "eps=0.0", "positive"]),
    (PCEN, dict(time_constant=-1.0), ["`time_constant`"]),
    (PCEN, dict(gain=-0.5), ["`gain`", "gain=-0.5"]),
    (PCEN, dict(hop_length=0), ["`hop_length`"]),
    (PCEN, dict(bias=0.0, trainable=True), ["`bias`", "positive"]),
    (PCEN, dict(data_format="nhwc"), ["`data_format`", "'nhwc'"]),
]


@pytest.mark.parametrize(
    "layer,kwargs,words",
    CONSTRUCTION_ERRORS,
    ids=[f"{c[0].__name__}-{'-'.join(map(str, c[1].values()))}" for c in CONSTRUCTION_ERRORS],
)
def test_bad_argument_raises_value_error_naming_it(layer, kwargs, words):
    assert_raises_naming(lambda: layer(**kwargs), words)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"'interp' needs at least width=9 frames.*5 frames"):
        Delta(width=9)(np.zeros((1, 5, 10, 1), "float32"))
    with pytest.raises(ValueError, match=r"4-D.*\(2, 50, 40\)"):
        PCEN()(np.ones((2, 50, 40), "float32"))
    with pytest.raises(ValueError, match=r"4-D.*\(2, 50\)"):
        Delta()(np.ones((2, 50), "float32"))
    with pytest.raises(ValueError, match=r"pair \(real, imag\)"):
        InverseSTFT(n_fft=256)(np.ones((2, 10, 129, 1), "float32"))
    with pytest.raises(ValueError, match=r"129 frequency bins.*\(2, 10, 257, 1\)"):
        InverseSTFT(n_fft=256)([np.ones((2, 10, 257, 1), "float32")] * 2)
    with pytest.raises(TypeError, match="int32"):
        PCEN()(np.ones((2, 50, 40, 1), "int32"))


# ---------------------------------------------------------------- variable length


def test_variable_length_model_mfcc_deltas_and_pcen():
    """Input(shape=(None,)): each layer traces for any length, and equals its eager call."""
    inputs = keras.Input(shape=(None,))
    mfcc = MFCC(sample_rate=8000, n_mfcc=13, n_fft=256, hop_length=80, n_mels=32)(inputs)
    deltas = Delta(width=5, mode="nearest")(mfcc)
    pcen = PCEN(sample_rate=8000, hop_length=80)(
        keras.ops.abs(mfcc)  # any non-negative spectrogram
    )
    model = keras.Model(inputs, [mfcc, deltas, pcen])
    for samples in (3000, 4321):
        x = fsdd_batch(length=samples)
        outputs = model.predict(x, verbose=0)
        assert outputs[0].shape == (4, 1 + samples // 80, 13, 1)
        m = to_numpy(MFCC(sample_rate=8000, n_mfcc=13, n_fft=256, hop_length=80, n_mels=32)(x))
        assert_linear_close(outputs[0], m, rtol=1e-5)
        assert_linear_close(outputs[1], to_numpy(Delta(width=5, mode="nearest")(m)), rtol=1e-5)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="only a TensorFlow graph can leave the time axis unknown while computing",
)
@pytest.mark.parametrize("mode", ["interp", "mirror", "wrap", "nearest"])
def test_unknown_length_graph_equals_eager(mode):
    """tf.function with the frames axis None (what Keras's relaxed retracing makes): the
    recurrence takes its while_loop and the deltas slice without a static length."""
    import tensorflow as tf

    spec = np.abs(db_mel()).astype(np.float32)
    spec_signature = tf.TensorSpec((None, None) + spec.shape[2:], tf.float32)
    for layer in (PCEN(sample_rate=8000, hop_length=128), Delta(width=5, mode=mode)):
        layer(spec)
        graph = tf.function(layer, input_signature=[spec_signature])
        assert_linear_close(graph(spec).numpy(), to_numpy(layer(spec)), rtol=1e-5)
    x = fsdd_batch(length=4000)
    pair = [to_numpy(p) for p in STFT(n_fft=256, hop_length=64, mode="complex")(x)]
    inverse = InverseSTFT(n_fft=256, hop_length=64)
    inverse(pair)
    signature = [[tf.TensorSpec((None, None, 129, 1), tf.float32)] * 2]
    graph = tf.function(inverse, input_signature=signature)
    assert_linear_close(graph(pair).numpy(), to_numpy(inverse(pair)), rtol=1e-5)
