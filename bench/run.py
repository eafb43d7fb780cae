#!/usr/bin/env python3
"""permid benchmark harness (`make bench`, `make bench-smoke`).

Everything runs on this machine, against 127.0.0.1 only, each load bounded in time. Per record count:

- resolve (GET /v1/peers/{permid}, PermIDs drawn uniformly from every stored record, one seed per wrk
  thread) against two in-run ceilings: a bare C libmicrohttpd server answering one real record body
  with permidd's daemon flags and thread count, and nginx serving every record's exact body as a
  static file. The three are alternated ROUNDS times, each measured run after a warm-up; medians and
  min-max are reported. wrk and the servers are pinned to separate cores (taskset) and the CPU time
  of the server's process tree and of wrk is measured for every run;
- latency open-loop: resolve paced at about half of the measured maximum, beside the saturated p99;
- 304 revalidation, batch lookup of 100, a 90 % resolve / 10 % announce mix that really writes
  (endpoint policy `any`, a fresh signed body for every PUT), cold resolve (the database's pages
  evicted from the page cache first), store lookups through the Swift store against the same
  prepared statement stepped from C;

then durable (synchronous=FULL) and NORMAL announcements, Ed25519 and P-256, each from distinct
fresh keys signed for that run, into an empty database and into a copy of the largest one; `openssl
speed` verify/s on one core (median of ROUNDS); parse+verify per scheme; group commit.

Honesty rules, each failing the run (exit status 1, no report written): any non-2xx/304 answer or
socket error where every answer should succeed; bodies shorter than a record where records are
served, or revalidation answers carrying bodies; a mix or announce run that ran out of distinct
bodies or whose rows in the database do not match the PUTs sent; nginx's files not byte-identical to
permidd's answers; a cold run whose database was not evicted; writing bench/results from a dirty
tree or with fewer than 5 rounds. Targets are reported as met/missed and never fail the run.

A further measurement is added in `extra_measurements` (once per record count) or
`extra_run_measurements` (once per run) below; report.py prints what they return.
"""
import argparse, base64, json, os, platform, random, re, resource, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")
BENCH = os.path.join(ROOT, "bench")
WRK_DIR = os.path.join(BENCH, "wrk")
RESULTS = os.path.join(BENCH, "results")
THREADS = os.cpu_count() or 2
CONNECTIONS = 64
PUBLISHED_MIN_ROUNDS = 5
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Dishonest(Exception):
    """A figure does not measure what its name says: the run stops and no report is written."""


def require(condition, message):
    if not condition:
        raise Dishonest(message)


STARTED = time.monotonic()


def log(message):
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def output_of(command, **keywords):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, **keywords)
        return (result.stdout + result.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


# MARK: - Machine, versions, tree

def git_state():
    """Commit and dirty flag of the tree; the harness's own outputs (bench/results) do not count."""
    revision = output_of(["git", "-C", ROOT, "rev-parse", "HEAD"])
    status = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=normal", "--", ".", ":!bench/results"],
                            capture_output=True, text=True).stdout.rstrip()
    return {"commit": revision, "short": revision[:7], "dirty": bool(status), "dirty_paths": status.splitlines()[:20]}


def versions(work):
    def dpkg(package):
        return output_of(["dpkg-query", "-W", "-f", "${Version}", package]) or "n/a"

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    return {
        "cpu": cpu, "cores": THREADS, "kernel": platform.release(), "machine": f"{platform.node()} {platform.machine()}",
        "wrk": (output_of(["wrk", "-v"]).splitlines() or ["n/a"])[0].split(" Copyright")[0],
        "libmicrohttpd": f"{output_of([os.path.join(work, 'ceiling'), '--version'])} (Debian {dpkg('libmicrohttpd12')})",
        "sqlite": f"{output_of([os.path.join(work, 'sqlite_lookup'), '--version']).split(' ')[0]} (Debian {dpkg('libsqlite3-0')})",
        "openssl": f"{output_of(['openssl', 'version'])} (Debian {dpkg('libssl3')})",
        "nginx": output_of([NGINX, "-v"]).replace("nginx version: ", ""),
        "swift": (output_of(["swift", "--version"]).splitlines() or ["n/a"])[0],
        "python": platform.python_version(),
    }


class Cores:
    """Which cores the servers and wrk run on. With two or more cores the servers get the first half
    and wrk the rest, so wrk never takes CPU from the server it measures; `taskset` prefixes do it."""

    def __init__(self, pin):
        affinity = sorted(os.sched_getaffinity(0))
        self.pinned = pin and len(affinity) >= 2 and shutil.which("taskset") is not None
        half = len(affinity) // 2
        self.server = affinity[:half] if self.pinned else affinity
        self.client = affinity[half:] if self.pinned else affinity

    @staticmethod
    def prefix(cpus):
        return ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []

    def describe(self):
        if not self.pinned:
            return f"unpinned: servers and wrk share cores {self.server}"
        return f"servers on core(s) {self.server}, wrk on core(s) {self.client} (taskset)"


# MARK: - Processes

def process_tree(pid):
    """`pid` and its descendants (nginx's workers), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending += children.get(current, [])
    return tree


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_cpu():
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(f) for f in open("/proc/stat").readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


def disk_read_kib():
    """KiB the whole machine has read from block devices so far (/proc/vmstat pgpgin): a server that
    reads from disk during a measured run is bounded by I/O there, not by CPU."""
    for line in open("/proc/vmstat"):
        if line.startswith("pgpgin "):
            return int(line.split()[1])
    return 0


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def http_get(url, headers=None, timeout=5):
    """(status, headers, body) of one GET; 3xx/4xx/5xx are answers, not exceptions."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Server:
    """A server on a loopback port, started (pinned when `cpus` is given) and stopped with SIGTERM;
    `Server.stop_all` stops whatever is still running when the harness stops early."""
    running = []

    def __init__(self, name, command, port, ready_path, cpus, work):
        self.name, self.url = name, f"http://127.0.0.1:{port}"
        self.stderr_path = os.path.join(work, f"{name}-{port}.stderr")
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(Cores.prefix(cpus) + command, stdout=subprocess.DEVNULL, stderr=stderr)
        Server.running.append(self)
        start = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}: {open(self.stderr_path).read()[-2000:]}")
            try:
                if http_get(self.url + ready_path, timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - start > 60:
                self.stop()
                raise RuntimeError(f"{name} did not answer {ready_path} within 60 s")
            time.sleep(0.005)
        self.startup = time.monotonic() - start
        self.pids = process_tree(self.process.pid)

    def cpu_seconds(self):
        return cpu_seconds(self.pids)

    def stop(self):
        if self in Server.running:
            Server.running.remove(self)
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @staticmethod
    def stop_all():
        for server in list(Server.running):
            server.stop()


def permidd(database, cpus, work, extra=(), release=RELEASE):
    """permidd from `release` (the build's release folder unless another build is compared)."""
    port = free_port()
    command = [os.path.join(release, "permidd"), "serve", "--database", database, "--listen", f"127.0.0.1:{port}",
               "--rate-limit", "off", "--log-level", "warning", "--threads", str(THREADS), *extra]
    return Server("permidd", command, port, "/healthz", cpus, work)


def ceiling(body_file, cpus, work):
    port = free_port()
    return Server("libmicrohttpd", [os.path.join(work, "ceiling"), str(port), str(THREADS), body_file], port, "/", cpus, work)


def nginx(root, files, first_permid, cpus, work):
    """Debian's nginx serving `root` (files at /v1/peers/{permid}) from a temp prefix, in the foreground."""
    prefix = tempfile.mkdtemp(prefix="nginx-", dir=work)
    port = free_port()
    workers = max(2, THREADS)
    # open_file_cache keeps a descriptor per cached file in each worker: the cache covers every file
    # when the descriptor limit (which only a privileged process can raise) allows it.
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = int(open("/proc/sys/fs/nr_open").read()) if limit == resource.RLIM_INFINITY else limit
    cache = max(1000, min(files + 1000, limit - 4 * CONNECTIONS - 100))
    config = f"""# written by bench/run.py for one run
{"user root;" if os.geteuid() == 0 else ""}
worker_processes {workers};
worker_rlimit_nofile {limit};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    open_file_cache max={cache} inactive=300s;
    open_file_cache_valid 300s;
    open_file_cache_errors on;
    types {{ }}
    default_type application/json;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
    path = os.path.join(prefix, "nginx.conf")
    open(path, "w").write(config)
    server = Server("nginx", [NGINX, "-e", os.path.join(prefix, "error.log"), "-p", prefix, "-c", path], port,
                    f"/v1/peers/{first_permid}", cpus, work)
    server.workers, server.cache_entries = workers, cache
    return server


# MARK: - Load

class Load:
    """Runs wrk (pinned to the client cores) and checks what it reports."""

    def __init__(self, options, cores):
        self.options, self.cores, self.runs = options, cores, 0

    def wrk(self, server, script, seconds, environment, pinned=True, connections=CONNECTIONS):
        """One wrk run against `server`: its JSON line plus requests/s, and CPU per request of the
        server's process tree and of wrk (wrk's own rusage)."""
        self.runs += 1
        cpus = self.cores.client if pinned and self.cores.pinned else None
        threads = len(cpus) if cpus else min(2, THREADS)
        seed = self.options.seed * 1_000_000 + self.runs * 100
        env = dict(os.environ, PERMID_BENCH_LUA=WRK_DIR, PERMID_BENCH_THREADS=str(threads),
                   PERMID_BENCH_SEED=str(seed), **environment)
        command = Cores.prefix(cpus) + ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
                                        "-s", os.path.join(WRK_DIR, script), server.url]
        before, machine_before, disk_before, wall = server.cpu_seconds(), machine_cpu(), disk_read_kib(), time.monotonic()
        with tempfile.TemporaryFile(mode="w+") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            watchdog = threading.Timer(seconds + 120, process.kill)
            watchdog.start()
            _, status, usage = os.wait4(process.pid, 0)
            watchdog.cancel()
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read()
        wall = time.monotonic() - wall
        server_cpu = server.cpu_seconds() - before
        machine_after = machine_cpu()
        others = max(0.0, machine_after[0] - machine_before[0] - server_cpu - (usage.ru_utime + usage.ru_stime))
        steal = machine_after[1] - machine_before[1]
        lines = [l for l in text.splitlines() if l.startswith("{")]
        if process.returncode != 0 or not lines:
            raise RuntimeError(f"wrk {script} failed ({process.returncode}): {text[-2000:]}")
        result = json.loads(lines[-1])
        requests = max(1, result["requests"])
        wrk_cpu = usage.ru_utime + usage.ru_stime
        result.update(
            rps=result["requests"] / result["seconds"], ok_rps=(result["requests"] - result["non2xx"] - result["errors"]) / result["seconds"],
            connections=connections, wrk_threads=threads, seed=seed, bytes_per_answer=result["bytes"] / requests,
            server_cpu_us=1e6 * server_cpu / requests, wrk_cpu_us=1e6 * wrk_cpu / requests,
            server_cores_busy=server_cpu / wall, wrk_cores_busy=wrk_cpu / wall,
            others_cores_busy=others / wall, steal_cores=steal / wall, disk_read_mb=(disk_read_kib() - disk_before) / 1024,
            wrk_cores=len(cpus) if cpus else len(self.cores.client))
        return result

    def measured(self, name, server, script, environment, warmup=True, **keywords):
        """A warm-up (not recorded) and then the measured run."""
        if warmup and self.options.warmup:
            self.wrk(server, script, self.options.warmup, environment, **keywords)
        return self.wrk(server, script, self.options.seconds, environment, **keywords)


def require_all_ok(name, figure, min_bytes=None, max_bytes=None):
    """Every answer of a figure that should be all-2xx (or all-304) was; the bytes per answer show
    what was answered: a record body (at least `min_bytes`) or a bodiless 304 (at most `max_bytes`)."""
    require(figure["requests"] > 0, f"{name}: no requests completed")
    require(figure.get("exhausted", 0) == 0,
            f"{name}: {figure['exhausted']} requests found no unsent signed body left (raise --announce-rate)")
    require(figure["non2xx"] == 0 and figure["errors"] == 0,
            f"{name}: {figure['non2xx']} answers ≥ 400 and {figure['errors']} socket errors of {figure['requests']} requests; "
            "every answer must succeed")
    if min_bytes is not None:
        require(figure["bytes_per_answer"] >= min_bytes,
                f"{name}: {figure['bytes_per_answer']:.0f} bytes per answer, less than a record body ({min_bytes}): not every answer was a record")
    if max_bytes is not None:
        require(figure["bytes_per_answer"] <= max_bytes,
                f"{name}: {figure['bytes_per_answer']:.0f} bytes per answer, more than headers alone ({max_bytes}): not every answer was a 304")


def summary(runs, keys=("rps", "p50_us", "p99_us", "p999_us", "server_cpu_us", "wrk_cpu_us", "server_cores_busy", "wrk_cores_busy",
                        "others_cores_busy", "steal_cores", "disk_read_mb")):
    """Median and min-max of each figure over alternated runs."""
    return {key: {"median": statistics.median(r[key] for r in runs), "min": min(r[key] for r in runs),
                  "max": max(r[key] for r in runs)} for key in keys} | {"runs": runs}


# MARK: - Data

def bench_tool(*arguments):
    output = subprocess.run([os.path.join(RELEASE, "permid-bench"), *map(str, arguments)], capture_output=True, text=True)
    if output.returncode != 0:
        raise RuntimeError(f"permid-bench {arguments[0]} failed: {output.stderr.strip()}")
    return output.stdout.strip().splitlines()[-1]


def sign(key_type, count, path):
    """`count` announcements for fresh keys of `key_type`, signed now, for one run only."""
    bench_tool("announcements", key_type, count, path)
    return path


def live_rows(database):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM records WHERE signature IS NOT NULL").fetchone()[0]
    finally:
        connection.close()


def stored(database, bodies):
    """How many of the announcements in `bodies` ("path TAB body" lines) the database holds: each has
    its own fresh PermID, so this counts exactly the run's accepted PUTs."""
    permids = []
    for line in open(bodies):
        text = line.split("\t", 1)[0].rsplit("/", 1)[1]
        permids.append((base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)),))
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        connection.execute("CREATE TEMP TABLE sent (permid BLOB PRIMARY KEY) WITHOUT ROWID")
        connection.executemany("INSERT INTO temp.sent VALUES (?)", permids)
        return connection.execute("SELECT count(*) FROM temp.sent JOIN main.records USING (permid) "
                                  "WHERE main.records.signature IS NOT NULL").fetchone()[0]
    finally:
        connection.close()


def residency(path):
    """Fraction of the database file in the page cache (util-linux fincore), or None."""
    if not shutil.which("fincore"):
        return None
    fields = output_of(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", path]).split()
    return int(fields[0]) / max(1, int(fields[1])) if len(fields) == 2 and all(f.isdigit() for f in fields) else None


def evict(database):
    """Drops the database's clean pages from the page cache (posix_fadvise DONTNEED after fsync)."""
    for path in (database, database + "-wal", database + "-shm"):
        if os.path.exists(path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def export_bodies(database, work, size):
    """Every record's body exactly as permidd serves it (`permidd export` writes the same bytes as
    GET /v1/peers/{permid}) as files www/v1/peers/{permid}; returns (root, first body file)."""
    ndjson = os.path.join(work, f"export-{size}.ndjson")
    subprocess.run([os.path.join(RELEASE, "permidd"), "export", "--database", database, "--output", ndjson],
                   check=True, capture_output=True)
    root = os.path.join(work, f"www-{size}")
    directory = os.path.join(root, "v1", "peers")
    os.makedirs(directory)
    written, first = 0, None
    with open(ndjson, "rb") as lines:
        for line in lines:
            body = line.rstrip(b"\n")
            permid = re.search(rb'"permid":"([A-Za-z0-9_-]+)"', body).group(1).decode()
            path = os.path.join(directory, permid)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, body)
            os.close(fd)
            first = first or path
            written += 1
    os.remove(ndjson)
    require(written == size, f"export wrote {written} records, {size} were preloaded")
    return root, first


def check_same_bodies(permidd_server, nginx_server, permids, count, rng):
    """nginx answers byte-identical bodies to permidd's for a uniform sample of PermIDs."""
    for permid in rng.sample(permids, min(count, len(permids))):
        ours, theirs = http_get(f"{permidd_server.url}/v1/peers/{permid}"), http_get(f"{nginx_server.url}/v1/peers/{permid}")
        require(ours[0] == 200 and theirs[0] == 200, f"nginx check: status {ours[0]} from permidd, {theirs[0]} from nginx for {permid}")
        require(ours[2] == theirs[2], f"nginx check: the file for {permid} differs from permidd's answer")
        require(ours[1].get("Content-Type") == theirs[1].get("Content-Type"),
                f"nginx check: Content-Type {ours[1].get('Content-Type')} vs {theirs[1].get('Content-Type')}")


# MARK: - Hook for further measurements

def extra_measurements(size, database, sample, work):
    """Further per-size measurements: return {name: {label: value}}; report.py prints each as a table
    under "Further measurements". Called after the store figures, with no server running on
    `database` (the preloaded store of `size` records; `sample` lists all their PermIDs, one a line)."""
    return {}


def extra_run_measurements(options, work, load, cores):
    """Further measurements made once per run (their own data): return {name: {label: value}}, printed
    like the per-size ones. Called last, `work` is a temp dir."""
    return {**tombstone_measurements(options, work), **watch_measurements(options, work), **postgres_measurements(options, work),
            **sealed_measurements(options, work, load, cores)}


def sealed_measurements(options, work, load, cores):
    """Sealed records (issue 13): the client's costs through permid-bench (medians: blinding and signing a
    sealed record per key type, sealing for 8 friends, opening one box, and a friend opening a record of
    64 boxes whose own box is the last it tries, so every other box is tried first, on every core, with
    the floor of 64 Diffie-Hellmans at `openssl speed`'s rate), and resolve of sealed
    records (8 boxes of 208 bytes) against open ones, the same number of each in databases of their own,
    alternated as the resolve runs are."""
    clock = json.loads(subprocess.run([os.path.join(RELEASE, "permid-bench"), "sealing", "200"],
                                      capture_output=True, text=True, check=True).stdout)
    client = {}
    for name, label in (("ed25519", "Ed25519"), ("libnacl", "LibNaCL"), ("p256", "P-256"), ("p384", "P-384"), ("secp256k1", "secp256k1")):
        value = clock[f"blind_sign_{name}_us"]
        client[f"blind + sign a sealed record, {label} owner (µs, target < 1,000){'' if value < 1000 else ' **missed**'}"] = value
    client["seal 8 boxes for X25519 friends (µs)"] = clock["seal_for_8_x25519_friends_us"]
    for name, label in (("ed25519", "X25519"), ("p256", "P-256"), ("p384", "P-384")):
        value = clock[f"open_own_box_{name}_us"]
        client[f"open one {label} box (µs, target < 1,000){'' if value < 1000 else ' **missed**'}"] = value
    # A box names no recipient, so a friend tries each box of its length until one opens: each try is a
    # Diffie-Hellman. The floor is 64 of them at `openssl speed`'s rate, spread over the cores.
    floors = {"ed25519": openssl_speed("ecdhx25519", options.speed_seconds, cores.server[:1]),
              "p256": openssl_speed("ecdhp256", options.speed_seconds, cores.server[:1]),
              "p384": openssl_speed("ecdhp384", options.speed_seconds, cores.server[:1])}
    for name, label in (("ed25519", "X25519"), ("p256", "P-256"), ("p384", "P-384")):
        value = clock[f"open_last_of_64_{name}_us"]
        floor = 64 / floors[name] * 1e6 / THREADS
        client[f"open a record of 64 {label} boxes, own box last, {THREADS} cores (µs, target < 1,000){'' if value < 1000 else ' **missed**'}"] = value
        client[f"  floor: 64 {label} DH at openssl speed over {THREADS} cores (µs)"] = round(floor, 1)

    count = min(int(size) for size in options.sizes.split(",")) * 10
    servers, samples = {}, {}
    for form in ("open", "sealed"):
        database, sample = os.path.join(work, f"{form}-records.sqlite"), os.path.join(work, f"{form}-sample.txt")
        if form == "open":
            bench_tool("preload", database, count, sample, count)
        else:
            bench_tool("preload-sealed", database, count, sample)
        require(live_rows(database) == count, f"{form} preload wrote {live_rows(database)} rows, not {count}")
        samples[form] = {"PERMID_BENCH_PERMIDS": sample}
        servers[form] = permidd(database, cores.server, work)
    runs = {form: [] for form in servers}
    try:
        for round_ in range(options.rounds):
            for form in (("open", "sealed") if round_ % 2 == 0 else ("sealed", "open")):
                figure = load.measured(f"{form} resolve", servers[form], "resolve.lua", samples[form])
                require_all_ok(f"{form} records resolve, round {round_ + 1}", figure, min_bytes=200 if form == "open" else 8 * 208)
                runs[form].append(figure)
    finally:
        for server in servers.values():
            server.stop()
    open_, sealed = summary(runs["open"]), summary(runs["sealed"])
    ratio = sealed["rps"]["median"] / open_["rps"]["median"]
    return {
        "Sealed records: the client's costs (medians of 200)": client,
        f"Sealed records: resolve of {count:,} sealed records (8 boxes) against {count:,} open ones, median of {options.rounds}": {
            "open records (req/s)": round(open_["rps"]["median"]),
            "sealed records (req/s)": round(sealed["rps"]["median"]),
            "sealed / open (the open figures of the resolve tables above are this build's too)": round(ratio, 2),
            "open answer (bytes)": round(runs["open"][0]["bytes_per_answer"]),
            "sealed answer (bytes)": round(runs["sealed"][0]["bytes_per_answer"]),
            "server CPU per request, open / sealed (µs)": f"{open_['server_cpu_us']['median']:.1f} / {sealed['server_cpu_us']['median']:.1f}",
        },
    }


def postgres_measurements(options, work):
    """PostgreSQL (issue 14), when Tests/postgres.sh can start a server (its own directory and port,
    durable: PostgreSQL's defaults, fsync and synchronous_commit on): durable Ed25519 announcements
    (fresh bodies) and then resolves of the PermIDs they stored, through 1 node and through 2 nodes on
    one database (one wrk per node, each with half the connections, run together, figures summed), as
    ratios to `pgbench -S` (select-only) and to pgbench running permidd's upsert as a custom script on
    the same server, each for --seconds. Nothing is pinned: PostgreSQL shares the cores; the CPU
    each side used (cores busy) says what limits a figure."""
    script = os.path.join(ROOT, "Tests", "postgres.sh")
    env = dict(os.environ, PERMID_PG_DIR=os.path.join(tempfile.gettempdir(), f"permid-bench-pg-{os.getpid()}"),
               PERMID_PG_PORT=str(free_port()), PERMID_PG_DURABLE="1")
    try:
        server = subprocess.run(["bash", script, "start"], env=env, capture_output=True, text=True, timeout=600, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        log(f"PostgreSQL: no server could be started ({error}); skipped")
        return {}
    try:
        return {"PostgreSQL (durable; 1 and 2 permidd nodes on one database, against pgbench on the same server)":
                postgres_figures(options, work, server)}
    finally:
        subprocess.run(["bash", script, "stop"], env=env, capture_output=True, timeout=120)


def pgbench(server, arguments, seconds):
    """One pgbench run (8 clients, 2 threads, prepared statements): transactions/s, and the cores busy
    of pgbench itself and of everything else (the PostgreSQL server)."""
    command = ["pgbench", "--no-vacuum", "-M", "prepared", "-c", "8", "-j", "2", "-T", str(seconds), *arguments, server]
    machine_before, wall = machine_cpu(), time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(seconds + 120, process.kill)
    watchdog.start()
    text = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    watchdog.cancel()
    wall = time.monotonic() - wall
    found = re.search(r"tps = ([0-9.]+)", text)
    if os.waitstatus_to_exitcode(status) != 0 or not found:
        raise RuntimeError(f"pgbench {' '.join(arguments)} failed: {text[-2000:]}")
    own = usage.ru_utime + usage.ru_stime
    return {"tps": float(found.group(1)), "pgbench_cores_busy": own / wall,
            "postgres_cores_busy": max(0.0, machine_cpu()[0] - machine_before[0] - own) / wall}


def postgres_figures(options, work, server):
    def database(name):
        subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
        return server.rsplit("/", 1)[0] + "/" + name

    seconds = options.seconds
    log("PostgreSQL: pgbench -S and pgbench running permidd's upsert")
    select_db = database("pgbench_select")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", select_db], check=True, capture_output=True, timeout=600)
    select = pgbench(select_db, ["-S"], seconds)
    upsert_db = database("pgbench_upsert")
    subprocess.run([os.path.join(RELEASE, "permidd"), "migrate", "--database", upsert_db], check=True, capture_output=True, timeout=120)
    upsert_script = os.path.join(work, "upsert.sql")
    with open(upsert_script, "w") as f:
        f.write("\\set id random(1, 1000000000000)\n"
                "INSERT INTO records AS r (permid, sig_alg, seq, issued_at, expires_at, endpoints, signature) "
                "VALUES (sha256(int8send(:id)), 1, 1, 1700000000, 4000000000, '\\x047f0000011ae1'::bytea, sha512(int8send(:id))) "
                "ON CONFLICT (permid) DO UPDATE SET sig_alg = excluded.sig_alg, seq = excluded.seq, issued_at = excluded.issued_at, "
                "expires_at = excluded.expires_at, endpoints = excluded.endpoints, signature = excluded.signature "
                "WHERE r.seq < excluded.seq RETURNING (r.xmax = 0);\n")
    upsert = pgbench(upsert_db, ["-f", upsert_script], seconds)
    cores = len(os.sched_getaffinity(0))

    def limit(busy):
        """What limits a run: the CPU when every core was busy, else waiting (commit flushes, round trips)."""
        return (f"limit: CPU, {busy:.2f} of {cores} cores busy" if busy >= 0.9 * cores
                else f"limit: not CPU ({busy:.2f} of {cores} cores busy): waiting on commit flushes and round trips")

    figures = {"pgbench -S (select-only, 8 clients) tps":
               f"{select['tps']:,.0f} (pgbench {select['pgbench_cores_busy']:.2f} cores, PostgreSQL and the rest "
               f"{select['postgres_cores_busy']:.2f}; {limit(select['pgbench_cores_busy'] + select['postgres_cores_busy'])})",
               "pgbench permidd's upsert, one per transaction (8 clients) tps":
               f"{upsert['tps']:,.0f} (pgbench {upsert['pgbench_cores_busy']:.2f} cores, PostgreSQL and the rest "
               f"{upsert['postgres_cores_busy']:.2f}; {limit(upsert['pgbench_cores_busy'] + upsert['postgres_cores_busy'])})"}
    load = Load(options, Cores(False))
    for count in (1, 2):
        url = database(f"nodes_{count}")
        nodes = [permidd(url, None, work, ["--endpoint-policy", "any"]) for _ in range(count)]
        try:
            bodies = sign("ed25519", int(2 * options.announce_rate * seconds) + 1000, os.path.join(work, f"pg-announce-{count}.txt"))
            lines = open(bodies).read().splitlines()
            shares = []
            for index in range(count):
                share = os.path.join(work, f"pg-announce-{count}-{index}.txt")
                open(share, "w").write("\n".join(lines[index::count]) + "\n")
                shares.append(share)
            announce = together(load, nodes, "announce.lua", seconds, [{"PERMID_BENCH_ANNOUNCEMENTS": share} for share in shares])
            for figure in announce:
                require_all_ok(f"PostgreSQL announce, {count} node(s)", figure)
            sample = os.path.join(work, f"pg-sample-{count}.txt")
            sent = sum(figure["puts"] for figure in announce)
            stored_permids = subprocess.run(
                ["psql", url, "-At", "-c", "SELECT translate(rtrim(encode(permid, 'base64'), '='), '+/', '-_') FROM records "
                                           "WHERE signature IS NOT NULL"], check=True, capture_output=True, text=True, timeout=120).stdout
            accepted = len(stored_permids.split())
            require(sent - CONNECTIONS <= accepted <= sent, f"PostgreSQL announce, {count} node(s): {sent} PUTs sent but {accepted} records stored")
            open(sample, "w").write(stored_permids)
            resolve = together(load, nodes, "resolve.lua", seconds, [{"PERMID_BENCH_PERMIDS": sample}] * count)
            for figure in resolve:
                require_all_ok(f"PostgreSQL resolve, {count} node(s)", figure, min_bytes=100)
        finally:
            for node in nodes:
                node.stop()
        for name, runs, base, base_name in (("durable ed25519 announce", announce, upsert, "upsert"), ("resolve", resolve, select, "-S")):
            rps = sum(run["rps"] for run in runs)
            figures[f"{name}, {count} node(s), requests/s"] = (
                f"{rps:,.0f} = {rps / base['tps']:.2f} × pgbench {base_name} (permidd {sum(r['server_cores_busy'] for r in runs):.2f} cores, "
                f"PostgreSQL and the rest {runs[0]['postgres_cores_busy']:.2f}, wrk {sum(r['wrk_cores_busy'] for r in runs):.2f}; "
                f"p99 {max(r['p99_us'] for r in runs) / 1000:.1f} ms; "
                f"{limit(runs[0]['postgres_cores_busy'] + sum(r['server_cores_busy'] + r['wrk_cores_busy'] for r in runs))})")
        figures[f"durable ed25519 announce, {count} node(s), records stored"] = f"{accepted:,} of {sent:,} PUTs sent"
    return figures


def together(load, servers, script, seconds, environments):
    """One wrk per server, each with its share of the connections, run at the same time."""
    results = [None] * len(servers)

    def run(index):
        results[index] = load.wrk(servers[index], script, seconds, environments[index], pinned=False,
                                  connections=CONNECTIONS // len(servers))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(servers))]
    machine_before, wall = machine_cpu()[0], time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    require(all(results), f"wrk {script}: a run failed")
    busy = (machine_cpu()[0] - machine_before) / (time.monotonic() - wall)
    rest = max(0.0, busy - sum(r["server_cores_busy"] + r["wrk_cores_busy"] for r in results))
    for result in results:
        result["postgres_cores_busy"] = rest
    return results


def watch_measurements(options, work):
    """Watches (issue 15), by Tests/hardening/watchers.py on the release build: 10,000 idle waiting
    resolves (memory beyond libmicrohttpd's per-connection cost, threads), and the latency from an
    accepted PUT to its watcher's answer with 1,000 other watchers waiting (200 rounds, p50/p99)."""
    count = 10_000 if max(int(size) for size in options.sizes.split(",")) >= 100_000 else 2_000
    output = subprocess.run([sys.executable, os.path.join(ROOT, "Tests", "hardening", "watchers.py"), RELEASE, str(count)],
                            capture_output=True, text=True, timeout=600)
    # Its checks are targets (reported as met or missed), not honesty rules: only a run that made no
    # measurement at all stops the bench.
    figures = {}
    for line in output.stdout.splitlines():
        if line.startswith(("ok ", "FAIL", "info ")):
            name, _, detail = line[4:].strip().partition(": ")
            figures[("**missed** " if line.startswith("FAIL") else "") + name] = detail
    if not figures:
        raise RuntimeError(f"watchers.py measured nothing: {output.stdout[-2000:]} {output.stderr[-2000:]}")
    return {f"Watches: {count:,} idle waiting resolves; PUT → watcher latency": figures}


def tombstone_measurements(options, work):
    """Tombstones (issue 10): a 1,000-record page over 1,000 live records with as many tombstones as the
    largest size (1,000,000 in the full run) against the same page without them, through the store;
    and `GET /metrics` on that database through a running permidd (its counts come without a scan)."""
    tombstones = max(int(size) for size in options.sizes.split(","))
    directory = os.path.join(work, "tombstones")
    figures = json.loads(bench_tool("tombstones", directory, tombstones, 1000))
    server = permidd(os.path.join(directory, "tombstones.sqlite"), None, work)
    try:
        timings = []
        for round_number in range(220):
            started = time.perf_counter()
            status, _, body = http_get(server.url + "/metrics", timeout=5)
            if status != 200 or b"permid_records_stored" not in body:
                raise RuntimeError(f"/metrics answered {status}")
            if round_number >= 20:
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        server.stop()
    timings.sort()
    return {f"Tombstones: 1,000 live records and {tombstones:,} tombstones": {
        "1,000-record page, live records only (ms, store)": round(figures["page_ms_live_only"], 3),
        "the same page with the tombstones (ms, store)": round(figures["page_ms_tombstones"], 3),
        "page ratio (target ≤ 2)": round(figures["page_ratio"], 2),
        "counts behind /metrics (µs, store)": round(figures["counts_ms_tombstones"] * 1000, 1),
        f"GET /metrics at {int(figures['records_tombstones']):,} records, median of 200 (ms, HTTP, target < 1)": round(timings[len(timings) // 2], 3),
        "GET /metrics p99 (ms, HTTP)": round(timings[int(len(timings) * 0.99) - 1], 3),
    }}


# MARK: - Measurements

def openssl_speed(algorithm, seconds, cpus):
    output = subprocess.run(Cores.prefix(cpus) + ["openssl", "speed", "-seconds", str(seconds), algorithm],
                            capture_output=True, text=True).stdout
    line = [l for l in output.splitlines() if "bits" in l][-1]
    return float(line.split()[-1])


def measure_size(size, options, cores, load, work, rng):
    log(f"{size:,} records: preloading through the store")
    database, sample = os.path.join(work, f"records-{size}.sqlite"), os.path.join(work, f"sample-{size}.txt")
    bench_tool("preload", database, size, sample, size)
    permids = open(sample).read().split()
    require(len(permids) == size and live_rows(database) == size, f"preload of {size} wrote {live_rows(database)} rows")
    figures = {"db_bytes": os.path.getsize(database), "db_bytes_per_record": os.path.getsize(database) / size}

    log("  writing every record's body as a file for nginx")
    root, first_body = export_bodies(database, work, size)
    body_bytes = min(os.path.getsize(os.path.join(root, "v1", "peers", p)) for p in rng.sample(permids, min(size, 1000)))
    reads = {"PERMID_BENCH_PERMIDS": sample}

    servers = {"permidd": permidd(database, cores.server, work), "libmicrohttpd": ceiling(first_body, cores.server, work),
               "nginx": nginx(root, size, permids[0], cores.server, work)}
    figures["startup_s"] = servers["permidd"].startup
    figures["nginx_workers"], figures["nginx_cache_entries"] = servers["nginx"].workers, servers["nginx"].cache_entries
    check_same_bodies(servers["permidd"], servers["nginx"], permids, options.byte_checks, rng)
    etag = http_get(f"{servers['permidd'].url}/v1/peers/{permids[0]}")[1].get("ETag")
    require(http_get(f"{servers['permidd'].url}/v1/peers/{permids[0]}", {"If-None-Match": etag})[0] == 304, "revalidation preflight: no 304")
    figures["residency_warm"] = residency(database)

    order = list(servers)
    runs = {name: [] for name in order}
    for round_ in range(options.rounds):
        for name in order[round_ % 3:] + order[:round_ % 3]:
            figure = load.measured(f"{name} resolve", servers[name], "resolve.lua", reads)
            require_all_ok(f"{name} resolve, {size} records, round {round_ + 1}", figure, min_bytes=body_bytes)
            runs[name].append(figure)
        log(f"  round {round_ + 1}/{options.rounds}: " + ", ".join(f"{n} {runs[n][-1]['rps']:,.0f}/s" for n in order))
    servers["libmicrohttpd"].stop()
    servers["nginx"].stop()
    figures["resolve"] = summary(runs["permidd"])
    figures["ceiling"] = summary(runs["libmicrohttpd"])
    figures["nginx"] = summary(runs["nginx"])

    server = servers["permidd"]
    figures["revalidate"] = load.measured("revalidation", server, "resolve.lua", dict(reads, PERMID_BENCH_ETAG=etag))
    require_all_ok(f"304 revalidation, {size} records", figures["revalidate"], max_bytes=body_bytes)
    figures["lookup100"] = load.measured("lookup", server, "lookup.lua", reads)
    require_all_ok(f"batch lookup, {size} records", figures["lookup100"], min_bytes=100 * body_bytes)

    # Each connection's cycle is its delay plus the answer's latency: a first paced run measures
    # the latter, so the measured run's delay offers the target rate.
    target = 0.5 * figures["resolve"]["rps"]["median"]
    mean_delay_ms = CONNECTIONS * 1000 / target
    calibration = load.wrk(server, "resolve.lua", max(1, options.warmup), dict(reads, PERMID_BENCH_DELAY_MS=f"{mean_delay_ms:.4f}"))
    cycle_ms = CONNECTIONS * 1000 / calibration["rps"]
    mean_delay_ms = max(0.1, mean_delay_ms - (cycle_ms - mean_delay_ms))
    paced = load.wrk(server, "resolve.lua", options.seconds, dict(reads, PERMID_BENCH_DELAY_MS=f"{mean_delay_ms:.4f}"))
    require_all_ok(f"paced resolve, {size} records", paced, min_bytes=body_bytes)
    paced.update(target_rps=target, mean_delay_ms=mean_delay_ms)
    figures["paced"] = paced
    figures["peak_rss_mb"] = peak_rss_mb(server.process.pid)
    server.stop()
    log(f"  resolve median {figures['resolve']['rps']['median']:,.0f}/s (p99 {figures['resolve']['p99_us']['median'] / 1000:.2f} ms); "
        f"paced {paced['rps']:,.0f}/s p99 {paced['p99_us'] / 1000:.2f} ms")

    log("  store lookups: Swift store vs the same statement stepped from C (alternated)")
    store, raw = [], []
    for round_ in range(options.store_rounds):
        seed = options.seed * 1000 + round_
        store.append(json.loads(subprocess.run(Cores.prefix(cores.server[:1]) + [os.path.join(RELEASE, "permid-bench"), "lookup", database, sample,
                                               str(options.store_seconds), str(seed)], capture_output=True, text=True, check=True).stdout)["store_lookups_per_s"])
        raw.append(json.loads(subprocess.run(Cores.prefix(cores.server[:1]) + [os.path.join(work, "sqlite_lookup"), database, sample,
                                             str(options.store_seconds), str(seed)], capture_output=True, text=True, check=True).stdout)["raw_sqlite_lookups_per_s"])
    figures["store_lookups"] = {"store": store, "raw": raw, "store_median": statistics.median(store), "raw_median": statistics.median(raw)}

    log("  cold resolve: database evicted from the page cache")
    evict(database)
    before = residency(database)
    require(before is None or before <= 0.05, f"cold run: {100 * before:.0f}% of the database still in the page cache after eviction")
    server = permidd(database, cores.server, work)
    cold = load.measured("cold", server, "resolve.lua", reads, warmup=False)
    require_all_ok(f"cold resolve, {size} records", cold, min_bytes=body_bytes)
    server.stop()
    cold.update(residency_before=before, residency_after=residency(database))
    figures["cold"] = cold

    log("  90% resolve / 10% announce (endpoint policy any, a distinct signed body per PUT)")
    puts = int(1.5 * 0.10 * figures["resolve"]["rps"]["max"] * (options.seconds + 1)) + 2000
    bodies = sign("ed25519", puts, os.path.join(work, f"mix-{size}.txt"))
    server = permidd(database, cores.server, work, ["--endpoint-policy", "any"])
    if options.warmup:
        load.wrk(server, "resolve.lua", options.warmup, reads)
    mix = load.wrk(server, "announce.lua", options.seconds, dict(reads, PERMID_BENCH_ANNOUNCEMENTS=bodies, PERMID_BENCH_MIX="10"))
    server.stop()
    require_all_ok(f"mix, {size} records", mix)
    accepted = stored(database, bodies)
    require(mix["puts"] - CONNECTIONS <= accepted <= mix["puts"],
            f"mix, {size} records: {mix['puts']} PUTs sent but {accepted} new records stored")
    require(accepted > 0, f"mix, {size} records: nothing was written")
    mix.update(bodies=puts, accepted=accepted, writes_per_s=accepted / mix["seconds"],
               reads_per_s=(mix["requests"] - accepted) / mix["seconds"])
    figures["mix90_10"] = mix
    os.remove(bodies)

    figures["extra"] = extra_measurements(size, database, sample, work)
    shutil.rmtree(root)
    return figures, database


def measure_announcements(options, load, work, largest_db):
    """Each (database, key type, sync) run gets its own freshly signed bodies (a fresh key each) and its
    own database: a new empty one, or a copy of the largest preloaded one. The warm-up's pool is
    signed for --announce-rate and may run out (it is not a figure); the measured run's pool is
    signed after the warm-up for twice that rate or the rate the warm-up stored, whichever is more
    (the stored rate doubled when the warm-up ran out of bodies); the run fails if it runs out."""
    out = {}
    for base in ("empty", "largest"):
        for key_type in options.key_types.split(","):
            for sync in ("full", "normal"):
                name = f"{key_type}-{sync}-{base}"
                database = os.path.join(work, f"announce-{name}.sqlite")
                if base == "largest":
                    shutil.copyfile(largest_db, database)
                warm = sign(key_type, max(1000, options.warmup * options.announce_rate), os.path.join(work, f"announce-{name}.warm"))
                server = permidd(database, None, work, ["--endpoint-policy", "any", "--sync", sync])
                rows = live_rows(database)
                rate = options.announce_rate
                if options.warmup:
                    warmup = load.wrk(server, "announce.lua", options.warmup, {"PERMID_BENCH_ANNOUNCEMENTS": warm}, pinned=False)
                    rate = stored(database, warm) / warmup["seconds"]
                    if warmup["exhausted"]:
                        # The warm-up used up its pool: the server takes more than it was given, and
                        # the rate it stored is only a floor.
                        rate *= 2
                count = int(2 * max(rate, options.announce_rate) * options.seconds) + 1000
                log(f"announce {name}: signing {count:,} bodies")
                bodies = sign(key_type, count, os.path.join(work, f"announce-{name}.txt"))
                figure = load.wrk(server, "announce.lua", options.seconds, {"PERMID_BENCH_ANNOUNCEMENTS": bodies}, pinned=False)
                figure["peak_rss_mb"] = peak_rss_mb(server.process.pid)
                server.stop()
                require_all_ok(f"announce {name}", figure)
                accepted = stored(database, bodies)
                require(figure["puts"] - CONNECTIONS <= accepted <= figure["puts"],
                        f"announce {name}: {figure['puts']} PUTs sent but {accepted} new records stored")
                figure.update(key_type=key_type, sync=sync, database=base, records_before=rows, bodies=count,
                              accepted=accepted, accepted_per_s=accepted / figure["seconds"])
                out[name] = figure
                log(f"  {figure['accepted_per_s']:,.0f} accepted/s into {rows:,} records")
                for path in (database, database + "-wal", database + "-shm", bodies, warm):
                    if os.path.exists(path):
                        os.remove(path)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before a measured run")
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds of libmicrohttpd, nginx and permidd")
    parser.add_argument("--seed", type=int, default=1, help="base of every wrk thread's seed")
    parser.add_argument("--announce-rate", type=int, default=10000,
                        help="announcements/s the pools are signed for (the measured run's twice over)")
    parser.add_argument("--store-seconds", type=float, default=3)
    parser.add_argument("--store-rounds", type=int, default=3)
    parser.add_argument("--speed-seconds", type=int, default=3, help="seconds per `openssl speed` sample")
    parser.add_argument("--verify-seconds", type=float, default=2, help="seconds per scheme of the parse+verify table")
    parser.add_argument("--byte-checks", type=int, default=200, help="PermIDs whose nginx file is compared with permidd's answer")
    parser.add_argument("--commit-count", type=int, default=4000)
    parser.add_argument("--key-types", default="ed25519,p256", help="key types of the announce runs")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin servers and wrk to separate cores")
    parser.add_argument("--output", default=RESULTS)
    options = parser.parse_args()
    sizes = sorted(int(s) for s in options.sizes.split(","))
    tree = git_state()
    published = os.path.realpath(options.output) == os.path.realpath(RESULTS)
    try:
        require(not (published and tree["dirty"]),
                "refusing to write bench/results from a dirty tree (commit or stash first; use --output DIR to try things):\n  "
                + "\n  ".join(tree["dirty_paths"]))
        require(not published or options.rounds >= PUBLISHED_MIN_ROUNDS, f"bench/results needs --rounds ≥ {PUBLISHED_MIN_ROUNDS}")
        results = run(options, sizes, tree)
    except Dishonest as error:
        log(f"FAILED: {error}")
        sys.exit(1)
    os.makedirs(options.output, exist_ok=True)
    with open(os.path.join(options.output, "latest.json"), "w") as f:
        json.dump(results, f, indent=1)
    subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), options.output], check=True)


def run(options, sizes, tree):
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="permid-bench-")
    try:
        cores = Cores(options.pin)
        load = Load(options, cores)
        rng = random.Random(options.seed)
        for source, binary, library in (("ceiling.c", "ceiling", "-lmicrohttpd"), ("sqlite_lookup.c", "sqlite_lookup", "-lsqlite3")):
            subprocess.run(["cc", "-O2", "-o", os.path.join(work, binary), os.path.join(BENCH, "ceiling", source), library], check=True)
        results = {"tree": tree, "versions": versions(work), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                   "load": {"tool": "wrk", "connections": CONNECTIONS, "seconds": options.seconds, "warmup": options.warmup,
                            "rounds": options.rounds, "seed": options.seed, "server_threads": THREADS, "pinning": cores.describe(),
                            "pinned": cores.pinned, "server_cores": cores.server, "wrk_cores": cores.client,
                            "store_seconds": options.store_seconds, "store_rounds": options.store_rounds},
                   "sizes": {}}

        log(f"openssl speed verify/s on one core, median of {options.rounds}")
        speeds = {"ed25519": [], "ecdsap256": []}
        for _ in range(options.rounds):
            for algorithm in speeds:
                speeds[algorithm].append(openssl_speed(algorithm, options.speed_seconds, cores.server[:1]))
        results["openssl_verify_per_s"] = {a: {"median": statistics.median(v), "min": min(v), "max": max(v)} for a, v in speeds.items()}

        log("parse + verify per scheme (bench/verify, one core)")
        results["verify_table"] = subprocess.run(Cores.prefix(cores.server[:1]) + [os.path.join(RELEASE, "permid-bench-verify"),
                                                 str(options.verify_seconds)], capture_output=True, text=True, check=True).stdout

        largest_db = None
        for size in sizes:
            figures, largest_db = measure_size(size, options, cores, load, work, rng)
            results["sizes"][str(size)] = figures
            if size != sizes[-1]:
                os.remove(largest_db)

        results["announce"] = measure_announcements(options, load, work, largest_db)

        log("store: group commit vs one transaction per write (synchronous=FULL)")
        results["commit"] = json.loads(bench_tool("commit", os.path.join(work, "commit.sqlite"), options.commit_count))
        results["extra"] = extra_run_measurements(options, work, load, cores)
        results["elapsed_s"] = time.monotonic() - started
        return results
    finally:
        Server.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
