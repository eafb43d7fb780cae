#!/usr/bin/env python3
"""Invented methods: 10,000 requests, each with a distinct ~2 KB method token, to /healthz, /v1/peers/…
and unknown paths must each be answered (or the connection closed) while permidd keeps serving, and
must not grow /metrics (by 64 KB) or permidd's RSS (by 10 MB) past a warm-up of 200. Methods carrying a
tab or an ESC sequence must not reach the text log raw nor forge a `source=` field, and /metrics only
ever labels GET, HEAD, PUT, POST or OTHER.

Usage: hostile_methods.py BIN_DIR [REQUESTS]   (BIN_DIR holds permidd)"""
import collections, http.client, os, random, re, signal, socket, string, subprocess, sys, tempfile, threading, time

bin_dir = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
warmup = 200
work = tempfile.mkdtemp(prefix="permid-methods-")
log_path = os.path.join(work, "permidd.log")
paths = ["/healthz", "/v1/peers/" + "A" * 43, "/v1/peers/lookup", "/v1/whoami", "/nope", "/v1/nope/deeper", "/metrics"]

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
log_file = open(log_path, "wb")
server = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", os.path.join(work, "p.sqlite"),
                           "--listen", f"127.0.0.1:{port}", "--rate-limit", "on", "--log-level", "info", "--log-format", "text"],
                          stderr=log_file)


def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path)
    response = c.getresponse()
    body = response.read()
    c.close()
    return response.status, body


for _ in range(200):
    try:
        if get("/healthz")[0] == 200:
            break
    except OSError:
        time.sleep(0.05)


def rss_kb():
    return int([l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmRSS")][0].split()[1])


def read_response(s):
    """Reads one response from `s`; returns its status (negative when the server closes the connection
    after it), or None if the connection closed before an answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, closing = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            closing = True
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return -status if closing else status


outcomes = collections.Counter()
failures = []
lock = threading.Lock()


def send_methods(methods):
    """Sends each method on a kept-alive connection, reconnecting whenever the server closes one."""
    s = None
    for method, path in methods:
        for attempt in range(2):
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                status = read_response(s)
            except (ConnectionResetError, BrokenPipeError):
                status = None
            except OSError as error:
                with lock:
                    failures.append(f"{method[:12]!r}… {path}: {error}")
                status = "error"
            if status is None and attempt == 0 and s is not None:
                # A kept-alive connection the server had already closed: retry once on a new one.
                s.close()
                s = None
                continue
            break
        closing = status is None or status == "error" or status < 0
        if isinstance(status, int):
            status = abs(status)
            if status not in (400, 404, 405, 501):
                with lock:
                    failures.append(f"unexpected {status} for an invented method on {path}")
        with lock:
            outcomes[status if status is not None else "closed"] += 1
        if closing and s is not None:
            s.close()
            s = None
    if s is not None:
        s.close()


def invented(count):
    letters = string.ascii_letters
    return [(b"X" + "".join(random.choices(letters, k=2047)).encode(), random.choice(paths)) for _ in range(count)]


def run(methods, threads=4):
    workers = [threading.Thread(target=send_methods, args=(methods[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


started = time.monotonic()
run(invented(warmup))
metrics_before = len(get("/metrics")[1])
rss_before = rss_kb()
run(invented(total - warmup))
metrics_after_body = get("/metrics")[1]
metrics_after = len(metrics_after_body)
rss_after = rss_kb()
elapsed = time.monotonic() - started

# Methods that try to break a log line or forge a field.
forging = [b"GET\tsource=203.0.113.9", b"X\x1b[31mRED\x1b[0m", b"GET\x1b[31m source=203.0.113.9", b"G\rsource=203.0.113.9"]
forged = collections.Counter()
for method in forging:
    for path in ("/healthz", "/v1/whoami", "/nope"):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                status = read_response(s)
                forged[abs(status) if status is not None else "closed"] += 1
        except (ConnectionResetError, BrokenPipeError):
            forged["closed"] += 1
health_status = get("/healthz")[0]
metrics_text = get("/metrics")[1].decode()
server.send_signal(signal.SIGTERM)
exit_status = server.wait(timeout=30)
log_file.close()
log = open(log_path, "rb").read()
subprocess.run(["rm", "-rf", work])

checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")


answered = sum(outcomes.values())
check("every invented method answered", answered == total and not failures,
      f"{answered}/{total} in {elapsed:.1f} s; " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items(), key=str)))
for failure in failures[:10]:
    print("    " + failure)
check("server keeps serving", health_status == 200 and exit_status == 0, f"/healthz {health_status}, exit status {exit_status}")
check("/metrics growth under 64 KB", metrics_after - metrics_before < 64 * 1024,
      f"{metrics_before} -> {metrics_after} bytes ({metrics_after - metrics_before:+d})")
check("RSS growth under 10 MB", rss_after - rss_before < 10 * 1024,
      f"{rss_before // 1024} -> {rss_after // 1024} MB ({rss_after - rss_before:+d} KB)")
check("tab/ESC/CR methods answered or closed", sum(forged.values()) == len(forging) * 3,
      ", ".join(f"{k}: {v}" for k, v in sorted(forged.items(), key=str)))
lines = log.split(b"\n")
raw = [l for l in lines if b"\t" in l or b"\x1b" in l or b"\r" in l]
check("no raw tab, ESC or CR in the log", not raw, f"{len(lines)} lines, {len(raw)} with raw control bytes")
# Split as a log parser would, on any whitespace: a raw tab or CR in a value starts a new field.
forged_fields = [l for l in lines if b"source=203.0.113.9" in l.split()]
check("no forged source field in the log", not forged_fields, f"{len(forged_fields)} lines with source=203.0.113.9")
for line in (raw + forged_fields)[:5]:
    print(f"    {line[:200]!r}")
labels = set(re.findall(r'method="([^"]*)"', metrics_text))
foreign = labels - {"GET", "HEAD", "PUT", "POST", "OTHER"}
check("metrics method labels in the closed set", not foreign,
      f"{len(labels)} labels: " + ", ".join(repr(label[:24]) for label in sorted(labels)[:8]) + (", …" if len(labels) > 8 else ""))
passed = sum(checks)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
