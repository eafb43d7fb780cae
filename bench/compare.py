#!/usr/bin/env python3
"""Before/after: two permidd binaries under the same load, alternated, on this machine now.

A full `make bench` compares permidd with ceilings measured in the same run; comparing two reports
from different times compares machines too (a shared host can run 1.5x slower from one hour to the
next). This runs two builds of permidd (say, the last commit's and yours) round after round under
the same load, so the difference between them is the change's.

  compare.py resolve RECORDS OLD_DIR NEW_DIR [--rounds N] [--seconds S]
      GET /v1/peers/{permid} for PermIDs drawn from RECORDS preloaded records (bench/run.py's
      wrk script and pinning: server on the first half of the cores, wrk on the rest).
  compare.py announce OLD_DIR NEW_DIR [--rounds N] [--seconds S] [--records N]
      durable Ed25519 announcements from distinct fresh keys into an empty database, or into a copy
      of one preloaded with N records (unpinned); accepted counted in the database, and each run's
      p99 printed.

OLD_DIR and NEW_DIR each hold a release `permidd` (copy .build/release/permidd aside before
rebuilding). Prints each run and the medians; writes nothing else.
"""
import argparse, os, shutil, statistics, sys, tempfile, types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402


def resolve(options, work, cores, load):
    database, sample = os.path.join(work, "records.sqlite"), os.path.join(work, "sample.txt")
    harness.log(f"preloading {options.records:,} records")
    harness.bench_tool("preload", database, options.records, sample, options.records)
    runs = {"old": [], "new": []}
    for round_ in range(options.rounds):
        for name in (("old", "new") if round_ % 2 == 0 else ("new", "old")):
            server = harness.permidd(database, load.cores.server, work, release=getattr(options, name))
            try:
                figure = load.measured(name, server, "resolve.lua", {"PERMID_BENCH_PERMIDS": sample})
            finally:
                server.stop()
            harness.require_all_ok(f"{name} resolve", figure)
            runs[name].append((figure["rps"], figure["server_cpu_us"]))
            print(f"round {round_ + 1} {name}: {figure['rps']:,.0f} req/s, server {figure['server_cpu_us']:.1f} µs/req", flush=True)
    return runs, "req/s", "server µs/req"


def announce(options, work, cores, load):
    runs = {"old": [], "new": []}
    preloaded = None
    if options.records:
        preloaded = os.path.join(work, "preloaded.sqlite")
        harness.log(f"preloading {options.records:,} records")
        harness.bench_tool("preload", preloaded, options.records, os.path.join(work, "sample.txt"), options.records)
    for round_ in range(options.rounds):
        for name in (("old", "new") if round_ % 2 == 0 else ("new", "old")):
            database = os.path.join(work, f"announce-{name}-{round_}.sqlite")
            if preloaded:
                shutil.copyfile(preloaded, database)
            bodies = harness.sign("ed25519", int(20_000 * options.seconds) + 1000, os.path.join(work, "bodies.txt"))
            server = harness.permidd(database, None, work, ["--endpoint-policy", "any", "--sync", "full"], release=getattr(options, name))
            try:
                figure = load.wrk(server, "announce.lua", options.seconds, {"PERMID_BENCH_ANNOUNCEMENTS": bodies}, pinned=False)
            finally:
                server.stop()
            harness.require_all_ok(f"{name} announce", figure)
            accepted = harness.stored(database, bodies)
            server_cpu = figure["server_cpu_us"] * figure["requests"] / max(1, accepted)
            runs[name].append((accepted / figure["seconds"], server_cpu))
            print(f"round {round_ + 1} {name}: {accepted / figure['seconds']:,.0f} accepted/s, server {server_cpu:.0f} µs/accepted, "
                  f"p99 {figure['p99_us'] / 1000:.1f} ms", flush=True)
            for path in (database, database + "-wal", database + "-shm"):
                if os.path.exists(path):
                    os.remove(path)
    return runs, "accepted/s", "server µs/accepted"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("resolve", "announce"))
    parser.add_argument("rest", nargs="+", help="[RECORDS] OLD_DIR NEW_DIR")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--records", type=int, default=0, help="announce: preload this many records first")
    options = parser.parse_args()
    expected = 3 if options.mode == "resolve" else 2
    if len(options.rest) != expected:
        parser.error(f"{options.mode} takes {'RECORDS ' if expected == 3 else ''}OLD_DIR NEW_DIR")
    if options.mode == "resolve":
        options.records = int(options.rest[0])
    options.old, options.new = (os.path.abspath(path) for path in options.rest[-2:])
    for directory in (options.old, options.new):
        if not os.access(os.path.join(directory, "permidd"), os.X_OK):
            parser.error(f"{directory} holds no executable permidd")
    work = tempfile.mkdtemp(prefix="permid-compare-")
    try:
        cores = harness.Cores(True)
        load = harness.Load(types.SimpleNamespace(seed=1, warmup=2, seconds=options.seconds), cores)
        runs, unit, cost = (resolve if options.mode == "resolve" else announce)(options, work, cores, load)
    except harness.Dishonest as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        harness.Server.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    old_rate, new_rate = (statistics.median(rate for rate, _ in runs[name]) for name in ("old", "new"))
    old_cost, new_cost = (statistics.median(cpu for _, cpu in runs[name]) for name in ("old", "new"))
    print(f"median {unit}: old {old_rate:,.0f}, new {new_rate:,.0f} ({new_rate / old_rate - 1:+.0%}); "
          f"median {cost}: old {old_cost:.1f}, new {new_cost:.1f} ({new_cost / old_cost - 1:+.0%})")


if __name__ == "__main__":
    main()
