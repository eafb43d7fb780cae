#!/usr/bin/env python3
"""Slow and idle clients: 1,000 connections from 127.0.0.2 — half idle, half sending a request one byte
at a time (slowloris) — must not stop service to a normal client on 127.0.0.1. Measures the normal
client's success rate and latency while the slow ones are connected, and permidd's peak RSS.

Usage: slow_clients.py BIN_DIR [SLOW_CONNECTIONS] [SECONDS]"""
import http.client, os, resource, signal, socket, subprocess, sys, tempfile, threading, time
import serving  # Tests/hardening/serving.py

bin_dir = sys.argv[1]
slow_count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
work = tempfile.mkdtemp(prefix="permid-slow-")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

port = serving.free_port()
server = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", os.path.join(work, "p.sqlite"),
                           "--listen", f"127.0.0.1:{port}", "--per-ip-connection-limit", "256", "--connection-timeout", "5",
                           "--log-level", "error"])
serving.wait_until_serving(port)

stop = threading.Event()
opened = [0]


def slow(index):
    request = b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
    while not stop.is_set():
        try:
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            opened[0] += 1
            position = 0
            while not stop.is_set():
                if index % 2 == 0 and position < len(request):
                    s.send(request[position:position + 1])
                    position += 1
                stop.wait(0.5)
        except OSError:
            stop.wait(0.2)  # refused (connection caps) or closed (timeout): try again, as an attacker would
        finally:
            s.close()


threads = [threading.Thread(target=slow, args=(i,), daemon=True) for i in range(slow_count)]
for thread in threads:
    thread.start()
time.sleep(2)

latencies, failures = [], 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    start = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/v1/whoami")
        response = c.getresponse()
        response.read()
        c.close()
        if response.status == 200:
            latencies.append(time.monotonic() - start)
        else:
            failures += 1
    except OSError:
        failures += 1
    time.sleep(0.02)

stop.set()
rss = [l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM")][0].split()[1]
server.send_signal(signal.SIGTERM)
server.wait(timeout=30)
subprocess.run(["rm", "-rf", work])
latencies.sort()
total = len(latencies) + failures
p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("inf")
print(f"slow connections attempted {slow_count} (opened {opened[0]} times); normal client: {len(latencies)}/{total} ok, "
      f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, p99 {p99:.1f} ms; permidd peak RSS {int(rss) // 1024} MB")
ok = total > 0 and failures == 0 and p99 < 200
print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
sys.exit(0 if ok else 1)
