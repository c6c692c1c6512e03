"""The ``audiofront`` command (also ``python -m audiofront``): one parser function and one
run function per subcommand."""

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


BENCH_EXAMPLES = """\
examples:
  audiofront bench                                    # speech workload, MelSpectrogram, all backends
  audiofront bench --workload kapre --backward --repeats 5 --out reports/bench-kapre
  audiofront bench --layers STFT,Spectrogram --backends torch --device gpu
  audiofront bench --workload custom -p n_fft=1024 -p hop_length=256 --seconds 4
  audiofront bench --workload kapre --experiment kapre-overhead

Each backend runs in its own subprocess. Every measurement warms up, then reports the median
over --repeats calls with results materialised before the clock stops; the first call of a
compiled function is reported apart as compile time. The last column is each row's median
over the fastest peer's (non-audiofront) on the same backend, device and pass.
"""


SHOW_EXAMPLES = """\
examples:
  audiofront show speech.wav                                  # writes speech.png
  audiofront show speech.wav -p n_fft=1024 -p n_mels=80 -p fmax=8000 --out speech-hires.png
  audiofront show 7_jackson_32.wav --model digits.keras       # + its learned filterbank

Settings (-p KEY=VALUE): n_fft (default: about 32 ms, a power of two), hop_length (n_fft/4),
win_length, window, n_mels (40 up to 8 kHz sample rates, else 64), fmin, fmax, htk, top_db (80).
With --model and no -p, the model's own mel settings are used. Computed with audiofront's
layers under the current KERAS_BACKEND.
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


def _add_param_option(parser, help):
    """``-p KEY=VALUE`` (repeatable), parsed by `parse_param` into ``(key, value)`` pairs."""
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_param,
        default=[],
        metavar="KEY=VALUE",
        help=help,
    )


def _csv_choices(parser, option, text, choices):
    """The comma-separated items of ``text``; a usage error (exit 2) names any not in ``choices``."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    bad = [item for item in items if item not in choices]
    if bad:
        parser.error(f"{option}: unknown {bad}; choose from {', '.join(choices)}")
    return items


def _parity_parser(commands):
    from audiofront.tools import parity

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
        choices=list(parity.LAYERS),
        metavar="LAYER",
        help=f"an audiofront layer: {', '.join(parity.LAYERS)}",
    )
    _add_param_option(
        p, "a layer argument as a Python literal, e.g. -p n_fft=512 -p decibel=True (repeatable)"
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


def _bench_parser(commands):
    b = commands.add_parser(
        "bench",
        help="time layers on each backend next to native FFT chains, Keras, librosa, nnAudio, Kapre",
        description="Which backend, implementation and device is fastest for my front-end?",
        epilog=BENCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "--layers",
        default="MelSpectrogram",
        metavar="LIST",
        help="comma-separated audiofront layers: MelSpectrogram, MFCC, Spectrogram, STFT, "
        "CQT, LEAF",
    )
    b.add_argument(
        "--backends",
        default="jax,torch,tensorflow",
        metavar="LIST",
        help="comma-separated backends",
    )
    b.add_argument(
        "--workload",
        default="speech",
        choices=["kapre", "speech", "custom"],
        help="kapre: 16 x 30 s at 32 kHz, n_fft 512, hop 256, 128 mels, dB; "
        "speech: 32 x 1 s at 16 kHz, n_fft 512, hop 160, 64 mels, dB; custom: speech plus your flags",
    )
    b.add_argument("--batch", type=int, default=None, metavar="N", help="override the batch size")
    b.add_argument(
        "--seconds", type=float, default=None, metavar="S", help="override the seconds per example"
    )
    b.add_argument(
        "--sample-rate", type=int, default=None, metavar="SR", help="override the sample rate"
    )
    _add_param_option(b, "n_fft, hop_length, n_mels, decibel, or any other layer argument")
    _add_timing_options(b)
    b.add_argument(
        "--backward", action="store_true", help="also time forward+backward with trainable kernels"
    )
    b.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time compiled (jax.jit, tf.function(jit_compile=True), torch.compile)",
    )
    b.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the other libraries too, where installed",
    )
    b.add_argument("--device", choices=["cpu", "gpu"], default="cpu", help="where to run")
    b.add_argument(
        "--implementations",
        default="auto",
        metavar="LIST",
        help="comma-separated STFT paths timed as their own rows for the frozen forward pass: "
        "auto (the default path), conv, fft, blocked",
    )
    b.add_argument(
        "--experiment",
        choices=["kapre-overhead", "streaming"],
        default=None,
        help="also run an experiment: kapre-overhead (the Kapre paper's convnet trained on "
        "precomputed dB spectrograms versus on raw audio with the front-end in the model) or "
        "streaming (the latency of one hop-sized chunk through a stateful mel spectrogram "
        "and PCEN, eager and compiled, as a fraction of real time)",
    )
    b.add_argument(
        "--memory",
        action="store_true",
        help="also measure the peak memory of one eager forward call (audiofront and the "
        "backend's native chain, a fresh process each; Linux)",
    )
    b.add_argument(
        "--out",
        default="bench-results",
        metavar="DIR",
        help="where bench.json, bench.md, bench.png go",
    )


def _add_timing_options(parser):
    parser.add_argument(
        "--repeats", type=int, default=5, metavar="N", help="timed calls per measurement (median)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, metavar="N", help="untimed calls before timing"
    )


def _show_parser(commands):
    s = commands.add_parser(
        "show",
        help="draw a WAV file's waveform, linear and mel spectrograms (and a model's filterbank)",
        description="A PNG with the waveform, the linear and the mel spectrogram in dB (time in "
        "seconds, frequency in Hz); with --model, the learned filterbank over the initial mel filters.",
        epilog=SHOW_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("file", metavar="FILE.wav", help="a PCM WAV file (channels are averaged)")
    _add_param_option(s, "a front-end setting as a Python literal, e.g. -p n_fft=512 (repeatable)")
    s.add_argument("--model", metavar="PATH.keras", help="a trained model with a MelSpectrogram")
    s.add_argument("--out", metavar="PNG", help="where the figure goes (default FILE.png)")


def _compare_parser(commands):
    c = commands.add_parser(
        "compare",
        help="the main job: parity of every layer, then which backend and path is fastest",
        description="Parity of every layer across backends (forward and gradients), then audiofront "
        "bench on the speech workload (a few minutes in all); --full adds the paper-scale kapre "
        "workload, its memory probes and the Kapre-overhead experiment. Writes OUT/compare.md "
        "(the answer first), compare.json, compare.png (what `nox -s compare` runs).",
    )
    c.add_argument(
        "--out", default="reports", metavar="DIR", help="output folder (default reports)"
    )
    c.add_argument(
        "--full", action="store_true", help="the full sweep: both workloads, 5 repeats, experiments"
    )
    c.add_argument("--repeats", type=int, metavar="N", help="timed calls per measurement")
    c.add_argument("--warmup", type=int, metavar="N", help="untimed calls before timing")
    c.add_argument("--workloads", metavar="LIST", help="comma-separated workloads")
    c.add_argument("--no-overhead", action="store_true", help="skip the Kapre-overhead experiment")


def _export_parser(commands):
    e = commands.add_parser(
        "export",
        help="export every layer in each format of the current backend and check the artifacts",
        description="Every layer (default arguments) through Keras's model.export in each format "
        "the current KERAS_BACKEND offers, run in the format's runtime (TensorFlow, LiteRT, "
        "onnxruntime) against the Keras model: OUT/export-<backend>.json. --matrix prints the "
        "format x backend x layer matrix from every export-*.json in OUT (the README's).",
    )
    e.add_argument(
        "--out", default="reports/export", metavar="DIR", help="(default reports/export)"
    )
    e.add_argument("--layers", metavar="LIST", help="comma-separated layers (default all)")
    e.add_argument("--formats", metavar="LIST", help="comma-separated formats (default all)")
    e.add_argument("--matrix", action="store_true", help="print the matrix from OUT and stop")


def build_parser():
    from audiofront import __version__

    parser = argparse.ArgumentParser(
        prog="audiofront", description="The audio front-end for Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"audiofront {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_parity_parser, _bench_parser, _show_parser, _compare_parser, _export_parser):
        add(commands)
    return parser


def _default_input():
    from audiofront.tools import datasets

    try:
        datasets.fsdd_path()
        return "fsdd"
    except FileNotFoundError:
        return "chirp"


def run_parity(args, parser):
    from audiofront.tools import parity

    if (args.layer is None) == (args.model is None):
        parser.error("give either LAYER or --model PATH.keras")
    backends = _csv_choices(parser, "--backends", args.backends, parity.BACKENDS)
    source = args.input or _default_input()
    common = dict(
        source=source,
        batch=args.batch,
        seconds=args.seconds,
        sample_rate=args.sample_rate,
        backends=backends,
        grad=args.grad,
        imports=args.imports,
        progress=True,
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


def run_bench(args, parser):
    from audiofront.tools import bench
    from audiofront.tools.bench import report

    layers = _csv_choices(parser, "--layers", args.layers, bench.BENCH_LAYERS)
    backends = _csv_choices(parser, "--backends", args.backends, bench.BACKENDS)
    implementations = _csv_choices(
        parser, "--implementations", args.implementations, bench.IMPLEMENTATIONS
    )
    result = bench.run(
        layers=layers,
        backends=backends,
        workload=args.workload,
        batch=args.batch,
        seconds=args.seconds,
        sample_rate=args.sample_rate,
        params=dict(args.param),
        repeats=args.repeats,
        warmup=args.warmup,
        backward=args.backward,
        compile=args.compile,
        peers=args.peers,
        device=args.device,
        implementations=implementations,
        overhead=args.experiment == "kapre-overhead",
        memory=args.memory,
        streaming=args.experiment == "streaming",
        out=args.out,
        progress=True,
    )
    report.render(result)
    print(f"wrote {args.out}/bench.json, bench.md, bench.png")
    return 0 if result["records"] else 1


def run_show(args, parser):
    from audiofront.tools import show

    try:
        out = show.show(args.file, dict(args.param), model=args.model, out=args.out)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    print(f"wrote {out}")
    return 0


def run_compare(args, parser):
    from audiofront.tools import compare

    combined = compare.run(
        out=args.out,
        full=args.full,
        repeats=args.repeats,
        warmup=args.warmup,
        workloads=tuple(args.workloads.split(",")) if args.workloads else None,
        overhead=False if args.no_overhead else None,
        source=_default_input(),
        progress=True,
    )
    print("\n".join(compare.summary(combined)))
    print(f"\nwrote {args.out}/compare.md (the tables), compare.json, compare.png")
    return 0 if combined["parity"]["ok"] else 1


def run_export(args, parser):
    from audiofront.tools import export
    from audiofront.tools.progress import progress

    if args.matrix:
        print(export.matrix(args.out))
        return 0
    import keras

    backend = keras.backend.backend()
    layers = args.layers.split(",") if args.layers else [*export.LAYERS, export.STREAM_ROW]
    formats = args.formats.split(",") if args.formats else list(export.FORMATS[backend])
    with progress("export", total=len(layers) * len(formats)) as bar:
        cells = export.run(args.out, layers, formats, bar)
    for cell in cells:
        detail = cell.get("failure") or f"max diff {cell['error']:.3g} (bound {cell['bound']:.3g})"
        print(f"{backend:10s} {cell['format']:14s} {cell['layer']:16s} {cell['ok']}  {detail}")
    print(f"wrote {args.out}/export-{backend}.json")
    return 0 if all(c["ok"] is not False for c in cells) else 1


COMMANDS = {
    "parity": run_parity,
    "bench": run_bench,
    "show": run_show,
    "compare": run_compare,
    "export": run_export,
}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args, parser)


if __name__ == "__main__":
    sys.exit(main())
