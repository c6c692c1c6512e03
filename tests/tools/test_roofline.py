"""The roofline: the work of a pass counted by hand, the fraction the report adds, and the
ceilings measured through keras.ops."""

import math

import keras
import numpy as np
import pytest

from audiofront.tools import backend
from audiofront.tools.bench import report, roofline

TINY = dict(batch=2, samples=1000, n_fft=64, hop_length=16, n_mels=8)


@pytest.mark.parametrize(
    "layer, per_frame, out",
    [
        # FFT 2.5 N log2 N, window N, power 3 bins, filterbank 2 bins mels, dB per output.
        ("MelSpectrogram", 2.5 * 64 * 6 + 64 + 3 * 33 + 2 * 33 * 8 + 8, 8),
        ("Spectrogram", 2.5 * 64 * 6 + 64 + 3 * 33 + 33, 33),
        ("MFCC", 2.5 * 64 * 6 + 64 + 3 * 33 + 2 * 33 * 8 + 2 * 8 * 20 + 20, 20),
    ],
)
def test_forward_work_by_hand(layer, per_frame, out):
    frames = 2 * (1000 // 16 + 1)  # centred frames, two examples
    flops, nbytes = roofline.work(layer, "forward", **TINY)
    assert flops == pytest.approx(frames * per_frame)
    assert nbytes == 4 * (2 * 1000 + frames * out)


def test_backward_work_is_three_dense_matmuls():
    frames = 2 * (1000 // 16 + 1)
    flops, nbytes = roofline.work("MelSpectrogram", "backward", **TINY)
    dense = 2 * 64 * 66 + 2 * 33 * 8  # the DFT kernel (64 x 66) and the filterbank
    assert flops == pytest.approx(frames * (3 * dense + 64 + 3 * 33 + 8))
    assert nbytes == 4 * (2 * 1000 + 2 * (64 * 66 + 33 * 8))
    with pytest.raises(ValueError, match="`pass_`"):
        roofline.work("MelSpectrogram", "train_step", **TINY)


def test_report_fraction_is_floor_over_median():
    settings = dict(TINY, workload="custom", repeats=1, warmup=0, seconds=1, sample_rate=1000)
    row = dict(device="gpu", pass_="forward", layer="MelSpectrogram", median_ms=2.0)
    records = [
        {**{k: v for k, v in row.items() if k != "pass_"}, "pass": "forward"},
        {**{k: v for k, v in row.items() if k != "pass_"}, "pass": "train_step"},
        {**{k: v for k, v in row.items() if k != "pass_"}, "pass": "forward", "device": "cpu"},
    ]
    ceilings = {"jax": {"flops": 1e9, "bandwidth": 1e9}, "torch": {"flops": 2e9, "bandwidth": 1e8}}
    result = {"records": records, "settings": settings, "machine": {"ceilings": ceilings}}
    report.add_roofline(result)
    flops, nbytes = roofline.work("MelSpectrogram", "forward", **TINY)
    floor = 1e3 * max(flops / 2e9, nbytes / 1e9)  # the best of each ceiling
    assert records[0]["roofline"] == pytest.approx(floor / 2.0)
    assert "roofline" not in records[1] and "roofline" not in records[2]


def test_ceilings_are_measured_rates():
    ceilings = roofline.measure_ceilings(backend.sync, matmul_size=256, copy_mib=4)
    for key in ("flops", "bandwidth"):
        assert math.isfinite(ceilings[key]) and ceilings[key] > 1e6, ceilings
    # The matmul it timed is a float32 matmul of the current backend.
    a = keras.random.normal((4, 4))
    assert keras.ops.convert_to_numpy(keras.ops.matmul(a, a)).dtype == np.float32
