#!/usr/bin/env python3
"""permid benchmark harness (`make bench`, `make bench-smoke`).

In one run, on this machine, against 127.0.0.1 only, bounded in time: the ceilings (a bare C
libmicrohttpd server with permidd's flags and thread count; `openssl speed` verify/s), then permidd's
resolve, revalidation, batch lookup, mixed and announce loads at several record counts, and the
store-level figures. Writes bench/results/latest.json, latest.md and latest.png.
"""
import argparse, base64, json, os, platform, random, re, signal, sqlite3, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")
WRK_DIR = os.path.join(ROOT, "bench", "wrk")
RESULTS = os.path.join(ROOT, "bench", "results")
THREADS = os.cpu_count() or 2


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_healthy(url, timeout=60):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except Exception:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not become healthy")


class Server:
    """A server process on a free loopback port, stopped with SIGTERM."""

    def __init__(self, command, port, healthy):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if healthy:
            self.startup = wait_healthy(self.url)
        else:
            time.sleep(0.3)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def permidd(database, extra=()):
    port = free_port()
    command = [os.path.join(RELEASE, "permidd"), "serve", "--database", database, "--listen", f"127.0.0.1:{port}",
               "--rate-limit", "off", "--log-level", "warning", "--threads", str(THREADS), *extra]
    return Server(command, port, healthy=True)


def wrk(url, script, seconds, environment, connections=64):
    env = dict(os.environ, PERMID_BENCH_LUA=WRK_DIR, PERMID_BENCH_THREADS="2", **environment)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", os.path.join(WRK_DIR, script), url],
        env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = [l for l in output.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    result["ok_rps"] = (result["requests"] - result["non2xx"] - result["errors"]) / result["seconds"]
    return result


def measured(server, url, script, seconds, environment):
    before = cpu_seconds(server.process.pid)
    result = wrk(url, script, seconds, environment)
    result["cpu_s_per_1000"] = (cpu_seconds(server.process.pid) - before) / max(1, result["requests"]) * 1000
    return result


def openssl_speed(algorithm, seconds):
    output = subprocess.run(["openssl", "speed", "-seconds", str(seconds), algorithm], capture_output=True, text=True).stdout
    line = [l for l in output.splitlines() if "bits" in l][-1]
    return float(line.split()[-1])


def bench_tool(*arguments):
    output = subprocess.run([os.path.join(RELEASE, "permid-bench"), *map(str, arguments)], capture_output=True, text=True, check=True)
    return output.stdout.strip().splitlines()[-1]


def raw_sqlite_lookups(database, sample_file, seconds):
    """Point lookups/s with Python's sqlite3 on the same file and query: the raw SQLite figure."""
    permids = [base64.urlsafe_b64decode(l + "=" * (-len(l) % 4)) for l in open(sample_file).read().split()]
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    query = ("SELECT permid, sig_alg, seq, issued_at, expires_at, endpoints, signature FROM records "
             "WHERE permid = ? AND expires_at > ? AND signature IS NOT NULL")
    now = int(time.time())
    done, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(1000):
            if connection.execute(query, (random.choice(permids), now)).fetchone() is None:
                raise RuntimeError("missing record")
        done += 1000
    return done / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--announcements", type=int, default=0,
                        help="pre-signed announcements per announce run (default: enough for --seconds at 15,000/s)")
    parser.add_argument("--output", default=RESULTS)
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    announcements = options.announcements or options.seconds * 15000
    work = tempfile.mkdtemp(prefix="permid-bench-")
    results = {"machine": f"{platform.node()} {platform.machine()}, {THREADS} cores, {platform.platform()}",
               "revision": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "seconds": options.seconds, "threads": THREADS, "sizes": {}}

    log("ceilings: openssl speed (one core)")
    results["openssl_verify_per_s"] = {"ed25519": openssl_speed("ed25519", 3), "ecdsap256": openssl_speed("ecdsap256", 3)}

    log("parse + verify per scheme against openssl speed (bench/verify)")
    results["verify_table"] = subprocess.run([os.path.join(RELEASE, "permid-bench-verify"), str(max(1, options.seconds // 5))],
                                             capture_output=True, text=True, check=True).stdout

    log("ceiling: bare libmicrohttpd server")
    subprocess.run(["cc", "-O2", "-o", os.path.join(work, "ceiling"), os.path.join(ROOT, "bench", "ceiling", "ceiling.c"), "-lmicrohttpd"], check=True)
    with open(os.path.join(work, "ceiling-permids.txt"), "w") as f:
        f.write("\n".join(base64.urlsafe_b64encode(os.urandom(44)).decode().rstrip("=") for _ in range(1000)) + "\n")
    ceiling_port = free_port()
    ceiling = Server([os.path.join(work, "ceiling"), str(ceiling_port), str(THREADS)], ceiling_port, healthy=False)
    results["ceiling"] = wrk(ceiling.url, "resolve.lua", options.seconds, {"PERMID_BENCH_PERMIDS": os.path.join(work, "ceiling-permids.txt")})
    ceiling.stop()
    log(f"  ceiling {results['ceiling']['rps']:.0f} req/s")

    for size in sizes:
        log(f"{size} records: preloading through the store")
        database = os.path.join(work, f"records-{size}.sqlite")
        sample = os.path.join(work, f"sample-{size}.txt")
        bench_tool("preload", database, size, sample, min(size, 100000))
        server = permidd(database)
        figures = {"startup_s": server.startup, "db_bytes": os.path.getsize(database)}
        figures["db_bytes_per_record"] = figures["db_bytes"] / size
        environment = {"PERMID_BENCH_PERMIDS": sample}
        figures["resolve"] = measured(server, server.url, "resolve.lua", options.seconds, environment)
        figures["revalidate"] = measured(server, server.url, "resolve.lua", options.seconds, dict(environment, PERMID_BENCH_ETAG='"1"'))
        figures["lookup100"] = measured(server, server.url, "lookup.lua", options.seconds, environment)
        mix_file = os.path.join(work, f"mix-{size}.txt")
        bench_tool("announcements", "ed25519", announcements // 5, mix_file)
        figures["mix90_10"] = measured(server, server.url, "announce.lua", options.seconds,
                                       dict(environment, PERMID_BENCH_ANNOUNCEMENTS=mix_file, PERMID_BENCH_MIX="10"))
        figures["peak_rss_mb"] = peak_rss_mb(server.process.pid)
        server.stop()
        figures["store_lookups_per_s"] = json.loads(bench_tool("lookup", database, sample, 3))["store_lookups_per_s"]
        figures["raw_sqlite_lookups_per_s"] = raw_sqlite_lookups(database, sample, 3)
        results["sizes"][str(size)] = figures
        log(f"  resolve {figures['resolve']['rps']:.0f} req/s p99 {figures['resolve']['p99_us']:.0f} us, "
            f"startup {figures['startup_s']:.3f} s, {figures['db_bytes_per_record']:.0f} B/record, RSS {figures['peak_rss_mb']:.0f} MB")

    results["announce"] = {}
    for key_type in ("ed25519", "p256"):
        signed = os.path.join(work, f"announce-{key_type}.txt")
        bench_tool("announcements", key_type, announcements, signed)
        for sync in ("full", "normal"):
            log(f"announce {key_type} sync={sync}")
            server = permidd(os.path.join(work, f"announce-{key_type}-{sync}.sqlite"), ["--endpoint-policy", "any", "--sync", sync])
            figure = measured(server, server.url, "announce.lua", options.seconds, {"PERMID_BENCH_ANNOUNCEMENTS": signed})
            figure["peak_rss_mb"] = peak_rss_mb(server.process.pid)
            server.stop()
            results["announce"][f"{key_type}-{sync}"] = figure
            log(f"  {figure['rps']:.0f} req/s, non-2xx {figure['non2xx']}")

    log("store: group commit vs one transaction per write (synchronous=FULL)")
    results["commit"] = json.loads(bench_tool("commit", os.path.join(work, "commit.sqlite"), 4000))

    os.makedirs(options.output, exist_ok=True)
    with open(os.path.join(options.output, "latest.json"), "w") as f:
        json.dump(results, f, indent=2)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"), options.output], check=True)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
