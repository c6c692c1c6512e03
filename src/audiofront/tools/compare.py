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

__all__ = ["parity_cases", "run", "summary", "markdown"]


def parity_cases(source="fsdd"):
    """One `parity.compare` case per public layer: the case table's ``"parity"`` rows
    (trainable where the layer can be), named after their layer."""
    out = []
    for case in tagged("parity"):
        params, x = example(case, source, batch=2, seconds=1.0)
        out.append({"name": case.layer, "layer": case.layer, "params": params, "input": x})
    return out


# The frozen forward pass is timed on each STFT path as its own row, next to "auto".
IMPLEMENTATIONS = ("auto", "fft", "blocked")
QUICK = dict(workloads=("speech",), repeats=3, warmup=1, overhead=False, memory=False)
FULL = dict(workloads=("kapre", "speech"), repeats=5, warmup=2, overhead=True, memory=True)


def run(out="reports", full=False, source="fsdd", progress=False, **overrides):
    """Runs parity and bench, writes the reports, returns the combined dict.

    By default (the quick run) the bench times the speech workload only, 3 repeats after
    1 warm-up; ``full=True`` adds the paper-scale kapre workload, its peak-memory probes
    and the Kapre-overhead experiment, 5 repeats after 2. ``overrides`` (``workloads``,
    ``repeats``, ``warmup``, ``overhead``, ``memory``) change single settings.
    """
    settings = dict(FULL if full else QUICK)
    unknown = set(overrides) - set(settings)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; expected some of {sorted(settings)}")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = parity.compare(parity_cases(source), grad=True, progress=progress)
    combined = {
        "run": dict(
            settings, workloads=list(settings["workloads"]), full=bool(full), source=source
        ),
        "parity": report.to_json(),
        "bench": {},
    }
    for workload in settings["workloads"]:
        result = bench.run(
            layers=["MelSpectrogram"],
            workload=workload,
            repeats=settings["repeats"],
            warmup=settings["warmup"],
            backward=True,
            implementations=IMPLEMENTATIONS,
            overhead=settings["overhead"] and workload == "kapre",
            memory=settings["memory"] and workload == "kapre",
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


def _bound_used(c):
    """The fraction of its bound a comparison used (dB: absolute, else relative)."""
    error = c["max_abs"] if c["unit"] == "dB" else c["relative"]
    return error / c["bound"] if c["bound"] else float("inf")


def _fastest(result):
    """Per backend: audiofront's fastest forward MelSpectrogram record and the fastest
    peer's on the same backend (librosa stands for numpy)."""
    forward = [r for r in result["records"] if r["pass"] == "forward"]
    rows = []
    for backend in dict.fromkeys(r["backend"] for r in forward):
        ours = [
            r
            for r in forward
            if r["backend"] == backend and r["implementation"].startswith("audiofront")
        ]
        theirs = [
            r
            for r in forward
            if r["backend"] == backend and not r["implementation"].startswith("audiofront")
        ]
        if ours:
            best = min(ours, key=lambda r: r["median_ms"])
            peer = min(theirs, key=lambda r: r["median_ms"]) if theirs else None
            rows.append((backend, best, peer))
    return rows


def summary(combined):
    """The answer first: the parity verdict, the fastest audiofront path per backend next to
    the fastest peer there, what was run; Markdown lines."""
    p = combined["parity"]
    run = combined.get("run", {})
    worst = max(p["comparisons"], key=_bound_used, default=None)
    layers = len({c["case"] for c in p["comparisons"]})
    verdict = "all within bounds" if p["ok"] else "OUT OF BOUNDS"
    source = {"fsdd": "FSDD speech", "chirp": "a chirp (FSDD not found: set AUDIOFRONT_FSDD)"}
    lines = [
        f"**Parity: {verdict}.** {layers} layers, forward and gradients, on "
        + (f"{source.get(run['source'], run['source'])}, " if "source" in run else "")
        + "backends "
        + f"{', '.join(p['backends'])}: {len(p['comparisons'])} comparisons"
        + (
            f", the closest to its bound at {100 * _bound_used(worst):.0f}% of it "
            f"({worst['case']}, {worst['quantity']}, {worst['a']} vs {worst['b']})."
            if worst
            else "."
        ),
    ]
    failed = [c for c in p["comparisons"] if not c["ok"]]
    lines += [f"- out of bounds: {c['case']} {c['quantity']} {c['a']} vs {c['b']}" for c in failed]
    lines += [
        f"- error {where}: {message.splitlines()[0]}" for where, message in p["errors"].items()
    ]
    for workload, result in combined["bench"].items():
        s = result["settings"]
        lines += [
            "",
            f"**Speed, {workload} workload** ({s['batch']} x {s['seconds']} s at {s['sample_rate']} Hz, "
            f"MelSpectrogram in dB, forward, median of {s['repeats']}; {result['machine']['cpu']}, "
            f"{result['machine']['cores']} cores):",
            "",
            "| backend | fastest audiofront path | ms | fastest peer there | ms | x peer |",
            "|---|---|---:|---|---:|---:|",
        ]
        for backend, best, peer in _fastest(result):
            forced = best["implementation"].partition("[")[2].rstrip("]")  # a forced STFT path
            path = f"{forced} ({best['mode']})" if forced else f"auto ({best['mode']})"
            if peer:
                lines.append(
                    f"| {backend} | {path} | {best['median_ms']:.1f} | {peer['implementation']} {peer['mode']} | "
                    f"{peer['median_ms']:.1f} | {best['median_ms'] / peer['median_ms']:.2f} |"
                )
            else:
                lines.append(f"| {backend} | {path} | {best['median_ms']:.1f} | — | | |")
        fastest = min(_fastest(result), key=lambda row: row[1]["median_ms"], default=None)
        if fastest:
            lines += ["", f"Fastest here: audiofront on {fastest[0]}, {fastest[1]['mode']}."]
    if run:
        lines += [
            "",
            (
                "Full run (`audiofront compare --full`): both workloads, peak memory and the Kapre-overhead experiment"
                if run.get("full")
                else "Quick run (`audiofront compare`): the speech workload only; the paper-scale kapre workload, "
                "its memory probes and the Kapre-overhead experiment are behind `--full`"
            )
            + f"; {run['repeats']} repeats after {run['warmup']} warm-up call(s).",
        ]
    return lines


def markdown(combined):
    p = combined["parity"]
    lines = ["# audiofront: cross-backend comparison", "", *summary(combined), ""]
    if combined["bench"]:
        lines += ["![forward pass per implementation](compare.png)", ""]
    lines += ["## Parity (every layer, forward and gradients)", ""]
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
