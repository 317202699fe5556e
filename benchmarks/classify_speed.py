"""Classifier speed on this machine, each figure from a fresh `tracker` process with an empty
embedding cache (so every text is embedded, nothing is remembered between runs):

- a nightly batch: `tracker classify --input FILE --json` on 1,000 title+abstract papers of
  the 2026 stream (every 4th row), wall time including process start, imports, model
  verification and loading; papers/s; peak memory (the child's ru_maxrss). Run with the
  configured backend choice (sentence-transformers from `st_min_texts` texts) and with the
  numpy encoder forced, to show why the choice is made by batch size;
- one paper from a cold process: `tracker classify --title T --abstract A`, median of 5 runs.

    python benchmarks/classify_speed.py [--data PATH] [--papers N] [--runs N]

Needs the trained model in models/. Writes benchmarks/results/classify_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.machine import machine  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "stream-2026.jsonl"
OUT = REPO / "benchmarks" / "results"


def write_config(folder: Path, st_min_texts: int) -> Path:
    config = {
        "catalog_dir": str(REPO / "catalog"),
        "models_dir": str(REPO / "models"),
        "cache_dir": str(folder / "cache"),
        "classifier": {"st_min_texts": st_min_texts},
    }
    path = folder / "tracker.yaml"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()), "utf-8")
    return path


def run(args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MiB, CPU seconds) of one `tracker` process."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [_tracker(), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"tracker {' '.join(args)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _tracker() -> str:
    exe = Path(sys.executable).parent / "tracker"
    return str(exe) if exe.exists() else "tracker"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text("utf-8").splitlines() if line]
    batch = rows[::4][: args.papers]
    load = os.getloadavg()
    results: dict[str, object] = {"machine": machine(), "load_before": load}
    with tempfile.TemporaryDirectory(prefix="tracker-speed-") as scratch:
        folder = Path(scratch)
        papers = folder / "papers.jsonl"
        papers.write_text(
            "".join(
                json.dumps({"id": r["id"], "title": r["title"], "abstract": r["abstract"]}) + "\n"
                for r in batch
            ),
            "utf-8",
        )
        one = batch[0]
        cold = []
        for i in range(args.runs):
            sub = folder / f"cold{i}"
            sub.mkdir()
            config = write_config(sub, 300)
            cold.append(
                run(
                    [
                        "--config",
                        str(config),
                        "classify",
                        "--title",
                        one["title"],
                        "--abstract",
                        one["abstract"],
                    ]
                )
            )
            print(f"cold classify run {i + 1}: {cold[-1][0]:.2f} s, {cold[-1][1]:.0f} MiB")
        results["cold_single"] = {
            "walls": [w for w, _, _ in cold],
            "median_s": statistics.median(w for w, _, _ in cold),
            "peak_mib": max(m for _, m, _ in cold),
            "cpu_s_median": statistics.median(c for _, _, c in cold),
        }
        for name, st_min in (("auto (sentence-transformers)", 300), ("numpy forced", 10**9)):
            sub = folder / name.split()[0]
            sub.mkdir()
            config = write_config(sub, st_min)
            wall, mib, cpu = run(
                ["--config", str(config), "classify", "--input", str(papers), "--json"]
            )
            results[f"batch {name}"] = {
                "papers": len(batch),
                "wall_s": wall,
                "papers_per_s": len(batch) / wall,
                "peak_mib": mib,
                "cpu_s": cpu,
            }
            print(
                f"batch of {len(batch)}, {name}: {wall:.1f} s ({len(batch) / wall:.1f} "
                f"papers/s), peak {mib:.0f} MiB"
            )
    results["load_after"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "classify_speed.json").write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    c = results["cold_single"]
    lines = [
        "# Classifier speed",
        "",
        f"Machine: {machine()}. Load average before: {load[0]:.2f}, after: "
        f"{results['load_after'][0]:.2f}. Every run is a fresh process with an "
        "empty embedding cache.",
        "",
        "| what | wall time | papers/s | peak memory | CPU time (user+sys) |",
        "|---|---|---|---|---|",
        f"| `tracker classify --title --abstract`, cold process (median of {args.runs}) | "
        f"{c['median_s']:.2f} s | | {c['peak_mib']:.0f} MiB | {c['cpu_s_median']:.2f} s |",
    ]
    for key, value in results.items():
        if key.startswith("batch "):
            v = value
            lines.append(
                f"| `tracker classify --input` {v['papers']} papers, {key[6:]} | "
                f"{v['wall_s']:.1f} s | {v['papers_per_s']:.1f} | {v['peak_mib']:.0f} MiB "
                f"| {v['cpu_s']:.0f} s |"
            )
    (OUT / "classify_speed.md").write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
