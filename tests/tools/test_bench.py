"""The bench harness: its outputs and options on small workloads, not its timings.

The harness is the same code on every backend (each backend's own timing paths run in the
crossbackend session's compare test, on all three), so its tests run in one backend's
session (``once``): tensorflow's, torch's for the test with nnAudio and speechbrain peers."""

import json
import re
import subprocess
import sys

import keras
import pytest

from audiofront.catalog import LAYERS
from audiofront.tools import bench, cli
from audiofront.tools.cases import tagged

BACKEND = keras.backend.backend()
FIELDS = {
    "backend",
    "device",
    "implementation",
    "layer",
    "mode",
    "pass",
    "workload",
    "median_ms",
    "min_ms",
    "max_ms",
    "repeats",
}


def run_bench(*args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "audiofront", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    result = run_bench(
        "--backends",
        BACKEND,
        "--workload",
        "custom",
        "--batch",
        "2",
        "--seconds",
        "0.25",
        "-p",
        "n_mels=32",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--backward",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "bench.json").read_text()), result.stdout


@pytest.mark.slow
@pytest.mark.once("tensorflow")
def test_outputs_written_with_records_and_machine(small_run):
    out, data, stdout = small_run
    assert (out / "bench.md").read_text().startswith("Machine: ")
    assert (out / "bench.png").stat().st_size > 10_000
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    assert data["versions"]["keras"] == keras.__version__
    for record in data["records"]:
        assert FIELDS <= set(record)
        assert record["median_ms"] > 0 and record["repeats"] == 1
    assert "audiofront bench" in stdout


@pytest.mark.slow
@pytest.mark.once("tensorflow")
def test_audiofront_eager_compiled_forward_backward_and_peers(small_run):
    _out, data, _stdout = small_run
    ours = {
        (r["mode"], r["pass"])
        for r in data["records"]
        if r["backend"] == BACKEND and r["implementation"].startswith("audiofront")
    }
    assert ours == {
        ("eager", "forward"),
        ("compiled", "forward"),
        ("eager", "backward"),
        ("compiled", "backward"),
    }
    names = {r["implementation"] for r in data["records"]}
    assert any(n.startswith("native:") for n in names)
    assert any(n.startswith("keras.layers.") for n in names)
    assert "librosa" in names
    if BACKEND == "torch":
        assert "nnAudio" in names or any("nnAudio" in n for n in data["notes"])
    compiled = [r for r in data["records"] if r["mode"] == "compiled"]
    assert all(r["compile_ms"] is not None for r in compiled)
    # Each forward row carries its ratio to the fastest peer on the same backend.
    forward = [r for r in data["records"] if r["pass"] == "forward" and r["backend"] == BACKEND]
    assert all(r["ratio_to_fastest_peer"] > 0 for r in forward)
    assert (
        min(
            r["ratio_to_fastest_peer"]
            for r in forward
            if not r["implementation"].startswith("audiofront")
        )
        == 1.0
    )


@pytest.mark.slow
@pytest.mark.once("tensorflow")
def test_no_peers_no_compile_and_layers(tmp_path):
    result = run_bench(
        "--backends",
        BACKEND,
        "--layers",
        "STFT,Spectrogram",
        "--batch",
        "1",
        "--seconds",
        "0.1",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--no-peers",
        "--no-compile",
        "--implementations",
        "auto,conv,fft",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((tmp_path / "bench.json").read_text())["records"]
    assert {r["implementation"] for r in records} == {
        f"audiofront:{layer}{path}"
        for layer in ("STFT", "Spectrogram")
        for path in ("", "[conv]", "[fft]")
    }
    assert {r["mode"] for r in records} == {"eager"}
    # On the CPU no ceilings are measured, so no roofline column.
    assert all("roofline" not in r for r in records)


@pytest.mark.slow
@pytest.mark.once("torch")
def test_cqt_and_leaf_rows_and_their_peers(tmp_path):
    """CQT next to librosa (and nnAudio's two CQTs under torch); LEAF next to MelSpectrogram
    on the same batch (the 10x budget), forward and backward, and speechbrain's Leaf or a
    note saying why not. Eager only: compiling these graphs is most of the cost here."""
    result = run_bench(
        "--backends", BACKEND, "--layers", "CQT,LEAF", "--workload", "custom", "--batch", "1",
        "--seconds", "0.5", "-p", "hop_length=128",  # nnAudio's CQT2010v2 needs 2**6 | hop
        "--repeats", "1", "--warmup", "0", "--backward", "--no-compile",
        "--implementations", "conv", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "bench.json").read_text())
    rows = {(r["layer"], r["implementation"], r["mode"], r["pass"]) for r in data["records"]}
    for layer in ("CQT", "LEAF"):  # no STFT path to force, not even "auto": one row per pass
        ours = {row[1:] for row in rows if row[0] == layer and row[1].startswith("audiofront:")}
        assert ours == {(f"audiofront:{layer}", "eager", p) for p in ("forward", "backward")}
    assert ("CQT", "librosa", "eager", "forward") in rows
    assert not any(row[0] == "LEAF" and row[1] == "librosa" for row in rows)
    mel = "MelSpectrogram, same batch (audiofront)"
    assert {row[3] for row in rows if row[:2] == ("LEAF", mel)} == {"forward", "backward"}
    if BACKEND == "torch":
        for name in ("nnAudio.CQT1992v2", "nnAudio.CQT2010v2"):
            assert {("CQT", name, "eager", p) for p in ("forward", "backward")} <= rows
        assert ("LEAF", "speechbrain.Leaf", "eager", "backward") in rows or any(
            "LEAF peer not importable" in n for n in data["notes"]
        )
    leaf = [r for r in data["records"] if r["implementation"] == "audiofront:LEAF"]
    assert all(r["ratio_to_fastest_peer"] > 0 for r in leaf)


@pytest.mark.once("jax")
def test_librosa_worker_needs_no_keras_backend(monkeypatch):
    """The numpy worker (librosa) runs where Keras cannot import its backend (the caller's
    KERAS_BACKEND unset, TensorFlow absent): it does not import Keras."""
    monkeypatch.setenv("KERAS_BACKEND", "no-such-backend")  # what the worker inherits
    result = bench.run(backends=(), workload="custom", batch=1, seconds=0.5, repeats=1,
                       warmup=0, compile=False)  # fmt: skip
    assert result["notes"] == []
    assert [r["implementation"] for r in result["records"]] == ["librosa"]


@pytest.mark.slow
@pytest.mark.once("tensorflow")
def test_kapre_overhead_experiment_records(tmp_path):
    result = run_bench(
        "--backends",
        BACKEND,
        "--workload",
        "kapre",
        "--batch",
        "2",
        "--seconds",
        "0.5",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--no-peers",
        "--no-compile",
        "--experiment",
        "kapre-overhead",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = [
        r
        for r in json.loads((tmp_path / "bench.json").read_text())["records"]
        if r["pass"] == "train_step"
    ]
    assert [r["implementation"] for r in records] == [
        "kapre-overhead:precomputed",
        "kapre-overhead:frontend-frozen",
        "kapre-overhead:frontend-trainable",
    ]
    assert records[0]["overhead"] == 0.0 and all(r["overhead"] > -1 for r in records)


@pytest.mark.once("tensorflow")
def test_streaming_experiment_records(tmp_path):
    result = run_bench(
        *("--backends", BACKEND, "--workload", "speech", "--batch", "1", "--seconds", "0.1"),
        *("--repeats", "3", "--warmup", "1", "--no-peers", "--no-compile"),
        *("--experiment", "streaming", "--out", str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = [
        r
        for r in json.loads((tmp_path / "bench.json").read_text())["records"]
        if r["pass"] == "stream_chunk"
    ]
    assert [r["mode"] for r in records] == ["eager", "compiled"]
    for r in records:
        assert r["chunk_ms"] == 10.0  # one hop of 160 samples at 16 kHz
        assert r["real_time"] == pytest.approx(r["median_ms"] / 10.0)
    assert "of real time" in (tmp_path / "bench.md").read_text()


def test_workloads_are_the_papers_and_speech():
    kapre = bench.resolve_workload("kapre")
    assert (
        kapre["batch"],
        kapre["samples"],
        kapre["n_fft"],
        kapre["hop_length"],
        kapre["n_mels"],
    ) == (16, 960000, 512, 256, 128)
    speech = bench.resolve_workload("speech")
    assert (speech["batch"], speech["samples"], speech["hop_length"], speech["n_mels"]) == (
        32,
        16000,
        160,
        64,
    )
    custom = bench.resolve_workload(
        "custom", seconds=2.0, params={"n_fft": 1024, "window": "hamming"}
    )
    assert (
        custom["n_fft"] == 1024
        and custom["samples"] == 32000
        and custom["params"] == {"window": "hamming"}
    )
    with pytest.raises(ValueError, match="`workload`"):
        bench.resolve_workload("music")


@pytest.mark.once("tensorflow")
def test_bench_help_and_usage_errors():
    parser = cli.build_parser()
    text = parser._subparsers._group_actions[0].choices["bench"].format_help()
    for option in (
        "--layers",
        "--backends",
        "--workload",
        "--batch",
        "--seconds",
        "--sample-rate",
        "-p",
        "--repeats",
        "--backward",
        "--compile",
        "--no-compile",
        "--peers",
        "--no-peers",
        "--device",
        "--implementations",
        "--out",
        "--experiment",
    ):
        assert option in text, option
    assert "examples:" in text
    assert run_bench("--layers", "Decibel").returncode == 2
    assert run_bench("--backends", "mxnet").returncode == 2
    assert run_bench("--implementations", "dft").returncode == 2
    with pytest.raises(ValueError, match="`implementations`"):
        bench.run(implementations=())


@pytest.mark.cross_backend
def test_compare_writes_parity_and_bench_reports(tmp_path):
    """The main job's command, small: parity of every layer on three backends, one workload."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiofront",
            "compare",
            "--out",
            str(tmp_path),
            "--workloads",
            "speech",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--no-overhead",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    combined = json.loads((tmp_path / "compare.json").read_text())
    assert combined["parity"]["ok"] and combined["parity"]["backends"] == [
        "jax",
        "torch",
        "tensorflow",
    ]
    comparisons = combined["parity"]["comparisons"]
    assert {c["case"] for c in comparisons} == set(LAYERS)
    # Every trainable weight's gradient was compared, for every pair (the other "cross"
    # rows: tests/test_cross_backend.py).
    grads = {
        c["case"]
        for c in comparisons
        if c["quantity"].startswith("grad") and not c["quantity"].startswith("grad input")
    }
    assert grads == {c.layer for c in tagged("parity") if c.weights[0]}
    assert {(c["a"], c["b"]) for c in comparisons} == {
        ("jax", "torch"),
        ("jax", "tensorflow"),
        ("torch", "tensorflow"),
    }
    backends = {r["backend"] for r in combined["bench"]["speech"]["records"]}
    assert backends == {"jax", "torch", "tensorflow", "numpy"}
    assert combined["run"] == dict(
        workloads=["speech"], repeats=1, warmup=0, overhead=False, memory=False, full=False,
        source="fsdd",
    )  # fmt: skip
    text = (tmp_path / "compare.md").read_text()
    # The answer first (the summary, also on the console), the long tables after it.
    assert text.index("**Parity: all within bounds.**") < text.index("## Parity")
    assert re.search(r"\| jax \| (auto|fft|blocked) \((compiled|eager)\) \|", text)
    assert "Quick run" in text
    # Each STFT path of the frozen forward pass has its own row on every backend.
    rows = {(r["backend"], r["implementation"]) for r in combined["bench"]["speech"]["records"]}
    for backend in ("jax", "torch", "tensorflow"):
        for row in ("", "[fft]", "[blocked]"):
            assert (backend, f"audiofront:MelSpectrogram{row}") in rows
    assert "**Parity: all within bounds.**" in result.stdout
    assert "## Parity" in text and "## Speed: speech workload" in text
    # Captured output is no terminal: progress comes as lines, per backend and per case.
    assert "[parity 2/4] run under jax: case 1/" in result.stderr
    assert "[bench speech 1/" in result.stderr and "[bench speech] done:" in result.stderr
    assert (tmp_path / "compare.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.once("tensorflow")
def test_memory_records_count_what_one_call_allocates(tmp_path):
    result = run_bench(
        "--backends", BACKEND, "--workload", "custom", "--batch", "4", "--seconds", "10",
        "-p", "n_mels=32", "--repeats", "1", "--warmup", "0", "--no-peers", "--no-compile",
        "--memory", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((tmp_path / "bench.json").read_text())["records"]
    memory = [r for r in records if r["pass"] == "memory"]
    assert {r["implementation"].split(":")[0] for r in memory} == {"audiofront", "native"}
    samples, frames = 160000, 1 + 160000 // 160
    io_mb = 4 * (4 * samples + 4 * frames * 32) / 1e6
    for r in memory:
        assert r["io_mb"] == pytest.approx(io_mb)
        # The windowed frames and the complex spectrum are each about 3x the input here: a
        # call cannot peak below its output, nor (at this size) above 20x its I/O.
        assert io_mb / 4 < r["peak_mb"] < 20 * io_mb
    assert "x (input + output)" in (tmp_path / "bench.md").read_text()
