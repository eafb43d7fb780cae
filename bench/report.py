#!/usr/bin/env python3
"""Turns bench/results/latest.json into latest.md (figures, ratios to the in-run ceilings, targets)
and latest.png (resolve throughput and p99 against record count). Usage: report.py RESULTS_DIR"""
import json, os, sys

directory = sys.argv[1]
results = json.load(open(os.path.join(directory, "latest.json")))
ceiling = results["ceiling"]["rps"]
sizes = sorted(results["sizes"], key=int)
largest, smallest = results["sizes"][sizes[-1]], results["sizes"][sizes[0]]
ed25519_verify = results["openssl_verify_per_s"]["ed25519"]


def row(name, figure, ratio_to=None):
    ratio = f"{100 * figure['rps'] / ratio_to:.0f}%" if ratio_to else ""
    return (f"| {name} | {figure['rps']:,.0f} | {figure['ok_rps']:,.0f} | {ratio} | {figure['p50_us'] / 1000:.2f} | {figure['p99_us'] / 1000:.2f} | "
            f"{figure['p999_us'] / 1000:.2f} | {figure.get('cpu_s_per_1000', 0):.3f} | {figure['non2xx'] + figure['errors']} |")


lines = [
    "# permid benchmark — latest run", "",
    f"- machine: {results['machine']}", f"- commit: `{results['revision']}`, {results['date']}",
    f"- load: wrk, 2 threads, 64 connections, {results['seconds']} s per figure, 127.0.0.1; server threads: {results['threads']}",
    f"- in-run ceilings: bare libmicrohttpd **{ceiling:,.0f} req/s** (p99 {results['ceiling']['p99_us'] / 1000:.2f} ms); "
    f"`openssl speed` verify/s, one core: ed25519 **{ed25519_verify:,.0f}**, P-256 **{results['openssl_verify_per_s']['ecdsap256']:,.0f}**",
    "", "## Requests", "",
    "| figure | req/s | 2xx/s | of ceiling | p50 ms | p99 ms | p99.9 ms | CPU s / 1000 req | non-2xx+errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    row("bare libmicrohttpd ceiling", results["ceiling"], ceiling),
]
for size in sizes:
    figures = results["sizes"][size]
    lines.append(row(f"resolve, {int(size):,} records", figures["resolve"], ceiling))
    lines.append(row(f"304 revalidation, {int(size):,} records", figures["revalidate"], ceiling))
    lines.append(row(f"batch lookup of 100, {int(size):,} records", figures["lookup100"]))
    lines.append(row(f"90% resolve / 10% announce, {int(size):,} records", figures["mix90_10"]))
for name, figure in results["announce"].items():
    lines.append(row(f"announce {name}", figure) + "")
lines += ["", "Announcements are each signed for a fresh PermID, so 2xx/s is accepted, durable announcements per second. "
          "Their ratios to one core's `openssl speed` verify/s: " + ", ".join(
    f"{name} {100 * figure['ok_rps'] / results['openssl_verify_per_s']['ed25519' if name.startswith('ed25519') else 'ecdsap256']:.0f}%"
    for name, figure in results["announce"].items()), ""]

lines += ["## Signature verification (one thread, PermID parse + verify)", "", results["verify_table"].strip(), ""]

lines += ["## Store and process", "", "| records | start-up s | peak RSS MB | DB bytes/record | store lookups/s | raw SQLite lookups/s | ratio |",
          "|---:|---:|---:|---:|---:|---:|---:|"]
for size in sizes:
    f = results["sizes"][size]
    lines.append(f"| {int(size):,} | {f['startup_s']:.3f} | {f['peak_rss_mb']:.0f} | {f['db_bytes_per_record']:.0f} | "
                 f"{f['store_lookups_per_s']:,.0f} | {f['raw_sqlite_lookups_per_s']:,.0f} | {100 * f['store_lookups_per_s'] / f['raw_sqlite_lookups_per_s']:.0f}% |")
commit = results["commit"]
lines += ["", f"Commits/s at synchronous=FULL: one transaction per write {commit['single_commits_per_s']:,.0f}, "
          f"group commit (64 writers) {commit['group_commits_per_s']:,.0f} — {commit['group_commits_per_s'] / commit['single_commits_per_s']:.1f}×", ""]


def target(name, ok, value):
    return f"| {name} | {value} | {'met' if ok else '**missed**'} |"


resolve_ratio = largest["resolve"]["rps"] / ceiling
scale = largest["resolve"]["rps"] / smallest["resolve"]["rps"]
announce = results["announce"].get("ed25519-full")
lines += ["## Targets (issue 6)", "", "| target | measured | |", "|---|---|---|",
          target(f"resolve ≥ 50% of ceiling at {int(sizes[-1]):,}", resolve_ratio >= 0.5, f"{100 * resolve_ratio:.0f}%"),
          target("resolve p99 ≤ 5 ms", largest["resolve"]["p99_us"] <= 5000, f"{largest['resolve']['p99_us'] / 1000:.2f} ms"),
          target(f"throughput at {int(sizes[-1]):,} ≥ 80% of {int(sizes[0]):,}", scale >= 0.8, f"{100 * scale:.0f}%"),
          target("announce ed25519 durable ≥ 50% of openssl verify/s", announce and announce["ok_rps"] >= 0.5 * ed25519_verify,
                 f"{100 * announce['ok_rps'] / ed25519_verify:.0f}%" if announce else "n/a"),
          target("peak RSS ≤ 150 MB", largest["peak_rss_mb"] <= 150, f"{largest['peak_rss_mb']:.0f} MB"),
          target("≤ 400 DB bytes per record", largest["db_bytes_per_record"] <= 400, f"{largest['db_bytes_per_record']:.0f}"),
          target("start-up ≤ 1 s", largest["startup_s"] <= 1, f"{largest['startup_s']:.3f} s"),
          target("group commit ≥ 5× one transaction per write", commit["group_commits_per_s"] >= 5 * commit["single_commits_per_s"],
                 f"{commit['group_commits_per_s'] / commit['single_commits_per_s']:.1f}×"),
          target("store lookups ≥ 80% of raw SQLite", largest["store_lookups_per_s"] >= 0.8 * largest["raw_sqlite_lookups_per_s"],
                 f"{100 * largest['store_lookups_per_s'] / largest['raw_sqlite_lookups_per_s']:.0f}%"),
          "", "![throughput and p99 against record count](latest.png)", ""]
open(os.path.join(directory, "latest.md"), "w").write("\n".join(lines))

import matplotlib  # from the virtual environment `make pyenv` makes (Tests/requirements.txt)
matplotlib.use("Agg")
import matplotlib.pyplot as plt

counts = [int(s) for s in sizes]
figure, throughput = plt.subplots(figsize=(7, 4))
throughput.plot(counts, [results["sizes"][s]["resolve"]["rps"] for s in sizes], "o-", label="resolve req/s")
throughput.axhline(ceiling, linestyle="--", color="gray", label="bare libmicrohttpd")
throughput.axhline(ceiling / 2, linestyle=":", color="gray", label="target: 50% of ceiling")
throughput.set_xscale("log")
throughput.set_xlabel("records stored")
throughput.set_ylabel("requests / s")
latency = throughput.twinx()
latency.plot(counts, [results["sizes"][s]["resolve"]["p99_us"] / 1000 for s in sizes], "s-", color="tab:red", label="p99 ms")
latency.set_ylabel("p99 latency, ms")
latency.set_ylim(bottom=0)
handles = throughput.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
throughput.legend(handles, [h.get_label() for h in handles], loc="lower left", fontsize=8)
throughput.set_title(f"permid resolve, 64 connections ({results['revision']})")
figure.tight_layout()
figure.savefig(os.path.join(directory, "latest.png"), dpi=110)
print(open(os.path.join(directory, "latest.md")).read())
