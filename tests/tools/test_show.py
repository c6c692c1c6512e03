"""`audiofront show`: the drawn arrays equal librosa's, the PNG is written, a model's
filterbank is drawn against the mel filters it started from."""

import keras
import librosa
import numpy as np
import pytest

import audiofront as af
from audiofront.testing import assert_db_close
from audiofront.tools import cli, datasets, show

pytestmark = pytest.mark.filterwarnings(
    # matplotlib's own deprecations (pyparsing, dateutil) are not ours to fix.
    "ignore::DeprecationWarning:(matplotlib|pyparsing|dateutil).*"
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def wav():
    try:
        return datasets.fsdd_path() / "recordings" / "3_theo_7.wav"
    except FileNotFoundError as error:
        pytest.skip(str(error))


@pytest.mark.parametrize(
    "params",
    [{}, {"n_fft": 512, "hop_length": 100, "n_mels": 32, "fmin": 50.0, "fmax": 3500.0}],
    ids=["defaults", "custom"],
)
def test_plotted_arrays_match_librosa(wav, params):
    y, sr = datasets.load_wav(wav)
    data = show.show_data(y, sr, **params)
    p = data["params"]
    n_fft, hop = p["n_fft"], p["hop_length"]
    assert (n_fft, hop) == ((256, 64) if not params else (512, 100))
    magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))
    linear = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=80.0).T
    assert_db_close(data["linear_db"][None], linear[None], top_db=80.0)
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=sr,
        n_fft=n_fft,
        hop_length=hop,
        n_mels=p["n_mels"],
        fmin=p["fmin"],
        fmax=p["fmax"],
    )
    mel_db = librosa.power_to_db(mel, ref=np.max, top_db=80.0).T
    assert_db_close(data["mel_db"][None], mel_db[None], top_db=80.0)
    np.testing.assert_allclose(data["frequencies"], librosa.fft_frequencies(sr=sr, n_fft=n_fft))
    fmax = p["fmax"] or sr / 2
    centres = librosa.mel_frequencies(p["n_mels"] + 2, fmin=p["fmin"], fmax=fmax)[1:-1]
    np.testing.assert_allclose(data["mel_frequencies"], centres, rtol=1e-6)
    frames = np.arange(linear.shape[0])
    np.testing.assert_allclose(
        data["frame_times"], librosa.frames_to_time(frames, sr=sr, hop_length=hop)
    )
    np.testing.assert_allclose(data["times"][[0, -1]], [0.0, (len(y) - 1) / sr])


def test_cli_writes_a_png(wav, tmp_path, capsys):
    out = tmp_path / "speech.png"
    assert (
        cli.main(["show", str(wav), "-p", "n_fft=512", "-p", "window=hamming", "--out", str(out)])
        == 0
    )
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 20_000
    assert str(out) in capsys.readouterr().out


def test_cli_names_a_bad_setting(wav, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["show", str(wav), "-p", "nfft=512", "--out", str(tmp_path / "x.png")])
    assert "nfft" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["show", str(tmp_path / "missing.wav")])


def test_learned_filterbank_drawn_over_the_initial_mel_filters(wav, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4000,)),
            af.AdditiveNoise(power=0.01),
            af.MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                hop_length=80,
                n_mels=24,
                fmin=30.0,
                norm=None,
                decibel=True,
                trainable_filterbank=True,
            ),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )
    mel = model.layers[1]
    learned = np.abs(np.random.default_rng(1).normal(size=(129, 24))).astype("float32")
    mel.filterbank.assign(learned)
    path = tmp_path / "model.keras"
    model.save(path)
    bank = show.filterbank_data(path)
    initial = librosa.filters.mel(sr=8000, n_fft=256, n_mels=24, fmin=30.0, norm=None).T
    np.testing.assert_allclose(bank["initial"], initial, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(bank["learned"], learned)
    np.testing.assert_allclose(bank["frequencies"], librosa.fft_frequencies(sr=8000, n_fft=256))
    out = tmp_path / "with_model.png"
    assert cli.main(["show", str(wav), "--model", str(path), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    # Without -p the figure takes the model's own mel settings.
    fig = show.figure(show.show_data(*datasets.load_wav(wav), n_mels=24, fmin=30.0), bank)
    assert len(fig.axes) >= 4
    with pytest.raises(ValueError, match="no audiofront MelSpectrogram"):
        show.filterbank_data(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
