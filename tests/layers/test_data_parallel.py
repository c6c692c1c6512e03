"""Data-parallel training with the engine each backend's users have: one SGD step of a
model with a trainable MelSpectrogram (dB) front-end on two devices gives the weights of
the same step on one device.

- JAX: ``keras.distribution.DataParallel`` over two CPU devices
  (``XLA_FLAGS=--xla_force_host_platform_device_count=2``);
- TensorFlow: ``tf.distribute.MirroredStrategy`` over two logical CPUs;
- PyTorch: ``DistributedDataParallel`` with gloo, two processes on localhost.

Each run is a fresh subprocess (tests/data_parallel_worker.py), on the CPU also where a
GPU is present (a one-GPU machine has no second device). Bound: the weight update
of every variable agrees within the contract's gradient bound, 1e-4 of its largest entry
(averaging two half-batch gradients rounds differently from one full-batch gradient), plus
two float32 ulps of the updated weights.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

WORKER = Path(__file__).with_name("data_parallel_worker.py")
RTOL = 1e-4


def run(args, env):
    # On the CPU always: the host offers two devices everywhere, a one-GPU machine does not.
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", **env)
    env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process, timeout=600):
    """Waits for a worker; one that outlives ``timeout`` is killed and reaped (its pipe
    closed) before the failure is reported, so nothing leaks into the next test."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"worker timed out after {timeout} s:\n{output[-3000:]}") from None
    assert process.returncode == 0, output[-6000:]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_one_data_parallel_step_equals_the_single_device_step(tmp_path):
    backend = keras.backend.backend()
    base = {"KERAS_BACKEND": backend}
    finish(run([str(tmp_path), "single"], base))
    if backend == "jax":
        flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
        finish(run([str(tmp_path), "parallel"], {**base, "XLA_FLAGS": flags.strip()}))
    elif backend == "tensorflow":
        finish(run([str(tmp_path), "parallel"], base))
    else:
        rendezvous = {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(free_port()),
            "WORLD_SIZE": "2",
        }
        ranks = [
            run([str(tmp_path), "parallel"], {**base, **rendezvous, "RANK": str(r)})
            for r in range(2)
        ]
        for process in ranks:
            finish(process)
    initial = np.load(tmp_path / "initial.npz")
    single = np.load(tmp_path / "single.npz")
    parallel = np.load(tmp_path / "parallel.npz")
    assert set(single.files) == set(parallel.files) == set(initial.files)
    names = [k for k in initial.files if "kernel" in k or "filterbank" in k]
    assert any("mel_spectrogram" in k and "kernel" in k for k in names), initial.files
    for key in initial.files:
        step = single[key] - initial[key]
        if key.split(":")[1].startswith("seed_generator") or not np.any(step):
            continue
        error = np.abs((parallel[key] - initial[key]) - step).max()
        print(
            f"[data-parallel] {backend} {key}: update {np.abs(step).max():.3g}, "
            f"difference {error:.3g}"
        )
        # Plus the float32 rounding of the new weights themselves (an update of 1e-3 on a
        # weight of 1 is held to a few ulps of the weight, not 1e-4 of the update).
        bound = RTOL * np.abs(step).max() + 2 * np.finfo(np.float32).eps * np.abs(single[key]).max()
        assert error <= bound, (key, error, np.abs(step).max())
    # The front-end's own weights moved (so the comparison above is not vacuous).
    for key in initial.files:
        if "mel_spectrogram" in key:
            assert np.abs(single[key] - initial[key]).max() > 0, key
