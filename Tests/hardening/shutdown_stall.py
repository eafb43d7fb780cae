#!/usr/bin/env python3
"""Shutdown with writes stalled on a lock: while another process holds the database's write lock for
8 s, 50 announcements are in flight when permidd gets SIGTERM (--shutdown-grace 2). permidd must exit
with status 0 within grace + 2 s, every client must get a complete answer (2xx, or 503 problem+json)
or a clean close, stderr must show no crash, and after a restart every acknowledged announcement is
served with its seq.

Usage: shutdown_stall.py BIN_DIR [IN_FLIGHT]   (BIN_DIR holds permidd and permid-bench)"""
import http.client, json, os, signal, socket, subprocess, sys, tempfile, threading, time

bin_dir = sys.argv[1]
in_flight = int(sys.argv[2]) if len(sys.argv) > 2 else 50
grace, lock_seconds, client_timeout = 2, 8, 15
warm = 20
work = tempfile.mkdtemp(prefix="permid-stall-")
database = os.path.join(work, "permid.sqlite")
signed = os.path.join(work, "announcements.txt")
subprocess.run([os.path.join(bin_dir, "permid-bench"), "announcements", "ed25519", str(warm + in_flight), signed], check=True,
               stdout=subprocess.DEVNULL)
announcements = [line.split("\t", 1) for line in open(signed).read().splitlines()]


def start(log_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(log_path, "wb")
    process = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", database, "--listen", f"127.0.0.1:{port}",
                                "--endpoint-policy", "any", "--rate-limit", "off", "--shutdown-grace", str(grace)], stderr=log)
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port, log
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("permidd did not start")


def put(connection, path, body):
    connection.request("PUT", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.getheader("Content-Type") or "", response.read()


checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


process, port, log = start(os.path.join(work, "first.log"))
acknowledged = {}  # path -> seq
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
warm_statuses = []
for path, body in announcements[:warm]:
    status, _, _ = put(connection, path, body)
    warm_statuses.append(status)
    if 200 <= status < 300:
        acknowledged[path] = json.loads(body)["seq"]
connection.close()
check("announcements before the stall acknowledged", len(acknowledged) == warm, f"{len(acknowledged)}/{warm} got 2xx")

# Another process takes the write lock and holds it.
locker = subprocess.Popen([sys.executable, "-c", f"""
import sqlite3, sys, time
db = sqlite3.connect({database!r}, isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep({lock_seconds})
db.execute("COMMIT")
"""], stdout=subprocess.PIPE, text=True)
assert locker.stdout.readline().strip() == "locked"
locked_at = time.monotonic()

results = [None] * in_flight  # (outcome, detail)
connected = threading.Barrier(in_flight + 1)


def client(index):
    path, body = announcements[warm + index]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=client_timeout)
    try:
        c.connect()
    finally:
        connected.wait()
    started = time.monotonic()
    try:
        status, content_type, answer = put(c, path, body)
        if 200 <= status < 300:
            results[index] = ("2xx", status)
            acknowledged[path] = json.loads(body)["seq"]
        elif status == 503 and content_type.startswith("application/problem+json") and json.loads(answer).get("status") == 503:
            results[index] = ("503", status)
        else:
            results[index] = ("bad", f"{status} {content_type} {answer[:80]!r}")
    except http.client.RemoteDisconnected:
        results[index] = ("closed", "EOF before an answer")
    except ConnectionResetError:
        results[index] = ("closed", "reset")
    except socket.timeout:
        results[index] = ("hang", f"no answer after {time.monotonic() - started:.1f} s")
    except (OSError, http.client.HTTPException, ValueError) as error:
        results[index] = ("bad", repr(error))
    finally:
        c.close()


threads = [threading.Thread(target=client, args=(i,)) for i in range(in_flight)]
for thread in threads:
    thread.start()
connected.wait()
time.sleep(0.5)
terminated_at = time.monotonic()
process.send_signal(signal.SIGTERM)
try:
    exit_status = process.wait(timeout=grace + 10)
except subprocess.TimeoutExpired:
    exit_status = "still running"
    process.kill()
    process.wait()
exit_seconds = time.monotonic() - terminated_at
for thread in threads:
    thread.join()
log.close()
lock_still_held = locker.poll() is None
check("permidd exits 0 within grace + 2 s", exit_status == 0 and exit_seconds <= grace + 2,
      f"exit status {exit_status} after {exit_seconds:.2f} s (grace {grace} s; lock still held: {lock_still_held})")
counts = {}
for outcome, _ in results:
    counts[outcome] = counts.get(outcome, 0) + 1
check("every client answered or cleanly closed", counts.get("bad", 0) == 0 and counts.get("hang", 0) == 0,
      ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
for outcome, detail in results:
    if outcome in ("bad", "hang"):
        print(f"    {outcome}: {detail}")
stderr = open(os.path.join(work, "first.log"), "rb").read().decode(errors="replace")
crash_words = ["Fatal error", "fatal error", "Aborted", "abort", "Segmentation", "Illegal instruction", "stack trace",
               "Assertion", "SIGABRT", "SIGSEGV", "SIGILL", "Trace/breakpoint"]
crashes = [line for line in stderr.splitlines() if any(word in line for word in crash_words)]
check("no crash on stderr", not crashes, f"{len(stderr.splitlines())} lines, {len(crashes)} crash lines")
for line in crashes[:5]:
    print(f"    {line[:200]}")

locker.wait()
process, port, log = start(os.path.join(work, "second.log"))
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
lost = []
for path, seq in acknowledged.items():
    connection.request("GET", path)
    response = connection.getresponse()
    served = response.read()
    if response.status != 200 or json.loads(served)["seq"] != seq:
        lost.append(f"{path}: {response.status}")
process.send_signal(signal.SIGTERM)
second_exit = process.wait(timeout=30)
log.close()
check("nothing acknowledged lost after a restart", not lost and second_exit == 0,
      f"{len(acknowledged)} acknowledged ({len(acknowledged) - warm} during the stall), {len(lost)} lost; restart exit {second_exit}")
for line in lost[:5]:
    print(f"    {line}")
subprocess.run(["rm", "-rf", work])
passed = sum(checks)
print(f"{passed} passed, {len(checks) - passed} failed")
sys.exit(0 if passed == len(checks) else 1)
