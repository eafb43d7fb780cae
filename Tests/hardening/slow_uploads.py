#!/usr/bin/env python3
"""Slow uploads: 4,096 connections each announce a 128 KiB lookup body (Content-Length: 131072) and then
trickle it a byte a second. The body memory budget (64 MiB by default) must hold: the connections
past it get 503 problem+json at once, permidd's RSS stays under 300 MB, and /healthz is answered
quickly throughout. Then: a chunked announcement body past the announcement limit (32 KiB) makes permidd close the connection
at once (the client never gets to send 10 MB), and a Content-Length past the announcement limit (32 KiB) gets 413 before any
of the body is sent.

Usage: slow_uploads.py BIN_DIR [CONNECTIONS] [SECONDS]   (BIN_DIR holds permidd)"""
import http.client, json, os, resource, select, signal, socket, subprocess, sys, tempfile, time

bin_dir = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
work = tempfile.mkdtemp(prefix="permid-uploads-")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if hard < count + 256:
    sys.exit(f"RLIMIT_NOFILE hard limit {hard} is too low for {count} connections")

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", os.path.join(work, "p.sqlite"),
                           "--listen", f"127.0.0.1:{port}", "--connection-limit", "5000", "--per-ip-connection-limit", "0",
                           "--rate-limit", "off", "--connection-timeout", "30", "--log-level", "error"])


def healthz():
    """Seconds /healthz takes on a new connection, or None if it fails."""
    started = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
        return time.monotonic() - started if ok else None
    except OSError:
        return None


for _ in range(200):
    if healthz() is not None:
        break
    time.sleep(0.05)


def rss_mb():
    return int([l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmRSS")][0].split()[1]) // 1024


checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


# Open every connection and send its head; each connection past the budget gets its 503 at once.
head = b"POST /v1/peers/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 131072\r\n\r\n"
sockets, refused, peak = [], 0, rss_mb()
opened_at = time.monotonic()
for index in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(head + b"{")
        s.setblocking(False)
        sockets.append(s)
    except OSError:
        refused += 1
    if index % 256 == 0:
        peak = max(peak, rss_mb())
open_seconds = time.monotonic() - opened_at

answers, other = {}, []


def collect(timeout):
    """Reads whatever answers arrive within `timeout`; a socket with an answer (or closed) is done."""
    global sockets
    poller = select.poll()
    by_fd = {s.fileno(): s for s in sockets}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while by_fd and time.monotonic() < deadline:
        for fd, _ in poller.poll(50):
            s = by_fd[fd]
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            answers[s] = answers.get(s, b"") + data
            if not data or b"\r\n\r\n" in answers[s]:
                poller.unregister(fd)
                del by_fd[fd]
                s.close()
    sockets = list(by_fd.values())


collect(2)
unavailable = 0
for s, data in answers.items():
    status_line = data.split(b"\r\n", 1)[0]
    if status_line.startswith(b"HTTP/1.1 503") and b"application/problem+json" in data:
        unavailable += 1
    else:
        other.append(data[:120])
holding = len(sockets)
during = healthz()

# Trickle: a byte a second to every connection still waiting for its body.
trickled_at = time.monotonic()
lost = 0
for second in range(seconds):
    for s in list(sockets):
        try:
            s.send(b" ")
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            lost += 1
            sockets.remove(s)
            s.close()
    peak = max(peak, rss_mb())
    time.sleep(max(0.0, trickled_at + second + 1 - time.monotonic()))
during_trickle = healthz()
peak = max(peak, rss_mb())
hwm = int([l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM")][0].split()[1]) // 1024
for s in sockets:
    s.close()
time.sleep(0.5)
after = healthz()

budget_fits = 64 * 1024 * 1024 // 131072
check("connections past the body budget get 503 problem+json at once",
      unavailable > 0 and not other and holding <= budget_fits and unavailable + holding + refused == count,
      f"{count} opened in {open_seconds:.1f} s: {unavailable} got 503, {holding} held (budget fits {budget_fits}), "
      f"{refused} refused, {len(other)} other answers")
for data in other[:3]:
    print(f"    {data!r}")
check("trickling connections stay open", lost == 0, f"{holding - lost}/{holding} still open after {seconds} s, a byte a second")
check("permidd RSS under 300 MB", peak < 300, f"peak sampled VmRSS {peak} MB, VmHWM {hwm} MB")
check("/healthz answered quickly throughout", all(t is not None and t < 0.5 for t in (during, during_trickle, after)),
      ", ".join("failed" if t is None else f"{t * 1000:.0f} ms" for t in (during, during_trickle, after)))

# A chunked announcement body past the announcement limit (32 KiB): the connection is closed at once, the 10 MB never all sent.
signed = os.path.join(work, "one.txt")
subprocess.run([os.path.join(bin_dir, "permid-bench"), "announcements", "ed25519", "1", signed], check=True, stdout=subprocess.DEVNULL)
peer_path = open(signed).read().split("\t", 1)[0]
chunk = b"x" * 8192
s = socket.create_connection(("127.0.0.1", port), timeout=1)
s.sendall(f"PUT {peer_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
          + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 5)  # 40 KiB, past the 32 KiB limit
started = time.monotonic()
try:
    first = s.recv(65536)
    outcome = "EOF" if not first else "answer " + first.split(b"\r\n", 1)[0].decode(errors="replace")
except ConnectionResetError:
    outcome = "ECONNRESET"
except socket.timeout:
    outcome = "no close within 1 s"
closed_seconds = time.monotonic() - started
s.close()
check("chunked body past the announcement limit (32 KiB): connection closed at once", outcome in ("EOF", "ECONNRESET") and closed_seconds < 1,
      f"{outcome} after {closed_seconds * 1000:.0f} ms")

s = socket.create_connection(("127.0.0.1", port), timeout=1)
s.sendall(f"PUT {peer_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
sent, started, outcome = 0, time.monotonic(), None
chunk = b"x" * 65536
while sent < 10 * 1024 * 1024:
    try:
        s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError) as error:
        outcome = type(error).__name__
        break
    except socket.timeout:
        outcome = "send blocked (nothing read)"
        break
stopped_seconds = time.monotonic() - started
s.close()
check("chunked 10 MB body: refused before it is all sent", outcome in ("BrokenPipeError", "ConnectionResetError") and stopped_seconds < 1,
      f"{outcome or 'all 10 MB accepted'} after {sent // 1024} KiB, {stopped_seconds * 1000:.0f} ms")

s = socket.create_connection(("127.0.0.1", port), timeout=1)
s.sendall(f"PUT {peer_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n".encode())
started = time.monotonic()
try:
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = s.recv(65536)
        if not data:
            break
        answer += data
    status_line = answer.split(b"\r\n", 1)[0]
except (socket.timeout, ConnectionResetError) as error:
    status_line = repr(error).encode()
s.close()
check("Content-Length past the announcement limit (32 KiB): 413 before the body", status_line.startswith(b"HTTP/1.1 413"),
      f"{status_line.decode(errors='replace')} after {(time.monotonic() - started) * 1000:.0f} ms, no body sent")

final = healthz()
server.send_signal(signal.SIGTERM)
exit_status = server.wait(timeout=30)
check("server still serving, exits 0", final is not None and exit_status == 0, f"/healthz {'ok' if final else 'failed'}, exit {exit_status}")
subprocess.run(["rm", "-rf", work])
passed = sum(checks)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
