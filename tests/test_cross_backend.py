"""Cross-backend parity with audiofront.testing: every layer (forward and gradients), and
models trained and saved under each backend, loaded under every other.

Needs jax, torch and tensorflow in one environment (the ``crossbackend`` nox session,
``pytest --cross-backend``); each backend runs in its own subprocess. Bounds are the
contract's (see audiofront.parity).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audiofront import testing
from audiofront.tools.cases import example, tagged
from audiofront.tools.parity import BACKENDS
from conftest import fsdd_batch

pytestmark = pytest.mark.cross_backend

WORKER = Path(__file__).with_name("cross_backend_worker.py")
# The "parity" rows go through the main job's own test (tests/tools/test_bench.py, `audiofront
# compare`: outputs and gradients of every layer on the three backends); this file's
# every-layer test takes the other "cross" rows, so that CI compares each row once.
CROSS = [c for c in tagged("cross") if "parity" not in c.tags]


def test_every_layer_agrees_across_backends_forward_and_gradients():
    cases = []
    for case in CROSS:
        params, x = example(case, source="fsdd", batch=2, seconds=0.75)
        cases.append({"name": case.id, "layer": case.layer, "params": params, "input": x})
    report = testing.assert_backends_agree(cases, grad=True)
    # Every trainable weight's gradient was compared, for every pair.
    trainable = {
        c.case
        for c in report.comparisons
        if c.quantity.startswith("grad") and not c.quantity.startswith("grad input")
    }
    assert trainable == {c.id for c in CROSS if c.weights[0]}
    assert {(c.a, c.b) for c in report.comparisons} == {
        ("jax", "torch"),
        ("jax", "tensorflow"),
        ("torch", "tensorflow"),
    }


def run_worker(command, directory, backend):
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, str(WORKER), command, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{backend} {command} failed:\n{result.stderr[-6000:]}"


def test_same_seed_same_augmentation_on_every_backend(tmp_path):
    """Every random layer (AdditiveNoise and SpecAugment included), two training calls with
    the same seed: the same outputs on JAX, PyTorch and TensorFlow, within the contract's
    cross-backend bound (dB inputs: 0.001 dB)."""
    np.save(tmp_path / "input.npy", fsdd_batch(length=4000))
    for backend in BACKENDS:
        run_worker("draws", tmp_path, backend)
    results = {b: dict(np.load(tmp_path / f"draws-{b}.npz")) for b in BACKENDS}
    keys = sorted(results["jax"])
    assert len(keys) >= 2 * 7 and all(set(r) == set(keys) for r in results.values())
    worst = 0.0
    for a, b in [("jax", "torch"), ("jax", "tensorflow"), ("torch", "tensorflow")]:
        for key in keys:
            x, y = results[a][key].astype(np.float64), results[b][key].astype(np.float64)
            error = np.abs(x - y).max() / np.abs(x).max()
            worst = max(worst, error)
            assert error <= 1e-5, f"{key}: {a} vs {b} differ by {error:.3g} relative"
    print(f"\nsame seed across backends: worst {worst:.3g} relative over {len(keys)} outputs")


@pytest.fixture(scope="module")
def trained_models(tmp_path_factory):
    """Each backend builds, trains one step and saves every model of the worker."""
    directory = tmp_path_factory.mktemp("trained")
    np.save(directory / "input.npy", fsdd_batch(length=4000))
    for backend in BACKENDS:
        run_worker("create", directory, backend)
    return directory


def model_input(directory, path):
    arrays = list(np.load(directory / "inputs" / f"{path.stem}.npz").values())
    return arrays if len(arrays) > 1 else arrays[0]


def test_models_saved_under_each_backend_load_under_every_backend(trained_models):
    cases = [
        testing.model_case(
            path, model_input(trained_models, path), name=f"{path.parent.name}/{path.stem}"
        )
        for path in sorted(trained_models.glob("*/*.keras"))
    ]
    assert len(cases) == len(BACKENDS) * (len(tagged("parity")) + 2)
    report = testing.assert_backends_agree(cases, grad=True)
    outputs = [c for c in report.comparisons if c.quantity.startswith("output")]
    worst_db = max(c.max_abs for c in outputs if c.unit == "dB")
    worst_linear = max(c.relative for c in outputs if c.unit == "linear")
    worst_grad = max(c.relative for c in report.comparisons if c.quantity.startswith("grad"))
    print(
        f"\nworst: {worst_db:.3g} dB, {worst_linear:.3g} relative (outputs), {worst_grad:.3g} relative (gradients)"
    )


def test_cli_model_option_on_a_trained_model(trained_models, tmp_path):
    path = trained_models / "torch" / "MelSpectrogram.keras"
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiofront",
            "parity",
            "--model",
            str(path),
            "--grad",
            "--json",
            str(report_path),
            "--seconds",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    import json

    report = json.loads(report_path.read_text())
    assert report["ok"] and report["backends"] == list(BACKENDS)
    assert any(c["quantity"].startswith("grad mel_spectrogram") for c in report["comparisons"])


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fsdd_digits.py"


@pytest.fixture(scope="module")
def example_models(tmp_path_factory):
    """examples/fsdd_digits.py in its reduced mode under each backend, saving its model; under
    torch it also runs its own --check-backends (load under jax and tensorflow, compare)."""
    directory = tmp_path_factory.mktemp("example")
    for backend in BACKENDS:
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
        command = [sys.executable, str(EXAMPLE), "--quick"]  # the best model, cnn1d
        command += ["--save", str(directory / f"{backend}.keras")]
        command += ["--json", str(directory / f"{backend}.json")]
        if backend == "torch":
            command.append("--check-backends")
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{backend}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return directory


def test_example_model_saved_under_each_backend_predicts_the_same_under_every_backend(
    example_models,
):
    import importlib.util

    spec = importlib.util.spec_from_file_location("fsdd_digits", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    x, _ = example.load_split(None, "test", limit=30)
    cases = [
        testing.model_case(example_models / f"{backend}.keras", x, name=f"fsdd_digits/{backend}")
        for backend in BACKENDS
    ]
    report = testing.assert_backends_agree(cases, grad=False)
    assert len(report.comparisons) == len(BACKENDS) * 3  # three pairs for each saved model
    worst = max(c.max_abs for c in report.comparisons)
    print(f"\nexample model, worst |p_a - p_b| over backends: {worst:.3g}")


def test_example_check_backends_reports_agreement(example_models):
    import json

    results = json.loads((example_models / "torch.json").read_text())["cross_backend"]
    assert set(results) == {"jax", "tensorflow"}
    for backend, r in results.items():
        assert r["same_predicted_digit"] == 1.0, (backend, r)
        assert r["max_abs_probability_difference"] <= 1e-5, (backend, r)
