#!/usr/bin/env python3
"""Crash safety under load: start permidd, drive announcements from several clients, SIGKILL the
server at a random moment, restart it, and check that every acknowledged announcement is served with
its seq, that replaying acknowledged announcements is refused (no stale seq is ever accepted, not
even after a restart), and that PRAGMA integrity_check is ok. Repeats for ROUNDS rounds.

Usage: crash_rounds.py BIN_DIR [ROUNDS]   (BIN_DIR holds permidd and permid-bench)"""
import http.client, json, os, random, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time

bin_dir = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
work = tempfile.mkdtemp(prefix="permid-crash-")
database = os.path.join(work, "permid.sqlite")
signed = os.path.join(work, "announcements.txt")
subprocess.run([os.path.join(bin_dir, "permid-bench"), "announcements", "ed25519", str(rounds * 3000), signed], check=True,
               stdout=subprocess.DEVNULL)
pending = [line.split("\t", 1) for line in open(signed).read().splitlines()]
random.shuffle(pending)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start():
    port = free_port()
    process = subprocess.Popen([os.path.join(bin_dir, "permidd"), "serve", "--database", database, "--listen", f"127.0.0.1:{port}",
                                "--endpoint-policy", "any", "--rate-limit", "off", "--log-level", "error"])
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("permidd did not start")


acknowledged = {}  # path -> (seq, body)
lock = threading.Lock()
failures = []
passed = 0

for round_number in range(1, rounds + 1):
    process, port = start()
    stop = threading.Event()

    def client(batch):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for path, body in batch:
            if stop.is_set():
                return
            try:
                connection.request("PUT", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return  # the server was killed: this request was never acknowledged
            if response.status in (200, 201):
                with lock:
                    acknowledged[path] = (json.loads(body)["seq"], body)
            elif response.status != 409:
                failures.append(f"round {round_number}: unexpected {response.status} for {path}")

    batch, pending = pending[:2400], pending[2400:]
    threads = [threading.Thread(target=client, args=(batch[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(random.uniform(0.2, 1.2))
    process.send_signal(signal.SIGKILL)
    process.wait()
    stop.set()
    for thread in threads:
        thread.join()

    integrity = sqlite3.connect(database).execute("PRAGMA integrity_check").fetchone()[0]
    process, port = start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    lost = 0
    for path, (seq, body) in acknowledged.items():
        connection.request("GET", path)
        response = connection.getresponse()
        served = response.read()
        if response.status != 200 or json.loads(served)["seq"] != seq:
            lost += 1
    replays = random.sample(sorted(acknowledged.items()), min(50, len(acknowledged)))
    accepted_replays = 0
    for path, (seq, body) in replays:
        connection.request("PUT", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 409:
            accepted_replays += 1
    process.send_signal(signal.SIGTERM)
    process.wait()
    ok = integrity == "ok" and lost == 0 and accepted_replays == 0
    passed += ok
    if not ok:
        failures.append(f"round {round_number}: integrity {integrity}, lost {lost}, replays accepted {accepted_replays}")
    print(f"round {round_number}: {len(acknowledged)} acknowledged so far, lost {lost}, replays accepted {accepted_replays}, "
          f"integrity {integrity}", flush=True)

subprocess.run(["rm", "-rf", work])
for failure in failures:
    print(failure)
print(f"{passed} passed, {rounds - passed} failed")
sys.exit(0 if passed == rounds and not failures else 1)
