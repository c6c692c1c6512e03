"""speechbrain as a reference for SincConv and LEAF, run in a subprocess.

speechbrain pins torchaudio, which pins another torch than ours, so `nox -s "tests(torch)"`
installs it with ``--no-deps`` (with the few pure-Python packages it imports); the one
torchaudio function its ``Leaf`` needs comes from tests/standins when torchaudio is absent.
It runs in a process of its own: importing it patches torch's ``DataLoader`` (Keras's torch
``fit`` uses one) and leaves lazily imported modules in ``sys.modules`` that fail when
hypothesis scans them. Elsewhere (the jax and tensorflow sessions) `run` skips, and the
layers are held to the numpy transcriptions in their test files, which the torch session
checks against speechbrain itself.

    python speechbrain_ref.py SPEC.json X.npy OUT.npz    (what `run` starts)
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

STANDINS = Path(__file__).with_name("standins")


def run(kind, kwargs, x):
    """speechbrain's ``kind`` (``"SincConv"`` or ``"Leaf"``) built with ``kwargs`` and
    applied to ``x`` at initialisation, in a subprocess: a dict with ``output`` (and for
    SincConv its ``filters``, ``(n_filters, kernel_size)``, and its ``low_hz`` and
    ``band_hz`` parameters). A skip where torch or speechbrain is not installed."""
    import pytest

    for name in ("torch", "speechbrain"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (speechbrain is installed in tests(torch))")
    with tempfile.TemporaryDirectory() as tmp:
        spec, data, out = (Path(tmp) / name for name in ("spec.json", "x.npy", "out.npz"))
        spec.write_text(json.dumps({"kind": kind, "kwargs": kwargs}))
        np.save(data, np.asarray(x, np.float32))
        result = subprocess.run(
            [sys.executable, __file__, str(spec), str(data), str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, OMP_NUM_THREADS="1"),
        )
        assert result.returncode == 0, result.stderr[-3000:]
        with np.load(out) as arrays:
            return dict(arrays)


def _main(spec_path, x_path, out_path):
    try:
        import torchaudio  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(STANDINS))
    import torch

    spec = json.loads(Path(spec_path).read_text())
    x = torch.from_numpy(np.load(x_path))
    arrays = {}
    with torch.no_grad():
        if spec["kind"] == "SincConv":
            from speechbrain.nnet.CNN import SincConv

            module = SincConv(**spec["kwargs"])
            module.device = "cpu"
            arrays["filters"] = module._get_sinc_filters().numpy()[:, 0, :]
            arrays["low_hz"] = module.low_hz_.numpy()[:, 0]
            arrays["band_hz"] = module.band_hz_.numpy()[:, 0]
        else:
            from speechbrain.lobes.features import Leaf

            module = Leaf(**spec["kwargs"])
        arrays["output"] = module(x).numpy()
    np.savez(out_path, **arrays)


if __name__ == "__main__":
    _main(*sys.argv[1:4])
