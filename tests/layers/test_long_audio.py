"""Ten minutes of 16 kHz mono audio through MelSpectrogram, in a fresh process per backend:
the result equals librosa's and the peak memory it adds stays within a fixed multiple of
input plus output.

The multiple: the layer computes the whole STFT at once, so it holds the frames
(frames x n_fft floats) and the spectrum (frames x (n_fft + 2) floats) together: with
n_fft=512 and hop 160 that is 2 * 512 / 160 = 6.4 times the input, 4.6 times input plus
output, before any backend temporaries. Eager backends keep one or two more
intermediates of that size alive (the squares, the power), and measured 7-11 times input
plus output (README, "Reliability"). The bound, 16, fails if a second full copy of the
framed signal or of the spectrum appears (e.g. a float64 upcast or an unfused gather).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import librosa
import numpy as np
import pytest

from audiofront.testing import assert_linear_close

sys.path.insert(0, str(Path(__file__).parent))
import long_audio_worker as worker  # noqa: E402

WORKER = Path(worker.__file__)
MULTIPLE = 16


@pytest.mark.slow
def test_ten_minutes_match_librosa_within_bounded_memory(tmp_path):
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    record = json.loads((tmp_path / "memory.json").read_text())
    added = record["peak_bytes"] - record["baseline_bytes"]
    size = record["input_bytes"] + record["output_bytes"]
    print(
        f"[long-audio] {record['backend']} ({record['memory']}): peak +{added / 2**20:.0f} MiB"
        f" = {added / size:.1f} x "
        f"(input + output = {size / 2**20:.0f} MiB)"
    )
    assert added <= MULTIPLE * size, f"{added / size:.1f} x input + output > {MULTIPLE}"
    out = np.load(tmp_path / "mel.npy")[0, ..., 0]
    x = worker.long_signal()[0].astype(np.float64)
    config = dict(worker.CONFIG)
    reference = librosa.feature.melspectrogram(y=x, sr=config.pop("sample_rate"), **config).T
    assert_linear_close(out, reference)
