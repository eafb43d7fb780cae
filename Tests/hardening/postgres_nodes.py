#!/usr/bin/env python3
"""Real permidd nodes on a real PostgreSQL, under faults (issue 14). Starts its own throwaway server
(Tests/postgres.sh on a free port in a fresh directory, so stopping it disturbs no other run), one
database per part, and checks:

1. faults: PostgreSQL stopped (pg_ctl stop -m fast) under announcement load: every answer is 2xx, 409
   or 503 `service-unavailable` (never 500, never a dropped connection or a request past its 5 s
   timeout), /healthz keeps answering, permidd reconnects by itself when the server is started
   again (announcements succeed), and every acknowledged announcement is stored.
2. kill -9: two nodes on one database, announcements to both; SIGKILL node A: every announcement A
   or B acknowledged is served by B with at least its seq, and B answered everything throughout.
3. nginx: two nodes behind a real nginx (proxy_bind 127.0.0.3, X-Forwarded-For appended), the default
   `source` endpoint policy: a client on 127.0.0.5 announcing 127.0.0.5:PORT (signed by the permid
   CLI) is accepted by whichever node gets it; one naming another address is 403 endpoint-not-source.

Usage: postgres_nodes.py BIN_DIR   (BIN_DIR holds permidd, permid and permid-bench; nginx on PATH or
in /usr/sbin; psql on PATH)"""
import http.client, http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import nginx  # Tests/hardening/nginx.py

bin_dir = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
work = tempfile.mkdtemp(prefix="permid-pg-nodes-")
PROXY, CLIENT, OTHER = "127.0.0.3", "127.0.0.5", "127.0.0.6"
TIMEOUT = 5  # seconds, every client request


def free_port(address="127.0.0.1"):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


# MARK: the PostgreSQL server

pg_env = dict(os.environ, PERMID_PG_DIR=f"/tmp/permid-pg-nodes-{os.getpid()}", PERMID_PG_PORT=str(free_port()))


def postgres(command):
    """Tests/postgres.sh start|halt|stop on this script's own server (bounded: 60 s)."""
    return subprocess.run(["bash", os.path.join(ROOT, "Tests", "postgres.sh"), command], env=pg_env, capture_output=True,
                          text=True, timeout=60, check=True).stdout.strip()


def database(server, name):
    """A fresh database on the server; its URL."""
    subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    return server.rsplit("/", 1)[0] + "/" + name


# MARK: permidd and HTTP

def request(address, port, method, path, body=None, source=None, headers=None):
    """One bounded request: (status, body text), or (None, error) when there was no answer in time."""
    try:
        c = http.client.HTTPConnection(address, port, timeout=TIMEOUT, source_address=(source, 0) if source else None)
        c.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = c.getresponse()
        text = response.read().decode()
        c.close()
        return response.status, text
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"


def start_permidd(url, extra):
    port = free_port()
    log = open(os.path.join(work, f"permidd-{port}.log"), "w")  # libpq's notices go to stderr too
    process = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", url, "--listen", f"127.0.0.1:{port}",
                                "--log-level", "error", *extra], stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if request("127.0.0.1", port, "GET", "/healthz")[0] == 200:
            return process, port
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    raise RuntimeError("permidd did not start")


def stop(*processes):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


LOAD = ["--endpoint-policy", "any", "--rate-limit", "off"]
signed = os.path.join(work, "announcements.txt")
subprocess.run([os.path.join(bin_dir, "permid-bench"), "announcements", "ed25519", "10000", signed], check=True,
               stdout=subprocess.DEVNULL, timeout=120)
pool = [line.split("\t", 1) for line in open(signed).read().splitlines()]
pool_lock = threading.Lock()


def take():
    with pool_lock:
        return pool.pop() if pool else None


class Load:
    """Client threads announcing fresh records to `targets()` (a list of ports) until stopped; every
    answer is kept as (time, port, status, body, path, seq)."""

    def __init__(self, targets, threads=4):
        self.targets, self.answers, self.lock, self.done = targets, [], threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def client(self, index):
        n = 0
        while not self.done.is_set():
            item = take()
            if item is None:
                return
            path, body = item
            ports = self.targets()
            port = ports[(index + n) % len(ports)]
            n += 1
            status, text = request("127.0.0.1", port, "PUT", path, body)
            with self.lock:
                self.answers.append((time.monotonic(), port, status, text, path, json.loads(body)["seq"]))
            # At most about 250 announcements/s per client (a client backs off further on errors), so
            # the signed pool lasts on a fast machine too.
            time.sleep(0.004 if status == 201 else 0.02)

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=3 * TIMEOUT)
        return [t for t in self.threads if t.is_alive()]

    def acknowledged(self):
        with self.lock:
            return [(path, seq) for _, _, status, _, path, seq in self.answers if status in (200, 201)]


def lost(port, acknowledged):
    """The acknowledged announcements `port` does not serve with at least their seq."""
    missing = []
    for path, seq in acknowledged:
        status, text = request("127.0.0.1", port, "GET", path)
        if status != 200 or json.loads(text)["seq"] < seq:
            missing.append((path, seq, status))
    return missing


checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


# MARK: 1. faults

def faults(server):
    """PostgreSQL stopped and started again under announcement load"""
    node, port = start_permidd(database(server, "faults"), LOAD)
    health, health_done = [], threading.Event()

    def watch_health():
        while not health_done.is_set():
            health.append((time.monotonic(), *request("127.0.0.1", port, "GET", "/healthz")))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    load = Load(lambda: [port])
    try:
        time.sleep(1)
        postgres("halt")
        halted = time.monotonic()  # the server is down: from here on nothing can be committed
        time.sleep(3)
        resumed = time.monotonic()
        postgres("start")
        deadline = resumed + 30
        recovered = None
        while recovered is None and time.monotonic() < deadline:
            time.sleep(0.1)
            with load.lock:
                recovered = next((t for t, _, status, *_ in load.answers if t > resumed and status in (200, 201)), None)
        time.sleep(0.5)
        stuck = load.stop()
        health_done.set()
        watcher.join(timeout=3 * TIMEOUT)
        answers = load.answers
        statuses = {}
        for _, _, status, _, _, _ in answers:
            statuses[status] = statuses.get(status, 0) + 1
        down = [(status, text) for t, _, status, text, _, _ in answers if halted + 0.2 < t < resumed]
        check("faults: every answer is 2xx, 409 or 503, none timed out or dropped, no client stuck",
              set(statuses) <= {200, 201, 409, 503} and not stuck, f"{len(answers)} announcements, statuses {statuses}")
        unavailable = [text for status, text in down if status == 503]
        check("faults: while PostgreSQL is down, announcements are 503 service-unavailable",
              len(down) > 0 and len(unavailable) == len(down) and all("service-unavailable" in text for text in unavailable),
              f"{len(down)} answered while down, {len(unavailable)} of them 503 service-unavailable")
        health_statuses = {}
        for _, status, _ in health:
            health_statuses[status] = health_statuses.get(status, 0) + 1
        down_health = {status for t, status, _ in health if halted + 0.2 < t < resumed}
        check("faults: /healthz keeps answering (503 while down)",
              set(health_statuses) <= {200, 503} and down_health == {503},
              f"{len(health)} polls, statuses {health_statuses}, while down {sorted(down_health)}")
        check("faults: permidd reconnects by itself (announcements accepted again, no restart)",
              recovered is not None and node.poll() is None,
              f"first acknowledged {recovered - resumed:.2f} s after the server was started again" if recovered else "never")
        acknowledged = load.acknowledged()
        missing = lost(port, acknowledged)
        check("faults: every acknowledged announcement is stored", not missing and len(acknowledged) > 0,
              f"{len(acknowledged)} acknowledged, {len(missing)} missing {missing[:3]}")
    finally:
        load.stop()
        health_done.set()
        stop(node)


# MARK: 2. kill -9 of one node

def kill_one_node(server):
    """SIGKILL one of two nodes on one database under load"""
    url = database(server, "killed")
    a, port_a = start_permidd(url, LOAD)
    b, port_b = start_permidd(url, LOAD)
    alive = [port_a, port_b]
    load = Load(lambda: alive)
    try:
        time.sleep(1.5)
        killed = time.monotonic()
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
        alive = [port_b]
        time.sleep(1.5)
        stuck = load.stop()
        answers = load.answers
        by_a = [status for _, port, status, *_ in answers if port == port_a]
        by_b = [(status, text) for _, port, status, text, *_ in answers if port == port_b]
        acked_a = sum(status in (200, 201) for status in by_a)
        acked_b_after = sum(status in (200, 201) for t, port, status, *_ in answers if port == port_b and t > killed)
        check("kill -9: B answered every announcement (2xx or 409), before and after A died, no client stuck",
              len(by_b) > 0 and all(status in (200, 201, 409) for status, _ in by_b) and acked_b_after > 0 and not stuck,
              f"B: {len(by_b)} answers, {acked_b_after} acknowledged after the kill; "
              f"A: {acked_a} acknowledged, {sum(s is None for s in by_a)} cut off by the kill; "
              f"unexpected {[(s, t[:80]) for s, t in by_b if s not in (200, 201, 409)][:3]}")
        acknowledged = load.acknowledged()
        missing = lost(port_b, acknowledged)
        check("kill -9: every announcement A or B acknowledged is served by B", not missing and acked_a > 0,
              f"{len(acknowledged)} acknowledged ({acked_a} by A), {len(missing)} missing {missing[:3]}")
    finally:
        load.stop()
        stop(a, b)


# MARK: 3. behind nginx

def start_nginx(upstreams):
    """nginx in front of `upstreams`, round-robin, listening on PROXY (Tests/hardening/nginx.py)."""
    return nginx.start(work, PROXY, upstreams, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                       lambda port: request(PROXY, port, "GET", "/healthz")[0] == 200)


def signed_by_cli(endpoint):
    """(path, body) of an announcement of `endpoint` signed by the real permid CLI with a fresh key,
    caught by a local listener that answers 503 (so the CLI stops there)."""
    caught = []

    class Catcher(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):
            caught.append((self.path, self.rfile.read(int(self.headers["Content-Length"])).decode()))
            self.refuse()

        def do_GET(self):
            self.refuse()

        def refuse(self):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *arguments):
            pass

    catcher = http.server.HTTPServer(("127.0.0.1", 0), Catcher)
    thread = threading.Thread(target=catcher.serve_forever)
    thread.start()
    try:
        key = tempfile.mktemp(dir=work, prefix="key-", suffix=".pem")
        subprocess.run([os.path.join(bin_dir, "permid"), "keygen", "--out", key], check=True, capture_output=True, timeout=30)
        subprocess.run([os.path.join(bin_dir, "permid"), "announce", "--key", key, "--endpoint", endpoint,
                        "--server", f"http://127.0.0.1:{catcher.server_address[1]}", "--timeout", "5"],
                       capture_output=True, timeout=30)
    finally:
        catcher.shutdown()
        thread.join(timeout=10)
        catcher.server_close()
    if len(caught) != 1:
        raise RuntimeError(f"the permid CLI sent {len(caught)} announcements, expected 1")
    return caught[0]


def accepted_count(port):
    """permid_announcements_total{outcome="accepted"} of the node on `port`."""
    status, text = request("127.0.0.1", port, "GET", "/metrics")
    for line in text.splitlines() if status == 200 else []:
        if line.startswith("permid_announcements_total") and 'outcome="accepted"' in line:
            return int(float(line.split()[-1]))
    return 0


def behind_nginx(server):
    """two nodes behind nginx with the source endpoint policy"""
    url = database(server, "proxied")
    a, port_a = start_permidd(url, ["--trusted-proxy", PROXY])
    b, port_b = start_permidd(url, ["--trusted-proxy", PROXY])
    nginx = None
    try:
        nginx, port = start_nginx([port_a, port_b])
        status, text = request(PROXY, port, "GET", "/v1/whoami", source=CLIENT)
        check("nginx: the nodes see the client's own address", status == 200 and json.loads(text)["ip"] == CLIENT,
              f"whoami {status} {text.strip()[:80]}")
        own = [request(PROXY, port, "PUT", *signed_by_cli(f"{CLIENT}:{6881 + i}"), source=CLIENT) for i in range(4)]
        counts = (accepted_count(port_a), accepted_count(port_b))
        check("nginx: an announcement of the client's own address is accepted whichever node gets it",
              all(status == 201 for status, _ in own) and min(counts) >= 1,
              f"statuses {[status for status, _ in own]}, accepted by node A {counts[0]}, node B {counts[1]}")
        other = [request(PROXY, port, "PUT", *signed_by_cli(f"{OTHER}:6881"), source=CLIENT) for _ in range(2)]
        check("nginx: an announcement of another address is 403 endpoint-not-source on either node",
              all(status == 403 and "endpoint-not-source" in text for status, text in other),
              f"statuses {[status for status, _ in other]}")
    finally:
        stop(*[p for p in (nginx, a, b) if p])


try:
    server = postgres("start")
    for part in (faults, kill_one_node, behind_nginx):
        started = time.monotonic()
        try:
            part(server)
        except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
            check(part.__doc__, False, f"could not run: {error}")
        print(f"     ({part.__name__}: {time.monotonic() - started:.1f} s)", flush=True)
finally:
    subprocess.run(["bash", os.path.join(ROOT, "Tests", "postgres.sh"), "stop"], env=pg_env, timeout=60)
    shutil.rmtree(work, ignore_errors=True)

passed = sum(checks)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
