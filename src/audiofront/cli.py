"""The ``audiofront`` command (also ``python -m audiofront``)."""

import argparse
import ast
import json
import sys

PARITY_EXAMPLES = """\
examples:
  audiofront parity MelSpectrogram -p n_fft=512 -p n_mels=64 -p decibel=True --grad
  audiofront parity STFT -p n_fft=400 -p hop_length=160 -p mode="'complex'" --reference librosa
  audiofront parity Filterbank -p kind="'log'" -p n_fft=1024 --input chirp --sample-rate 16000
  audiofront parity --model frontend.keras --backends jax,torch --input speech.wav --json report.json

Each backend runs in its own subprocess; a backend that is not installed is skipped.
A layer is built and saved once (in the first backend) so every backend uses the same
weights (trainable weights are perturbed away from their defaults first). Bounds, from
the API contract: outputs max|a-b| <= 1e-5 * max|a| (dB outputs: 0.001 dB); gradients
1e-4 relative; against librosa 1e-4 * max|ref| (dB: 0.01 dB above the top_db floor).
Exit status: 0 when every comparison is within bounds, 1 otherwise.
"""


def parse_param(text):
    """``KEY=VALUE`` with VALUE a Python literal (``512``, ``True``, ``'hann'``, ``(0, 20)``);
    anything that is not a literal is taken as a string (``window=hann``)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    if isinstance(parsed, tuple):
        parsed = list(parsed)
    return key.strip(), parsed


def build_parser():
    from audiofront import __version__, parity

    parser = argparse.ArgumentParser(
        prog="audiofront", description="The audio front-end for Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"audiofront {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser(
        "parity",
        help="compare a layer or saved model across JAX, PyTorch and TensorFlow",
        description="Does this front-end give the same numbers on JAX, PyTorch and TensorFlow?",
        epilog=PARITY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "layer",
        nargs="?",
        choices=parity.LAYERS,
        metavar="LAYER",
        help=f"an audiofront layer: {', '.join(parity.LAYERS)}",
    )
    p.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_param,
        default=[],
        metavar="KEY=VALUE",
        help="a layer argument as a Python literal, e.g. -p n_fft=512 -p decibel=True (repeatable)",
    )
    p.add_argument(
        "--model", metavar="PATH.keras", help="compare a saved .keras model instead of LAYER"
    )
    p.add_argument(
        "--backends",
        default=",".join(parity.BACKENDS),
        metavar="LIST",
        help="comma-separated backends (default: jax,torch,tensorflow)",
    )
    p.add_argument(
        "--input",
        default=None,
        metavar="fsdd|chirp|noise|PATH.wav",
        help="input signal: FSDD speech (default when found, else chirp), a chirp, white noise, "
        "or a WAV file of any sample rate and channel count",
    )
    p.add_argument(
        "--batch", type=int, default=2, metavar="N", help="examples in the batch (default 2)"
    )
    p.add_argument(
        "--seconds", type=float, default=1.0, metavar="S", help="seconds per example (default 1)"
    )
    p.add_argument(
        "--sample-rate",
        type=int,
        default=None,
        metavar="SR",
        help="sample rate in Hz (resamples FSDD and WAV input; chirp/noise default 16000)",
    )
    p.add_argument(
        "--grad",
        action="store_true",
        help="also compare gradients w.r.t. the input and every trainable weight",
    )
    p.add_argument(
        "--reference",
        choices=["librosa"],
        default=None,
        help="also compare each backend with librosa, where the layer has an equivalent",
    )
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module each backend imports first (custom layers of a saved model)",
    )
    return parser


def _default_input():
    from audiofront import datasets

    try:
        datasets.fsdd_path()
        return "fsdd"
    except FileNotFoundError:
        return "chirp"


def run_parity(args, parser):
    from audiofront import parity

    if (args.layer is None) == (args.model is None):
        parser.error("give either LAYER or --model PATH.keras")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in parity.BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; choose from {', '.join(parity.BACKENDS)}")
    source = args.input or _default_input()
    common = dict(
        source=source,
        batch=args.batch,
        seconds=args.seconds,
        sample_rate=args.sample_rate,
        backends=backends,
        grad=args.grad,
        imports=args.imports,
        progress=sys.stderr.isatty(),
    )
    if args.model:
        if args.param or args.reference:
            parser.error("-p and --reference go with LAYER, not --model")
        report = parity.compare_model(args.model, **common)
    else:
        report = parity.compare_layer(
            args.layer, dict(args.param), reference=args.reference, **common
        )
    report.render()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_json(), f, indent=2)
    if not report.comparisons and not report.errors:
        print(
            "nothing to compare: fewer than two backends ran and no --reference was given",
            file=sys.stderr,
        )
        return 1
    return 0 if report.ok else 1


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "parity":
        return run_parity(args, parser)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
