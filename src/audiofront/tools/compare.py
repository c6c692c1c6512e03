"""The main job: parity of every layer across backends, then the speed comparison.

``audiofront compare --out reports`` (what ``nox -s compare`` runs) writes
``reports/compare.md``, ``reports/compare.json`` and ``reports/compare.png``, with the
per-workload bench outputs under ``reports/bench-<workload>/``. Records measured in a
peers-only environment (``nox -s peers``: Kapre, which pins older Keras and TensorFlow)
are merged in when ``reports/peers-<workload>/bench.json`` exists.
"""

import json
from pathlib import Path

from audiofront.tools import bench, parity
from audiofront.tools.bench import report as bench_report
from audiofront.tools.cases import example, tagged

__all__ = ["parity_cases", "run", "markdown"]


def parity_cases(source="fsdd"):
    """One `parity.compare` case per public layer: the case table's ``"parity"`` rows
    (trainable where the layer can be), named after their layer."""
    out = []
    for case in tagged("parity"):
        params, x = example(case, source, batch=2, seconds=1.0)
        out.append({"name": case.layer, "layer": case.layer, "params": params, "input": x})
    return out


def run(
    out="reports",
    repeats=5,
    warmup=2,
    source="fsdd",
    workloads=("kapre", "speech"),
    progress=False,
    overhead=True,
):
    """Runs parity and bench, writes the reports, returns the combined dict."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = parity.compare(parity_cases(source), grad=True, progress=progress)
    combined = {"parity": report.to_json(), "bench": {}}
    for workload in workloads:
        result = bench.run(
            layers=["MelSpectrogram"],
            workload=workload,
            repeats=repeats,
            warmup=warmup,
            backward=True,
            overhead=overhead and workload == "kapre",
            memory=workload == "kapre",
            out=out / f"bench-{workload}",
            progress=progress,
        )
        merge_peers(result, out, workload)
        combined["bench"][workload] = result
    (out / "compare.json").write_text(json.dumps(combined, indent=2))
    (out / "compare.md").write_text(markdown(combined))
    _plot(combined, out / "compare.png")
    return combined


def merge_peers(result, out, workload):
    """Adds Kapre's records from ``out/peers-<workload>/bench.json`` (written by
    ``nox -s peers`` in Kapre's own environment), if present, and rewrites the bench files."""
    peers = Path(out) / f"peers-{workload}" / "bench.json"
    if not peers.exists():
        return False
    extra = json.loads(peers.read_text())
    # Only what the main environment cannot hold: Kapre.
    result["records"] = [r for r in result["records"] if r["implementation"] != "kapre"]
    result["records"] += [r for r in extra["records"] if r["implementation"] == "kapre"]
    result["notes"] = [
        n for n in result["notes"] if not n.startswith(("kapre not installed", "peers from"))
    ]
    versions = {k: extra.get("versions", {}).get(k) for k in ("kapre", "keras", "tensorflow")}
    result["notes"].append(f"kapre measured in the peers environment ({versions})")
    bench_report.add_ratios(result["records"])
    bench_report.write(result, Path(out) / f"bench-{workload}")
    return True


def markdown(combined):
    p = combined["parity"]
    lines = [
        "# audiofront: cross-backend comparison",
        "",
        "## Parity (every layer, forward and gradients)",
        "",
    ]
    lines.append(
        f"Backends: {', '.join(p['backends'])}"
        + (f"; skipped: {', '.join(p['skipped'])}" if p["skipped"] else "")
    )
    lines += [
        "",
        "| case | quantity | pair | max abs diff | relative | bound | ok |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for c in p["comparisons"]:
        unit = " dB" if c["unit"] == "dB" else ""
        verdict = ("ok" if c["ok"] else "**FAIL**") + (f" ({c['note']})" if c.get("note") else "")
        lines.append(
            f"| {c['case']} | {c['quantity']} | {c['a']} vs {c['b']} | {c['max_abs']:.3g}{unit} | {c['relative']:.3g} | "
            f"{c['bound']:g}{unit or ' rel'} | {verdict} |"
        )
    for where, message in p["errors"].items():
        lines.append(f"\nError {where}: {message.splitlines()[0]}")
    lines.append(f"\nParity verdict: {'all within bounds' if p['ok'] else 'OUT OF BOUNDS'}.\n")
    for workload, result in combined["bench"].items():
        lines += [f"## Speed: {workload} workload", "", bench_report.markdown_table(result)]
    return "\n".join(lines)


def _plot(combined, path):
    records = []
    for workload, result in combined["bench"].items():
        records += [
            dict(r, implementation=f"{r['implementation']} [{workload}]")
            for r in result["records"]
            if r["pass"] == "forward"
        ]
    if not records:
        return None
    first = next(iter(combined["bench"].values()))
    merged = {"records": records, "machine": first["machine"], "settings": first["settings"]}
    return bench_report.plot(
        merged,
        path,
        title="forward pass, " + " and ".join(f"{w} workload" for w in combined["bench"]),
    )
