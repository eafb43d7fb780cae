#!/usr/bin/env python3
"""A durable announcement is on disk before it is answered: permidd (`--sync full`, the default) runs
under strace while announcements are made one at a time, and for each one the trace must show, after
its PUT was read, the WAL frames written (pwrite64 to the -wal file), then an fdatasync of the -wal file
that finished after the last of those writes, and only then the answer sent. With `--sync normal` the
same trace must show no fdatasync before the answers (the check can fail, and does).

kill -9 cannot tell a synced commit from one still in the page cache (the kernel keeps both), so this
reads the order of the system calls instead.

Usage: sync_before_answer.py BIN_DIR [ANNOUNCEMENTS]   (BIN_DIR holds permidd and permid-bench)"""
import http.client, os, re, shutil, signal, subprocess, sys, tempfile
import serving  # Tests/hardening/serving.py

bin_dir = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
work = tempfile.mkdtemp(prefix="permid-sync-")
signed = os.path.join(work, "announcements.txt")
subprocess.run([os.path.join(bin_dir, "permid-bench"), "announcements", "ed25519", str(2 * count), signed], check=True,
               stdout=subprocess.DEVNULL)
announcements = [line.split("\t", 1) for line in open(signed).read().splitlines()]
checks = []


def check(name, ok, detail):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


def traced_run(sync, batch):
    """Serves with `--sync sync` under strace, announces `batch` one at a time; returns the statuses and
    the trace's lines."""
    database = os.path.join(work, f"{sync}.sqlite")
    trace = os.path.join(work, f"{sync}.trace")
    port = serving.free_port()
    process = subprocess.Popen(
        [os.path.join(bin_dir, "permidd"), "serve", "--database", database, "--listen", f"127.0.0.1:{port}",
         "--endpoint-policy", "any", "--rate-limit", "off", "--sync", sync],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tracer = None
    try:
        serving.wait_until_serving(port, attempts=600)
        # strace says "Process N attached with T threads" on stderr once it traces them all.
        tracer = subprocess.Popen(
            ["strace", "-f", "-y", "-s", "48", "-o", trace, "-p", str(process.pid),
             "-e", "trace=pwrite64,fdatasync,fsync,read,recvfrom,recvmsg,write,writev,sendto,sendmsg"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        attached = tracer.stderr.readline()
        if "attached" not in attached:
            raise RuntimeError(f"strace did not attach: {attached.strip()}")
        statuses = []
        for path, body in batch:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("PUT", path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            connection.close()
    finally:
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
        process.terminate()
        process.wait(timeout=30)
    return statuses, open(trace).read().splitlines()


def events(lines):
    """The trace as (kind, line) in the order the calls finished: "put" (a PUT read from a socket),
    "wal-write", "wal-sync" (an fdatasync or fsync of the -wal file that returned 0) and "answer" (an
    HTTP status line sent on a socket). strace splits a call that another thread interrupts into
    "<unfinished ...>" and "<... resumed>" lines; a call counts where it finished."""
    pending = {}
    found = []
    for line in lines:
        match = re.match(r"(\d+)\s+(.*)$", line)
        if not match:
            continue
        pid, rest = match.groups()
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[: -len("<unfinished ...>")]
            continue
        resumed = re.match(r"<\.\.\. (\w+) resumed>(.*)$", rest)
        if resumed:
            rest = pending.pop(pid, resumed.group(1) + "(") + resumed.group(2)
        call = re.match(r"(\w+)\((.*)\)\s*=\s*(-?\d+)", rest)
        if not call:
            continue
        name, arguments, result = call.group(1), call.group(2), int(call.group(3))
        if name in ("read", "recvfrom", "recvmsg") and "socket:[" in arguments and "PUT /v1/peers/" in arguments:
            found.append(("put", line))
        elif name == "pwrite64" and "-wal>" in arguments and result > 0:
            found.append(("wal-write", line))
        elif name in ("fdatasync", "fsync") and "-wal>" in arguments and result == 0:
            found.append(("wal-sync", line))
        elif name in ("write", "writev", "sendto", "sendmsg") and "socket:[" in arguments and "HTTP/1.1 2" in arguments:
            found.append(("answer", line))
    return found


def answers_synced(found):
    """For each PUT and the answer after it: (WAL written, last write synced before the answer)."""
    results = []
    current = None
    for kind, _ in found:
        if kind == "put":
            current = {"written": False, "synced": False}
        elif current is None:
            continue
        elif kind == "wal-write":
            current["written"], current["synced"] = True, False
        elif kind == "wal-sync" and current["written"]:
            current["synced"] = True
        elif kind == "answer":
            results.append((current["written"], current["synced"]))
            current = None
    return results


try:
    statuses, lines = traced_run("full", announcements[:count])
    check("announcements accepted (--sync full)", statuses == [201] * count, f"statuses {sorted(set(statuses))}")
    results = answers_synced(events(lines))
    check("every answer traced (--sync full)", len(results) == count, f"{len(results)} of {count} answers found in the trace")
    check("each announcement's WAL frames written before its answer", all(written for written, _ in results),
          f"{sum(written for written, _ in results)} of {len(results)}")
    check("each announcement's WAL synced after its last frame and before its answer", all(synced for _, synced in results),
          f"{sum(synced for _, synced in results)} of {len(results)}")

    statuses, lines = traced_run("normal", announcements[count:])
    results = answers_synced(events(lines))
    check("the check tells: --sync normal answers without a sync", len(results) == count and not any(synced for _, synced in results),
          f"{sum(synced for _, synced in results)} of {len(results)} answers synced")
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"{sum(checks)} of {len(checks)} checks passed")
sys.exit(0 if all(checks) else 1)
