"""Streaming inference: a spoken-digit model trained by `fsdd_digits.py` listens to a long
recording 10 ms at a time and prints its running prediction and its latency per chunk.

    KERAS_BACKEND=jax python examples/fsdd_digits.py --save digits.keras   # train (mel, cnn1d)
    KERAS_BACKEND=jax python examples/stream_digits.py --model digits.keras
    python examples/stream_digits.py --quick      # trains a small model first (CI)

The recording: ``--digits`` test recordings of FSDD (their digits known) one after another,
with ``--silence`` seconds of silence between them. The trained model's front-end,
``MelSpectrogram(center=True, decibel=True, top_db=80)``, becomes a stateful one with the same
weights (``center=False``, ``stateful=True``, ``top_db=None``: a stream has no end to pad and no
maximum to clip against), fed one hop (80 samples, 10 ms) per call: one dB mel frame per
chunk. The last second of frames (what the model was trained on) is kept in a ring; every
``--every`` chunks the top_db clip is applied to that second, as the offline layer does per
example, and the rest of the trained model (per-band standardisation, the classifier)
predicts. A digit counts as heard where the window is centred on it, as in training.
"""

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import keras
import numpy as np

import audiofront as af
from audiofront.tools import datasets

HERE = Path(__file__).resolve().parent


def load_training_example():
    spec = importlib.util.spec_from_file_location("fsdd_digits", HERE / "fsdd_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fsdd = load_training_example()


def long_recording(root, count, silence, seed=0):
    """``count`` test recordings (each cropped to the 1 s window's length at most) joined by
    ``silence`` seconds of zeros; returns the signal, the digits and each digit's centre
    (in samples)."""
    rng = np.random.default_rng(seed)
    files = datasets.fsdd_files(root, split="test")
    chosen = [files[i] for i in rng.choice(len(files), size=count, replace=False)]
    gap = np.zeros(int(silence * fsdd.SAMPLE_RATE), np.float32)
    pieces, digits, centres, position = [gap], [], [], len(gap)
    for path, digit, *_ in chosen:
        y, _ = datasets.load_wav(path)
        y = y[: fsdd.LENGTH].astype(np.float32)
        pieces += [y, gap]
        digits.append(int(digit))
        centres.append(position + len(y) // 2)
        position += len(y) + len(gap)
    return np.concatenate(pieces), digits, centres


def streaming_parts(model):
    """The trained model cut in two: a stateful copy of its mel front-end (one 10 ms chunk
    in, one dB frame out) and the rest (a second of frames in, digit probabilities out)."""
    mel = model.get_layer("mel")
    config = dict(mel.get_config(), center=False, stateful=True, top_db=None, name="stream_mel")
    stream = af.MelSpectrogram.from_config(config)
    front = keras.Sequential([keras.Input(batch_shape=(1, fsdd.HOP)), stream])
    stream.kernel.assign(mel.kernel)  # the trained weights; the stream keeps its own state
    stream.filterbank.assign(mel.filterbank)
    head = keras.Model(model.get_layer("normalize").input, model.output)
    front.compile(jit_compile=True)
    head.compile(jit_compile=True)
    return front, head, mel.top_db


def listen(front, head, top_db, signal, every):
    """Runs the stream; returns the predictions ``(sample, digit, probability)`` and the
    seconds each front-end chunk and each classifier call took."""
    frames = np.full((1, fsdd.FRAMES, fsdd.N_MELS, 1), -100.0, np.float32)
    predictions, front_seconds, head_seconds = [], [], []
    for k in range(len(signal) // fsdd.HOP):
        chunk = signal[None, k * fsdd.HOP : (k + 1) * fsdd.HOP]
        start = time.perf_counter()
        frame = front.predict_on_batch(chunk)
        front_seconds.append(time.perf_counter() - start)
        frames = np.concatenate([frames[:, 1:], frame], axis=1)
        if (k + 1) % every == 0:
            start = time.perf_counter()
            window = np.maximum(frames, frames.max() - top_db)  # the offline clip, per window
            probabilities = head.predict_on_batch(window)[0]
            head_seconds.append(time.perf_counter() - start)
            digit = int(np.argmax(probabilities))
            predictions.append(((k + 1) * fsdd.HOP, digit, float(probabilities[digit])))
    return predictions, front_seconds, head_seconds


def heard(predictions, centres):
    """The prediction whose window (the last second) is centred nearest each digit."""
    ends = np.array([p[0] for p in predictions])
    return [predictions[int(np.argmin(np.abs(ends - fsdd.LENGTH // 2 - c)))] for c in centres]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", metavar="PATH.keras", help="a model saved by fsdd_digits.py")
    parser.add_argument("--quick", action="store_true", help="train a small model first (CI)")
    parser.add_argument("--data", help="the FSDD folder (default: $AUDIOFRONT_FSDD)")
    parser.add_argument("--digits", type=int, default=8, help="recordings in the stream")
    parser.add_argument("--silence", type=float, default=0.5, help="seconds between them")
    parser.add_argument("--every", type=int, default=10, help="chunks between predictions")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = parser.parse_args(argv)
    if not (args.model or args.quick):
        parser.error("give --model PATH.keras (from fsdd_digits.py --save) or --quick")
    if args.every < 1:
        parser.error(f"--every must be at least 1. Received: {args.every}")
    return args


def main(argv=None):
    args = parse_args(argv)
    root = datasets.fsdd_path(args.data)
    if args.model:
        model = keras.saving.load_model(args.model)
    else:
        data = fsdd.load_split(root, "train", 200), fsdd.load_split(root, "test", 100)
        model, *_ = fsdd.train("cnn1d", data, epochs=1)
    front, head, top_db = streaming_parts(model)
    signal, digits, centres = long_recording(root, args.digits, args.silence)
    print(f"backend {keras.backend.backend()}: {len(signal) / fsdd.SAMPLE_RATE:.1f} s of "
          f"audio, {len(digits)} digits, 10 ms chunks")  # fmt: skip
    predictions, front_seconds, head_seconds = listen(front, head, top_db, signal, args.every)
    for sample, digit, probability in predictions[:: max(1, 50 // args.every)]:
        print(f"  t = {sample / fsdd.SAMPLE_RATE:5.2f} s: digit {digit} ({probability:.2f})")
    answers = heard(predictions, centres)
    correct = sum(a[1] == d for a, d in zip(answers, digits))
    chunk_ms = 1e3 * statistics.median(front_seconds[10:] or front_seconds)
    head_ms = 1e3 * statistics.median(head_seconds[2:] or head_seconds)
    print(f"spoken {digits}\nheard  {[a[1] for a in answers]} ({correct}/{len(digits)})")
    print(f"latency: front-end {chunk_ms:.2f} ms per 10 ms chunk, classifier {head_ms:.2f} ms "
          f"per call (every {args.every} chunks; medians)")  # fmt: skip
    results = {"backend": keras.backend.backend(), "digits": digits,
               "heard": [a[1] for a in answers], "correct": correct,
               "front_end_ms_per_chunk": chunk_ms, "classifier_ms_per_call": head_ms,
               "every": args.every}  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
