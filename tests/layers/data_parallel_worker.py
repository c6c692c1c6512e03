"""One SGD step of a model with a trainable front-end, on one device and data-parallel on
two, with the engine of the backend in KERAS_BACKEND (see tests/test_data_parallel.py):

- jax: keras.distribution.DataParallel over two CPU devices (XLA_FLAGS set by the caller);
- tensorflow: tf.distribute.MirroredStrategy over two logical CPUs;
- torch: DistributedDataParallel with gloo, two processes (RANK / WORLD_SIZE from the caller).

Writes OUT_DIR/single.npz and OUT_DIR/parallel.npz (weights after the step) and
OUT_DIR/initial.npz. Usage: python data_parallel_worker.py OUT_DIR [single|parallel]
"""

import os
import sys
from pathlib import Path

import numpy as np

BATCH, LENGTH, LR = 8, 2000, 0.05


def data():
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH) / 8000
    freqs = rng.uniform(200, 3000, BATCH)
    x = np.sin(2 * np.pi * freqs[:, None] * t) + 0.1 * rng.standard_normal((BATCH, LENGTH))
    y = (freqs > 1500).astype("int32")
    return x.astype("float32"), y


def build_model():
    import keras

    from audiofront import MelSpectrogram

    model = keras.Sequential(
        [
            keras.Input(shape=(LENGTH,)),
            MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                hop_length=128,
                n_mels=16,
                decibel=True,
                trainable_kernel=True,
                trainable_filterbank=True,
            ),
            keras.layers.LayerNormalization(axis=(1, 2, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, kernel_initializer="glorot_uniform"),
        ]
    )
    return model


def weights_of(model):
    return {f"{i}:{w.path}": np.asarray(w.numpy()) for i, w in enumerate(model.weights)}


def keras_step(model, x, y):
    import keras

    model.compile(
        optimizer=keras.optimizers.SGD(LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)


def main(out_dir, mode):
    out = Path(out_dir)
    import keras

    backend = keras.backend.backend()
    x, y = data()
    initial = np.load(out / "initial.npz") if (out / "initial.npz").exists() else None

    def prepared():
        model = build_model()
        if initial is None:
            np.savez(out / "initial.npz", **weights_of(model))
        else:
            model.set_weights([initial[k] for k in sorted(initial.files, key=_order)])
        return model

    keras.utils.set_random_seed(0)
    if mode == "single":
        model = prepared()
        keras_step(model, x, y)
        np.savez(out / "single.npz", **weights_of(model))
        return
    if backend == "jax":
        import jax

        assert len(jax.devices()) == 2, jax.devices()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
        model = prepared()
        keras_step(model, x, y)
    elif backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        with strategy.scope():
            model = prepared()
            keras_step(model, x, y)
    else:
        model = torch_ddp_step(prepared, x, y)
        if model is None:
            return
    np.savez(out / "parallel.npz", **weights_of(model))


def torch_ddp_step(prepared, x, y):
    """The Keras guide's recipe: the Keras model is a torch Module; DDP wraps it, a torch
    optimizer steps it. Rank r takes the r-th half of the batch; DDP averages gradients."""
    import torch
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model = prepared()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    logits = ddp(torch.tensor(x[share]))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y[share]).long())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    dist.barrier()
    dist.destroy_process_group()
    return model if rank == 0 else None


def torch_single_step(out_dir):
    """The same torch loop on one process and the whole batch: the reference for DDP."""
    import torch

    x, y = data()
    out = Path(out_dir)
    model = build_model()
    initial = np.load(out / "initial.npz") if (out / "initial.npz").exists() else None
    if initial is None:
        np.savez(out / "initial.npz", **weights_of(model))
    else:
        model.set_weights([initial[k] for k in sorted(initial.files, key=_order)])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss = torch.nn.functional.cross_entropy(model(torch.tensor(x)), torch.tensor(y).long())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    np.savez(out / "single.npz", **weights_of(model))


def _order(key):
    return int(key.split(":", 1)[0])


if __name__ == "__main__":
    if os.environ.get("KERAS_BACKEND") == "tensorflow" and sys.argv[2] == "parallel":
        import tensorflow as tf  # two logical CPUs, before anything initialises TensorFlow

        (cpu,) = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    import keras

    if sys.argv[2] == "single" and keras.backend.backend() == "torch":
        torch_single_step(sys.argv[1])
    else:
        main(sys.argv[1], sys.argv[2])
