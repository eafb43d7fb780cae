#!/usr/bin/env python3
"""Turns RESULTS_DIR/latest.json (written by bench/run.py) into latest.md (what ran, every figure with
what it measures, ratios to the in-run ceilings, targets met/missed) and latest.png.
Refuses to write bench/results from a run on a dirty tree. Usage: report.py RESULTS_DIR"""
import json, os, sys

directory = sys.argv[1]
results = json.load(open(os.path.join(directory, "latest.json")))
published = os.path.realpath(directory) == os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
if published and results["tree"]["dirty"]:
    sys.exit("report.py: refusing to write bench/results from a run on a dirty tree")

load, tree, versions = results["load"], results["tree"], results["versions"]
sizes = sorted(results["sizes"], key=int)
largest, smallest = results["sizes"][sizes[-1]], results["sizes"][sizes[0]]
verify = {name: figure["median"] for name, figure in results["openssl_verify_per_s"].items()}


def n(value):
    return f"{value:,.0f}"


def ms(microseconds):
    return f"{microseconds / 1000:.2f}"


def spread(figure, key, format=n):
    """median [min–max] of an alternated figure."""
    f = figure[key]
    return f"{format(f['median'])} [{format(f['min'])}–{format(f['max'])}]"


def pct(value):
    return f"{100 * value:.0f}%"


def resident(value):
    return "n/a" if value is None else pct(value)


rounds = load["rounds"]


def disk_mb_max(figure):
    """The most any run of a figure read from disk, MB; 0 for reports written before it was measured."""
    return figure.get("disk_read_mb", {}).get("max", 0)


def disk_mb(figure):
    return f"{disk_mb_max(figure):.0f}" if "disk_read_mb" in figure else "n/a"

measured_runs = ([run for size in sizes for key in ("resolve", "ceiling", "nginx") for run in results["sizes"][size][key]["runs"]]
                 + [results["sizes"][size][key] for size in sizes for key in ("revalidate", "lookup100", "paced", "cold", "mix90_10")])
noise = max(run["others_cores_busy"] for run in measured_runs)
lines = [
    "# permid benchmark — latest run", "",
    f"- commit `{tree['short']}`" + (f", **dirty tree** ({len(tree['dirty_paths'])} paths changed)" if tree["dirty"] else ", clean tree")
    + f"; {results['date']}; the run took {results['elapsed_s'] / 60:.0f} min",
    f"- machine: {versions['cpu']}, {versions['cores']} cores, Linux {versions['kernel']}",
    f"- versions: {versions['wrk']}; libmicrohttpd {versions['libmicrohttpd']}; SQLite {versions['sqlite']}; {versions['openssl']}; "
    f"{versions['nginx']}; {versions['swift']}",
    f"- load: wrk, {load['connections']} connections, {load['seconds']} s per measured run after {load['warmup']} s of unrecorded "
    f"warm-up, PermIDs drawn uniformly from every stored record, one seed per wrk thread (base seed {load['seed']}); "
    f"{load['pinning']}; server threads (permidd `--threads`, libmicrohttpd pool, nginx workers): {load['server_threads']}",
    f"- interference: " + (f"other processes took up to **{noise:.2f} cores** during a measured run (a quiet machine shows about 0; "
                           "compare figures only between quiet runs)" if noise >= 0.1 else f"other processes took at most {noise:.2f} cores during any measured run"),
    f"- `openssl speed` verify/s on one core, median [min–max] of {rounds}: ed25519 **{spread(results['openssl_verify_per_s'], 'ed25519')}**, "
    f"P-256 **{spread(results['openssl_verify_per_s'], 'ecdsap256')}**",
    "",
    f"## Resolve against two ceilings ({rounds} alternated rounds, median [min–max])", "",
    "The ceilings answer the same requests (same script, same PermID sampling, same body bytes) on the same cores: "
    "**bare libmicrohttpd** is a C server with permidd's daemon flags and thread count answering one real record body "
    "from memory; **nginx** serves every record's exact body (`permidd export`, checked byte for byte against permidd's "
    "answers) as a static file (`sendfile on`, `open_file_cache`: entries per worker below). CPU µs per request is the server's "
    "process tree (or wrk itself) over the measured run; busy is CPU seconds per wall second; others busy is the most CPU "
    "that every other process on the machine took during any of the rounds (a quiet machine shows about 0); disk reads is the "
    "most any of its runs read from block devices (machine-wide): a server that reads from disk is bounded by I/O, not CPU.", "",
    "| records | server | req/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | wrk CPU µs/req | server busy | wrk busy | others busy | disk reads MB |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]
for size in sizes:
    figures = results["sizes"][size]
    for label, key in (("permidd", "resolve"), ("bare libmicrohttpd", "ceiling"), ("nginx static files", "nginx")):
        f = figures[key]
        lines.append(f"| {int(size):,} | {label} | {spread(f, 'rps')} | {ms(f['p50_us']['median'])} | {spread(f, 'p99_us', ms)} | "
                     f"{ms(f['p999_us']['median'])} | {f['server_cpu_us']['median']:.1f} | {f['wrk_cpu_us']['median']:.1f} | "
                     f"{f['server_cores_busy']['median']:.2f} | {f['wrk_cores_busy']['median']:.2f} | {f['others_cores_busy']['max']:.2f} | "
                     f"{disk_mb(f)} |")
lines += ["", "| records | permidd / bare libmicrohttpd | permidd / nginx | database in page cache | nginx `open_file_cache` entries per worker |",
          "|---:|---:|---:|---:|---:|"]
for size in sizes:
    f = results["sizes"][size]
    lines.append(f"| {int(size):,} | {pct(f['resolve']['rps']['median'] / f['ceiling']['rps']['median'])} | "
                 f"{pct(f['resolve']['rps']['median'] / f['nginx']['rps']['median'])} | {resident(f['residency_warm'])} | "
                 f"{f['nginx_cache_entries']:,}" + (" (every file)" if f["nginx_cache_entries"] >= int(size) else " (the descriptor limit)") + " |")
read_disk = [f"{int(size):,} {label}" for size in sizes for label, key in (("permidd", "resolve"), ("bare libmicrohttpd", "ceiling"), ("nginx", "nginx"))
             if disk_mb_max(results["sizes"][size][key]) >= 1]
if read_disk:
    lines += ["", "Read from disk during a measured run (the page cache did not hold what it serves, or was emptied from outside): "
              + ", ".join(read_disk) + " — a ratio against such a figure compares with I/O, not with CPU."]
client_bound = [f"{int(size):,} {key}" for size in sizes for key in ("ceiling", "nginx", "resolve")
                if results["sizes"][size][key]["wrk_cores_busy"]["median"] >= 0.9 * results["sizes"][size][key]["runs"][0]["wrk_cores"]]
lines += ["", ("wrk kept its core(s) ≥ 90 % busy in: " + ", ".join(client_bound) + " — those figures may be bounded by the client, not the server."
               if client_bound else "wrk stayed below 90 % of its core(s) in every run above: the figures are the servers', not the client's."), ""]

lines += ["## Latency: saturated and paced", "",
          f"Saturated: the closed loop above ({load['connections']} connections, each sending as soon as it has an answer), so p99 "
          "includes queueing behind the other connections. Paced: each connection waits an exponentially distributed delay "
          "after each answer, for an offered rate of about half the saturated median; latency is measured from sending each request.", "",
          "| records | saturated req/s | saturated p99 ms | paced target req/s | paced achieved req/s | paced p50 ms | paced p99 ms | paced p99.9 ms |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|"]
for size in sizes:
    f = results["sizes"][size]
    p = f["paced"]
    lines.append(f"| {int(size):,} | {n(f['resolve']['rps']['median'])} | {ms(f['resolve']['p99_us']['median'])} | {n(p['target_rps'])} | "
                 f"{n(p['rps'])} | {ms(p['p50_us'])} | {ms(p['p99_us'])} | {ms(p['p999_us'])} |")

lines += ["", "## Other request figures (one measured run each, servers pinned as above)", "",
          "| figure | req/s | of which reads/s | accepted writes/s | p50 ms | p99 ms | server CPU µs/req | note |",
          "|---|---:|---:|---:|---:|---:|---:|---|"]


def other(name, f, reads="", writes="", note=""):
    return (f"| {name} | {n(f['rps'])} | {reads} | {writes} | {ms(f['p50_us'])} | {ms(f['p99_us'])} | {f['server_cpu_us']:.1f} | {note} |")


for size in sizes:
    f = results["sizes"][size]
    s = f"{int(size):,} records"
    lines.append(other(f"304 revalidation, {s}", f["revalidate"], note="every answer a bodiless 304"))
    lines.append(other(f"batch lookup of 100 distinct, {s}", f["lookup100"], note=f"{n(100 * f['lookup100']['rps'])} records/s"))
    m = f["mix90_10"]
    lines.append(other(f"90% resolve / 10% announce, {s}", m, n(m["reads_per_s"]), n(m["writes_per_s"]),
                       f"{m['accepted']:,} new records stored (counted in the database), each PUT a distinct fresh key; endpoint policy `any`, sync FULL"))
    c = f["cold"]
    lines.append(other(f"resolve cold, {s}", c, note=f"no warm-up; database {resident(c['residency_before'])} in page cache at start, "
                                                    f"{resident(c['residency_after'])} at end (warm median {n(f['resolve']['rps']['median'])}/s)"))

sync_meaning = {"full": "FULL — durable: on disk (fsync) before the answer",
                "normal": "NORMAL — acknowledged after the WAL write, not fsync'd: survives a permidd crash, not a power loss"}
lines += ["", "## Announcements", "",
          "Each run PUTs announcements signed for that run, each by a fresh key, so every one is a new record; accepted is counted "
          "in the database afterwards. Server and wrk are not pinned here: the server uses every core, wrk's share is shown. "
          "The ratio compares accepted/s with one core's `openssl speed` verify/s for the key type.", "",
          "| into | key | synchronous | accepted/s | p50 ms | p99 ms | server CPU µs/req | wrk CPU µs/req | of one core's verify/s |",
          "|---|---|---|---:|---:|---:|---:|---:|---:|"]
for name, f in results["announce"].items():
    into = "empty database" if f["database"] == "empty" else f"{f['records_before']:,}-record database"
    reference = verify["ed25519" if f["key_type"] == "ed25519" else "ecdsap256"]
    lines.append(f"| {into} | {f['key_type']} | {sync_meaning[f['sync']]} | {n(f['accepted_per_s'])} | {ms(f['p50_us'])} | {ms(f['p99_us'])} | "
                 f"{f['server_cpu_us']:.1f} | {f['wrk_cpu_us']:.1f} | {pct(f['accepted_per_s'] / reference)} |")

lines += ["", "## Signature verification (one thread on one core, PermID parse + verify)", "",
          "The `openssl speed` column here is the table's own single sample; the medians above are the reference for ratios.", "",
          results["verify_table"].strip(), ""]

lines += ["## Store and process", "",
          f"Store lookups: `permid-bench lookup` (the Swift store's `record(for:now:)`: read-connection pool, cached statement, "
          f"decoded record) against `bench/ceiling/sqlite_lookup.c` (the same SELECT prepared once and stepped from C, every "
          f"column read, in one read transaction as the store keeps its snapshot while nothing is committed), one thread on one core, the same PermID sequence, {load['store_rounds']} alternated runs of "
          f"{load['store_seconds']} s, medians.", "",
          "| records | start-up s | peak RSS MB | DB bytes/record | store lookups/s | raw SQLite lookups/s | store / raw |",
          "|---:|---:|---:|---:|---:|---:|---:|"]
for size in sizes:
    f = results["sizes"][size]
    s = f["store_lookups"]
    lines.append(f"| {int(size):,} | {f['startup_s']:.3f} | {f['peak_rss_mb']:.0f} | {f['db_bytes_per_record']:.0f} | "
                 f"{n(s['store_median'])} | {n(s['raw_median'])} | {pct(s['store_median'] / s['raw_median'])} |")
commit = results["commit"]
lines += ["", f"Commits/s at synchronous=FULL: one transaction per write {n(commit['single_commits_per_s'])}, "
          f"group commit (64 writers) {n(commit['group_commits_per_s'])} — {commit['group_commits_per_s'] / commit['single_commits_per_s']:.1f}×", ""]

extras = ([(f"{name}, {int(size):,} records", table) for size in sizes for name, table in results["sizes"][size].get("extra", {}).items()]
          + list(results.get("extra", {}).items()))
if extras:
    lines += ["## Further measurements", ""]
    for name, table in extras:
        lines += [f"**{name}**", "", "| | |", "|---|---:|"]
        lines += [f"| {label} | {value:,.2f} |" if isinstance(value, float) else f"| {label} | {value} |" for label, value in table.items()]
        lines.append("")


def target(name, ok, value):
    return f"| {name} | {value} | {'met' if ok else '**missed**'} |"


top = f"{int(sizes[-1]):,}"
resolve, ceiling, static = largest["resolve"]["rps"]["median"], largest["ceiling"]["rps"]["median"], largest["nginx"]["rps"]["median"]
paced_p99 = largest["paced"]["p99_us"]
scale = resolve / smallest["resolve"]["rps"]["median"]
store_ratio = largest["store_lookups"]["store_median"] / largest["store_lookups"]["raw_median"]
lines += ["## Targets (issues 6 and 11; reported, never failing the run)", "", "| target | measured | |", "|---|---|---|",
          target(f"resolve ≥ 100% of nginx at {top}", resolve >= static, pct(resolve / static)),
          target(f"resolve ≥ 60% of bare libmicrohttpd at {top}", resolve >= 0.6 * ceiling, pct(resolve / ceiling)),
          target(f"resolve p99 ≤ 5 ms at {top}, paced at ~50% of the maximum", paced_p99 <= 5000,
                 f"{ms(paced_p99)} ms (saturated: {ms(largest['resolve']['p99_us']['median'])} ms)")]
for name, f in results["announce"].items():
    if f["key_type"] == "ed25519" and f["sync"] == "full":
        into = "empty database" if f["database"] == "empty" else f"{f['records_before']:,} records"
        lines.append(target(f"durable ed25519 announcements (distinct keys, {into}) ≥ 100% of one core's verify/s",
                            f["accepted_per_s"] >= verify["ed25519"], pct(f["accepted_per_s"] / verify["ed25519"])))
lines += [target(f"resolve at {top} ≥ 80% of at {int(sizes[0]):,}", scale >= 0.8, pct(scale)),
          target("peak RSS ≤ 150 MB", largest["peak_rss_mb"] <= 150, f"{largest['peak_rss_mb']:.0f} MB"),
          target("≤ 400 DB bytes per record", largest["db_bytes_per_record"] <= 400, f"{largest['db_bytes_per_record']:.0f}"),
          target("start-up ≤ 1 s", largest["startup_s"] <= 1, f"{largest['startup_s']:.3f} s"),
          target("group commit ≥ 5× one transaction per write", commit["group_commits_per_s"] >= 5 * commit["single_commits_per_s"],
                 f"{commit['group_commits_per_s'] / commit['single_commits_per_s']:.1f}×"),
          target("store lookups ≥ 80% of raw SQLite (C, same statement)", store_ratio >= 0.8, pct(store_ratio)),
          "", "![resolve throughput and p99 against record count](latest.png)", ""]
open(os.path.join(directory, "latest.md"), "w").write("\n".join(lines))

import matplotlib  # from the virtual environment `make pyenv` makes (Tests/requirements.txt)
matplotlib.use("Agg")
import matplotlib.pyplot as plt

counts = [int(s) for s in sizes]
figure, throughput = plt.subplots(figsize=(7, 4.8))
for key, label, style in (("resolve", "permidd", "o-"), ("ceiling", "bare libmicrohttpd", "^--"), ("nginx", "nginx static files", "v:")):
    medians = [results["sizes"][s][key]["rps"]["median"] for s in sizes]
    low = [m - results["sizes"][s][key]["rps"]["min"] for m, s in zip(medians, sizes)]
    high = [results["sizes"][s][key]["rps"]["max"] - m for m, s in zip(medians, sizes)]
    throughput.errorbar(counts, medians, yerr=[low, high], fmt=style, capsize=3, label=f"{label} req/s")
throughput.set_xscale("log")
throughput.set_xlabel("records stored")
throughput.set_ylabel("requests / s (median, min–max)")
throughput.set_ylim(bottom=0)
latency = throughput.twinx()
latency.plot(counts, [results["sizes"][s]["resolve"]["p99_us"]["median"] / 1000 for s in sizes], "s-", color="tab:red", label="p99 ms, saturated")
latency.plot(counts, [results["sizes"][s]["paced"]["p99_us"] / 1000 for s in sizes], "s--", color="tab:pink", label="p99 ms, paced ~50%")
latency.set_ylabel("p99 latency, ms")
latency.set_ylim(bottom=0)
handles = throughput.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
figure.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=3, fontsize=7)
throughput.set_title(f"permid resolve, {load['connections']} connections ({tree['short']}{', dirty' if tree['dirty'] else ''})")
figure.tight_layout(rect=(0, 0.1, 1, 1))
figure.savefig(os.path.join(directory, "latest.png"), dpi=110)
print(open(os.path.join(directory, "latest.md")).read())
