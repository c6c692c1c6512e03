"""The bench's results as a Markdown table, a terminal table and a bar chart, and the
ratio of each record to the fastest peer's."""

import json
import sys
from pathlib import Path

from audiofront.tools.bench import roofline

__all__ = ["add_ratios", "add_roofline", "markdown_table", "render", "plot", "write"]


def _is_peer(record):
    return not record["implementation"].startswith("audiofront")


def _timings(records):
    return [r for r in records if r["pass"] != "memory"]


def add_ratios(records):
    """Each record's median over the fastest peer's on the same backend, device, layer, pass."""
    records = _timings(records)
    for r in records:
        if r["pass"] in ("train_step", "stream_chunk"):  # the experiments' own ratios
            continue
        same = [
            p["median_ms"]
            for p in records
            if _is_peer(p)
            and p["pass"] == r["pass"]
            and p["layer"] == r["layer"]
            and p["device"] == r["device"]
            and p["workload"] == r["workload"]
            and (p["backend"] == r["backend"] or p["backend"] == "numpy" == r["backend"])
        ]
        r["ratio_to_fastest_peer"] = r["median_ms"] / min(same) if same else None


def add_roofline(result):
    """Each GPU forward/backward record's ``roofline``: the floor time of its pass on the
    device's best measured ceilings (``machine["ceilings"]``, per backend) over its median."""
    measured = result["machine"].get("ceilings") or {}
    if not measured:
        return
    best = {k: max(c[k] for c in measured.values()) for k in ("flops", "bandwidth")}
    result["machine"]["roofline"] = best
    for r in _timings(result["records"]):
        if (
            r["device"] == "gpu"
            and r["pass"] in ("forward", "backward")
            and r["layer"] in roofline.LAYERS
        ):
            settings = dict(result["settings"], layer=r["layer"])
            flops, nbytes = roofline.work(pass_=r["pass"], **settings)
            r["floor_ms"] = roofline.floor_ms(flops, nbytes, best)
            r["roofline"] = r["floor_ms"] / r["median_ms"]


def _fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}g}"


def _ms(value):
    """Milliseconds with three significant digits below 10 (GPU timings), one decimal above."""
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def _percent(value):
    return "" if value is None else f"{100 * value:.2g}%"


def markdown_table(result):
    """The records as a Markdown table, fastest first within each group."""
    machine = result["machine"]
    roof = machine.get("roofline")
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores"
        + (f", GPU: {', '.join(machine['gpus'])}" if machine["gpus"] else ", no GPU")
        + f"; {result['settings']['workload']} workload ({result['settings']['batch']} x {result['settings']['seconds']} s at "
        f"{result['settings']['sample_rate']} Hz, n_fft {result['settings']['n_fft']}, hop {result['settings']['hop_length']}"
        + (f", {result['settings']['n_mels']} mels" if "n_mels" in result["settings"] else "")
        + f"); median of {result['settings']['repeats']} after {result['settings']['warmup']} warm-up calls.",
        "",
        "| layer | backend | device | pass | implementation | mode | median ms | IQR ms | compile ms | x fastest peer |"
        + (" % of roofline |" if roof else ""),
        "|---|---|---|---|---|---|---:|---:|---:|---:|" + ("---:|" if roof else ""),
    ]
    rows = sorted(
        _timings(result["records"]),
        key=lambda r: (r["layer"], r["pass"], r["backend"], r["device"], r["median_ms"]),
    )
    for r in rows:
        ratio = r.get("ratio_to_fastest_peer")
        if r["pass"] == "train_step":
            ratio_text = f"overhead {100 * r['overhead']:+.0f}%" if "overhead" in r else ""
        elif r["pass"] == "stream_chunk":
            ratio_text = f"{r['real_time']:.3g} of real time"
        else:
            ratio_text = _fmt(ratio)
        lines.append(
            f"| {r['layer']} | {r['backend']} | {r['device']} | {r['pass']} | {r['implementation']} | {r['mode']} | "
            f"{_ms(r['median_ms'])} | {_ms(r['iqr_ms'])} | {_fmt(r.get('compile_ms'), 4)} | {ratio_text} |"
            + (f" {_percent(r.get('roofline'))} |" if roof else "")
        )
    memory = sorted(
        (r for r in result["records"] if r["pass"] == "memory"),
        key=lambda r: (r["backend"], r["implementation"]),
    )
    if memory:
        lines += [
            "",
            "Peak memory of one eager forward call above the process's baseline (resident set,"
            " sampled every 0.2 ms, fresh process each):",
            "",
            "| layer | backend | device | implementation | peak MB | input + output MB | x (input + output) |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {r['layer']} | {r['backend']} | {r['device']} | {r['implementation']} | "
            f"{r['peak_mb']:.0f} | {r['io_mb']:.0f} | {r['x_io']:.2f} |"
            for r in memory
        ]
    if roof:
        lines += [
            "",
            f"Roofline: the device's measured float32 ceilings, {roof['flops'] / 1e12:.1f} "
            f"TFLOP/s (matmul, TF32 off) and {roof['bandwidth'] / 1e12:.2f} TB/s (read + "
            "write); each pass's floor is its least work over them (forward: real FFT, "
            "window, power, filterbank; backward: the DFT and filterbank as trainable "
            "matmuls, three times), see `audiofront.tools.bench.roofline`.",
        ]
    if result["notes"]:
        lines += ["", "Notes:"] + [f"- {n.splitlines()[0] if n else n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def render(result, console=None):
    """A terminal table (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=None if sys.stdout.isatty() else 140)
    table = Table(
        title=f"audiofront bench: {result['settings']['workload']} ({result['machine']['cpu']}, {result['machine']['cores']} cores)"
    )
    for column in (
        "layer",
        "backend",
        "dev",
        "pass",
        "implementation",
        "mode",
        "median ms",
        "compile ms",
        "x peer",
    ):
        table.add_column(
            column, justify="right" if column in ("median ms", "compile ms", "x peer") else "left"
        )
    for r in sorted(
        _timings(result["records"]),
        key=lambda r: (r["layer"], r["pass"], r["backend"], r["median_ms"]),
    ):
        if r["pass"] == "train_step":
            ratio = f"{100 * r.get('overhead', 0):+.0f}%"
        elif r["pass"] == "stream_chunk":
            ratio = f"{r['real_time']:.3g} RT"
        else:
            value = r.get("ratio_to_fastest_peer")
            ratio = (
                ""
                if value is None
                else (f"[green]{value:.2f}[/green]" if value <= 1 else f"{value:.2f}")
            )
        table.add_row(
            r["layer"],
            r["backend"],
            r["device"],
            r["pass"],
            r["implementation"],
            r["mode"],
            _ms(r["median_ms"]),
            _fmt(r.get("compile_ms"), 4),
            ratio,
        )
    console.print(table)
    for note in result["notes"]:
        console.print(f"[yellow]note[/yellow] {note.splitlines()[0] if note else note}")


def plot(result, path, title=None):
    """A horizontal bar chart of medians (log scale), one panel per pass."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    passes = [
        p
        for p in ("forward", "backward", "train_step")
        if any(r["pass"] == p for r in result["records"])
    ]
    if not passes:
        return None
    heights = [sum(r["pass"] == p for r in result["records"]) for p in passes]
    fig, axes = plt.subplots(
        len(passes),
        1,
        figsize=(10, 1.2 + 0.28 * sum(heights) + 0.6 * len(passes)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    colours = {"jax": "#1f77b4", "torch": "#d62728", "tensorflow": "#ff7f0e", "numpy": "#7f7f7f"}
    for ax, p in zip(axes[:, 0], passes):
        rows = sorted(
            (r for r in result["records"] if r["pass"] == p), key=lambda r: -r["median_ms"]
        )
        labels = [
            f"{r['backend']} {r['implementation']} ({r['mode']}, {r['device']})" for r in rows
        ]
        ax.barh(
            range(len(rows)),
            [r["median_ms"] for r in rows],
            xerr=[
                [r["median_ms"] - r["min_ms"] for r in rows],
                [r["max_ms"] - r["median_ms"] for r in rows],
            ],
            color=[colours.get(r["backend"], "#333333") for r in rows],
            hatch=None,
            edgecolor=[
                "black" if r["implementation"].startswith("audiofront") else "none" for r in rows
            ],
        )
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("median time per batch (ms, log scale; black edge = audiofront)")
        ax.set_title(f"{p}", fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
    s = result["settings"]
    if title is None:
        title = (
            f"{s['workload']} workload: {s['batch']} x {s['seconds']} s at {s['sample_rate']} Hz"
        )
    fig.suptitle(
        f"{title}; {result['machine']['cpu']}, {result['machine']['cores']} cores", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(result, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    (out / "bench.md").write_text(markdown_table(result))
    plot(result, out / "bench.png")
