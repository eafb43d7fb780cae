#!/usr/bin/env python3
"""Sealed records (FRIENDS-v1 part B) live: `permid` and `permidd` against the independent
implementation of Tests/Vectors/sealed.py (pyhpke, blinding.py's blinded keys).

Usage: interop.py PRODUCTS_DIR [--only 1,2,...]      (PRODUCTS_DIR holds the built permid and permidd)

Starts `permidd serve` on a free loopback port (endpoint policy `any` with --allow-private, rate limits
off, a fresh SQLite file) and runs `permid` with a keyring in a temporary $XDG_CONFIG_HOME. Checks:
  1  Python owners (ed25519, libnacl, p256, p384, secp256k1) seal for the CLI's keys (ed25519, libnacl,
     p256, p384) under their blinded PermID; `permid resolve FRIEND --key K` prints exactly the
     endpoints of K's box (plain and --json)
  2  `permid announce --friends-only` of every CLI key type for Python friends of every KEM kind (also
     --port, one friend, all friends by default); Python fetches the record under the blinded PermID it
     computes, verifies it and its padding and opens each friend's box
  3  a record with no box for the CLI's key: exit 6, "not shared with you"; with an open record under
     the long-term PermID too, that record's endpoints and exit 0
  4  the directory answers 400 invalid-sealed / malformed-json for sealed.py's invalid records (fresh
     timestamps), accepts the records at the limits, 413 past 32 KiB
  5  open and sealed records of one PermID share one seq sequence (409 with stored_seq)
  6  GET /v1/peers?ip= never lists a sealed record; GET /v1/peers, GET /v1/peers/{permid} and
     POST /v1/peers/lookup return it unchanged
  7  `permidd export` and `permidd import` carry sealed records unchanged
Prints one line per check and `N passed, M failed`; exit status 0 only if none failed. Every
subprocess and request has a timeout, so a CLI without these options fails, it does not hang.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Vectors"))
import sealed as S  # noqa: E402
from blinding import GRACE, PERIOD, BlindedKey, LongTermKey, blind_public  # noqa: E402
from generate import b64u, b64u_decode, build_message  # noqa: E402

FRIEND_KINDS = S.FRIEND_KINDS          # CLI keys that can be friends (one box each)
OWNER_KINDS = S.OWNER_KINDS            # every blindable key type
CLI_TIMEOUT = 20
WORK = Path(tempfile.mkdtemp(prefix="permid-sealed-"))
RUN = os.urandom(4).hex()              # Python keys are fixed by name; a fresh name per run
RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f": {detail}"), flush=True)


def py_key(role, kind):
    return LongTermKey(f"interop-{RUN}-{role}-{kind}", kind)


def endpoints_for(a, b, count=2):
    """Distinct endpoints per (owner, friend): so each friend's box is known to be its own."""
    texts = [f"203.0.113.{(16 * a + b) % 250 + 1}:{7000 + b}", f"[2001:db8::{a + 1:x}:{b + 1:x}]:{8000 + a}",
             f"198.51.100.{(16 * a + b) % 250 + 1}:{9000 + a}", f"[2001:db8:1::{a + 1:x}:{b + 1:x}]:1",
             f"192.0.2.{(16 * a + b) % 250 + 1}:65535", f"[2001:db8:2::{a + 1:x}]:{100 + b}",
             f"203.0.113.{(16 * a + b + 7) % 250 + 1}:2", f"[2001:db8:3::{b + 1:x}]:{200 + a}"]
    return S.canonical_endpoints(texts[:count])


class Seq:
    """seq as the CLI makes it: milliseconds, strictly increasing."""
    last = 0

    @classmethod
    def next(cls):
        cls.last = max(cls.last + 1, int(time.time() * 1000))
        return cls.last


def times(ttl=600):
    now = int(time.time())
    return now, min(now + ttl, (now // PERIOD + 1) * PERIOD + GRACE)


# MARK: - permidd

class Directory:
    def __init__(self, products):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = WORK / "x.sqlite"
        self.log = open(WORK / "permidd.log", "wb")
        self.process = subprocess.Popen(
            [str(Path(products) / "permidd"), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--database", str(self.database), "--endpoint-policy", "any", "--allow-private",
             "--rate-limit", "off", "--log-level", "error"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"permidd exited with {self.process.returncode}: {self.log_text()}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("permidd did not answer /healthz within 15 s")

    def log_text(self):
        self.log.flush()
        return (WORK / "permidd.log").read_text(errors="replace")[-2000:]

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw
            return response.status, parsed, raw
        finally:
            connection.close()

    def put(self, record):
        return self.request("PUT", f"/v1/peers/{record['permid']}", record)

    def get(self, permid_text):
        return self.request("GET", f"/v1/peers/{permid_text}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


# MARK: - permid

class CLI:
    def __init__(self, products, directory, config):
        self.permid = str(Path(products) / "permid")
        self.directory = directory
        # The keyring and friends file of these runs, never the user's.
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(WORK / config)}
        for name in ("PERMID_KEY", "PERMID_SERVER"):
            self.env.pop(name, None)
        self.permids = {}

    timeouts = 0  # after two, permid is not run again: a hanging CLI fails the run quickly

    def run(self, *args, server=True):
        argv = [self.permid, *args] + (["--server", self.directory.url] if server else [])
        if CLI.timeouts >= 2:
            return None, "", "not run: permid timed out twice already"
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, env=self.env)
            return done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            CLI.timeouts += 1
            return None, "", f"timed out after {CLI_TIMEOUT} s: {' '.join(argv[1:])}"
        except OSError as error:
            return None, "", f"cannot run {argv[0]}: {error}"

    def new_key(self, name, kind):
        rc, out, err = self.run("keys", "new", name, "--type", kind, server=False)
        if rc != 0:
            raise RuntimeError(f"permid keys new {name} --type {kind}: exit {rc}: {err.strip()}")
        self.permids[name] = b64u_decode(out.strip())
        rc, out, err = self.run("id", "--key", name, "--quiet", server=False)
        if rc != 0 or b64u_decode(out.strip()) != self.permids[name]:
            raise RuntimeError(f"permid id --key {name} --quiet: exit {rc}: {out.strip()} {err.strip()}")
        return self.permids[name]

    def befriend(self, name, permid):
        rc, _, err = self.run("friends", "add", name, b64u(permid), "--force", server=False)
        if rc != 0:
            raise RuntimeError(f"permid friends add {name}: exit {rc}: {err.strip()}")


def short(text, size=300):
    text = text.strip()
    return text if len(text) <= size else text[:size] + "…"


# MARK: - Python's side of a sealed record

def fetch_blinded(directory, long_term):
    """The record under the blinded PermID of this epoch, else the previous one (as a friend resolves)."""
    epoch = int(time.time()) // PERIOD
    for e in (epoch, epoch - 1):
        blinded = blind_public(long_term, e)
        status, body, _ = directory.get(b64u(blinded))
        if status == 200:
            return e, blinded, body
    return epoch, blind_public(long_term, epoch), None


def verify_sealed_from_cli(record, blinded, epoch, ttl):
    """Everything Python checks on a record the CLI sealed, as a list of problems."""
    problems = []
    if not isinstance(record, dict):
        return [f"not a record: {record!r}"]
    if "endpoints" in record or "sealed" not in record:
        return [f"not a sealed record: members {sorted(record)}"]
    if record["permid"] != b64u(blinded):
        problems.append("record PermID is not the blinded PermID computed here")
    if S.sealed_problem(record):
        problems.append(f"boxes: {S.sealed_problem(record)}")
        return problems
    if not S.record_verifies(record):
        problems.append("signature does not verify under the blinded PermID")
    if S.padding_problem(record):
        problems.append(f"padding: {S.padding_problem(record)}")
    if record["expires_at"] > (epoch + 1) * PERIOD + GRACE:
        problems.append(f"expires_at {record['expires_at']} after the epoch's end + {GRACE} s")
    if not 0 < record["expires_at"] - record["issued_at"] <= ttl:
        problems.append(f"validity {record['expires_at'] - record['issued_at']} s, --ttl was {ttl}")
    return problems


def open_record(recipient, record):
    try:
        return S.open_record(recipient, record)
    except ValueError as error:
        return ("error", str(error))


def open_signed(key, endpoint_texts, seq, long_term=False, epoch=None):
    """An open (PROTOCOL-v1) record under the key's long-term PermID, or under a BlindedKey."""
    issued_at, expires_at = times()
    endpoints = []
    for text in endpoint_texts:
        ip, port = S.parse_endpoint(text)
        endpoints.append({"ip": str(ip), "port": port})
    if long_term:
        record = {"permid": b64u(key.permid), "sig_alg": "", "seq": seq, "issued_at": issued_at,
                  "expires_at": expires_at, "endpoints": endpoints}
        scheme = "ed25519" if key.kind in ("ed25519", "libnacl") else "ecdsa-sha256"
        record["sig_alg"] = scheme
        record["signature"] = b64u(S.long_term_sign(key, build_message(record))[1])
        return record
    record = {"permid": b64u(key.permid), "sig_alg": key.scheme, "seq": seq, "issued_at": issued_at,
              "expires_at": expires_at, "endpoints": endpoints}
    record["signature"] = b64u(key.sign(build_message(record)))
    return record


def problem_type(body):
    return body.get("type", "") if isinstance(body, dict) else ""


# MARK: - The checks

def check_python_seals(directory, cli, swift):
    """1: Python seals and signs under its blinded PermID; `permid resolve` opens its own box."""
    epoch = int(time.time()) // PERIOD
    for a, kind in enumerate(OWNER_KINDS):
        owner = py_key("owner", kind)
        cli.befriend(f"py-{kind}", owner.permid)
        blinded = BlindedKey(kind, owner.secret, owner.permid, epoch)
        expected = {fk: endpoints_for(a, b, [2, 1, 8, 3, 0][(a + b) % 5]) for b, fk in enumerate(FRIEND_KINDS)}
        issued_at, expires_at = times()
        record, _ = S.seal_for(blinded, [(swift[fk], expected[fk]) for fk in FRIEND_KINDS], Seq.next(),
                               issued_at, expires_at)
        status, body, _ = directory.put(record)
        check(f"(1) python {kind} owner: PUT sealed record under its blinded PermID", status in (200, 201),
              f"{status} {body}")
        for b, fk in enumerate(FRIEND_KINDS):
            rc, out, err = cli.run("resolve", f"py-{kind}", "--key", f"swift-{fk}")
            check(f"(1) python {kind} owner -> permid resolve --key {fk}: exactly its box's endpoints",
                  rc == 0 and out.splitlines() == expected[fk],
                  f"exit {rc}, stdout {out.splitlines()}, expected {expected[fk]}, stderr {short(err)}")
        fk = FRIEND_KINDS[a % len(FRIEND_KINDS)]
        rc, out, err = cli.run("resolve", f"py-{kind}", "--key", f"swift-{fk}", "--json")
        # A box with no endpoints is the friends-only withdrawal: "withdrawn", as for an open record.
        want = {"permid": b64u(owner.permid), "friend": f"py-{kind}",
                "status": "ok" if expected[fk] else "withdrawn", "sealed": True,
                "blinded_permid": record["permid"], "endpoints": expected[fk], "seq": record["seq"],
                "expires_at": record["expires_at"]}
        try:
            got = json.loads(out)
            ok = rc == 0 and isinstance(got, list) and len(got) == 1 and \
                all(got[0].get(k) == v for k, v in want.items())
        except ValueError:
            got, ok = out, False
        check(f"(1) python {kind} owner -> permid resolve --key {fk} --json", ok,
              f"exit {rc}, got {short(json.dumps(got) if not isinstance(got, str) else got, 600)}, "
              f"want {want}, stderr {short(err)}")


def check_cli_seals(directory, cli, products):
    """2: `permid announce --friends-only`; Python fetches, verifies and opens."""
    friends = {fk: py_key("friend", fk) for fk in FRIEND_KINDS}
    stranger = py_key("stranger", "ed25519")
    for fk, key in friends.items():
        cli.befriend(f"pyfriend-{fk}", key.permid)
    recipients = {fk: S.recipient_of(key) for fk, key in friends.items()}
    ttl = 600
    scenarios = [  # (CLI key type, friends, endpoint arguments, expected endpoints)
        ("ed25519", FRIEND_KINDS, endpoints_for(20, 0, 2)),
        ("libnacl", FRIEND_KINDS, endpoints_for(21, 0, 8)),
        ("p256", FRIEND_KINDS, 7777),
        ("p384", ["p384"], endpoints_for(23, 0, 1)),
        ("secp256k1", ["ed25519", "p256"], endpoints_for(24, 0, 3)),
    ]
    for kind, chosen, endpoints in scenarios:
        args = ["announce", "--friends-only"]
        for fk in chosen:
            args += ["--friend", f"pyfriend-{fk}"]
        if isinstance(endpoints, int):
            args += ["--port", str(endpoints)]
            endpoints = [f"127.0.0.1:{endpoints}"]  # the address the directory sees
        else:
            for text in endpoints:
                args += ["--endpoint", text]
        args += ["--key", f"swift-{kind}", "--ttl", str(ttl)]
        verify_cli_announce(directory, cli, f"(2) permid announce --friends-only ({kind} key, "
                            f"{len(chosen)} friend(s), {len(endpoints)} endpoint(s))", args,
                            cli.permids[f"swift-{kind}"], {fk: recipients[fk] for fk in chosen},
                            {fk: recipients[fk] for fk in FRIEND_KINDS if fk not in chosen} |
                            {"stranger": S.recipient_of(stranger)}, endpoints, ttl)

    # Without --friend: every friend in the list (a keyring whose friends can all be sealed to).
    other = CLI(products, directory, "config-all-friends")
    permid = other.new_key("swift-all", "ed25519")
    for fk, key in friends.items():
        other.befriend(f"pyfriend-{fk}", key.permid)
    endpoints = endpoints_for(25, 0, 2)
    args = ["announce", "--friends-only", "--key", "swift-all", "--ttl", str(ttl)]
    for text in endpoints:
        args += ["--endpoint", text]
    verify_cli_announce(directory, other, "(2) permid announce --friends-only without --friend (all 4 friends)",
                        args, permid, recipients, {"stranger": S.recipient_of(stranger)}, endpoints, ttl)


def verify_cli_announce(directory, cli, name, args, long_term, recipients, strangers, endpoints, ttl):
    rc, out, err = cli.run(*args)
    check(f"{name}: exit 0", rc == 0, f"exit {rc}, stdout {short(out)}, stderr {short(err)}")
    if rc != 0:
        return
    epoch, blinded, record = fetch_blinded(directory, long_term)
    if record is None:
        check(f"{name}: GET /v1/peers/{{blinded PermID computed in Python}}", False,
              f"no record under {b64u(blinded)} (this or the previous epoch)")
        return
    problems = verify_sealed_from_cli(record, blinded, epoch, ttl)
    check(f"{name}: record verifies, padded to 8 boxes of real lengths, within the epoch",
          not problems, "; ".join(problems) + f" (record {short(json.dumps(record), 400)})")
    if problems and "sealed" not in (record or {}):
        return
    lengths = {len(b64u_decode(box)) for box in record["sealed"]}
    real = {recipient.box_bytes for recipient in recipients.values()}
    check(f"{name}: padding boxes only of the real boxes' lengths {sorted(real)}", lengths <= real,
          f"box lengths {sorted(lengths)}")
    for fk, recipient in recipients.items():
        got = open_record(recipient, record)
        check(f"{name}: python {fk} friend opens its box", got is not None and got[1] == endpoints,
              f"opened {got}, expected {endpoints}")
    for who, recipient in strangers.items():
        got = open_record(recipient, record)
        check(f"{name}: {who} (not chosen) opens no box", got is None, f"opened {got}")


def check_not_shared(directory, cli, swift):
    """3: no box for the CLI's key → exit 6; with an open public record → that record, exit 0."""
    epoch = int(time.time()) // PERIOD
    stranger = py_key("stranger-3", "ed25519")
    for a, kind in enumerate(["ed25519", "p256"]):
        owner = py_key("lonely", kind)
        friend = f"lonely-{kind}"
        cli.befriend(friend, owner.permid)
        blinded = BlindedKey(kind, owner.secret, owner.permid, epoch)
        for_p256, for_stranger = endpoints_for(30 + a, 0, 2), endpoints_for(30 + a, 1, 2)
        issued_at, expires_at = times()
        record, _ = S.seal_for(blinded, [(swift["p256"], for_p256), (stranger.permid, for_stranger)],
                               Seq.next(), issued_at, expires_at)
        status, body, _ = directory.put(record)
        check(f"(3) python {kind} owner: PUT sealed record for the CLI's p256 key and a stranger",
              status in (200, 201), f"{status} {body}")
        rc, out, err = cli.run("resolve", friend, "--key", "swift-p256")
        check(f"(3) {friend}: --key p256 still opens its box", rc == 0 and out.splitlines() == for_p256,
              f"exit {rc}, stdout {out.splitlines()}, stderr {short(err)}")
        for fk in ("ed25519", "libnacl", "p384"):
            rc, out, err = cli.run("resolve", friend, "--key", f"swift-{fk}")
            check(f"(3) {friend}: --key {fk} has no box: exit 6, 'not shared with you', nothing printed",
                  rc == 6 and "not shared with you" in err and out.strip() == "",
                  f"exit {rc}, stdout {short(out)}, stderr {short(err)}")
        public = endpoints_for(32 + a, 0, 2)
        status, body, _ = directory.put(open_signed(owner, public, Seq.next(), long_term=True))
        check(f"(3) python {kind} owner: PUT open record under its long-term PermID", status in (200, 201),
              f"{status} {body}")
        rc, out, err = cli.run("resolve", friend, "--key", "swift-ed25519")
        check(f"(3) {friend}: --key ed25519 without a box prints the public record's endpoints, exit 0, a note",
              rc == 0 and out.splitlines() == public and err.strip() != "",
              f"exit {rc}, stdout {out.splitlines()}, expected {public}, stderr {short(err)}")


def check_rejections(directory):
    """4: the directory's answers to sealed.py's invalid records and to the limits."""
    epoch = int(time.time()) // PERIOD
    for kind, filler in (("ed25519", 208), ("p256", 273)):
        owner = py_key("invalid", kind)
        blinded = BlindedKey(kind, owner.secret, owner.permid, epoch)
        issued_at, expires_at = times()
        for entry in S.invalid_records(blinded, Seq.next(), issued_at, expires_at, f"interop-{RUN}-{kind}", filler):
            status, body, _ = directory.put(entry["record"])
            check(f"(4) {kind} {entry['name']}: 400 {entry['problem']}",
                  status == 400 and problem_type(body).endswith(entry["problem"]), f"{status} {body}")
        status, body, _ = directory.get(b64u(blinded.permid))
        check(f"(4) {kind}: nothing stored after the invalid records", status == 404, f"{status} {body}")
        issued_at, expires_at = times()
        seq = Seq.next()
        for entry in S.limit_records(blinded, seq, issued_at, expires_at, f"interop-{RUN}-{kind}", filler):
            Seq.last = max(Seq.last, entry["record"]["seq"])
            size = len(json.dumps(entry["record"]))
            status, body, _ = directory.put(entry["record"])
            check(f"(4) {kind} {entry['name']} ({size} bytes of JSON): accepted", status in (200, 201),
                  f"{status} {body}")
        big = S.signed_record(blinded, Seq.next(), *times(), [os.urandom(512) for _ in range(64)])
        status, body, _ = directory.put(big)
        check(f"(4) {kind} 64 boxes of 512 bytes ({len(json.dumps(big))} bytes, over 32 KiB): 413",
              status == 413 and problem_type(body).endswith("body-too-large"), f"{status} {body}")


def check_shared_seq(directory):
    """5: sealed and open records of one PermID share one seq sequence."""
    epoch = int(time.time()) // PERIOD
    owner = py_key("seq", "ed25519")
    blinded = BlindedKey("ed25519", owner.secret, owner.permid, epoch)
    friend = py_key("seq-friend", "p256")

    def sealed_at(seq):
        return S.seal_for(blinded, [(friend.permid, ["203.0.113.9:9"])], seq, *times())[0]

    steps = [("sealed seq 5", sealed_at(5), (201,)),
             ("open seq 5", open_signed(blinded, ["203.0.113.5:5"], 5), (409,)),
             ("open seq 6", open_signed(blinded, ["203.0.113.6:6"], 6), (200,)),
             ("sealed seq 6", sealed_at(6), (409,)),
             ("sealed seq 7", sealed_at(7), (200,)),
             ("open withdrawal seq 7", open_signed(blinded, [], 7), (409,)),
             ("open withdrawal seq 8", open_signed(blinded, [], 8), (200,))]
    stored = None
    for name, record, statuses in steps:
        status, body, _ = directory.put(record)
        stored_seq = stored["seq"] if stored else None
        ok = status in statuses
        if status == 409:
            ok = ok and isinstance(body, dict) and body.get("stored_seq") == stored_seq
        check(f"(5) one PermID: {name} -> {statuses[0]}" + (f" (stored_seq {stored_seq})" if statuses[0] == 409 else ""),
              ok, f"{status} {body}")
        if status in (200, 201):
            stored = record
        if stored is None:
            continue
        status, body, _ = directory.get(record["permid"])
        check(f"(5) one PermID: after {name}, GET serves seq {stored['seq']}", status == 200 and body == stored,
              f"{status} {short(json.dumps(body), 300)}")


def check_listing(directory):
    """6: ip= never matches a sealed record; listing, resolve and lookup return it unchanged."""
    epoch = int(time.time()) // PERIOD
    owner = py_key("listed", "p384")
    blinded = BlindedKey("p384", owner.secret, owner.permid, epoch)
    friend = py_key("listed-friend", "ed25519")
    ip = "198.51.100.99"
    record, _ = S.seal_for(blinded, [(friend.permid, [f"{ip}:4242", "[2001:db8::99]:4242"])], Seq.next(), *times())
    status, body, _ = directory.put(record)
    check("(6) PUT a sealed record whose box holds 198.51.100.99", status in (200, 201), f"{status} {body}")
    neighbour = py_key("neighbour", "ed25519")
    open_record_ = open_signed(neighbour, [f"{ip}:4242"], Seq.next(), long_term=True)
    status, body, _ = directory.put(open_record_)
    check("(6) PUT an open record with 198.51.100.99", status in (200, 201), f"{status} {body}")

    status, body, _ = directory.request("GET", f"/v1/peers?ip={ip}&limit=1000")
    records = body.get("records", []) if isinstance(body, dict) else []
    check("(6) GET /v1/peers?ip=198.51.100.99 lists the open record and no sealed one",
          status == 200 and open_record_ in records and not any("sealed" in r for r in records)
          and record["permid"] not in [r.get("permid") for r in records], f"{status} {short(json.dumps(body), 400)}")

    listed, cursor, pages = [], None, 0
    while pages < 50:
        path = "/v1/peers?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = directory.request("GET", path)
        if status != 200 or not isinstance(body, dict):
            break
        listed += body.get("records", [])
        cursor, pages = body.get("next_cursor"), pages + 1
        if not cursor:
            break
    found = [r for r in listed if r.get("permid") == record["permid"]]
    check("(6) GET /v1/peers lists the sealed record unchanged", found == [record],
          f"{status}, found {short(json.dumps(found), 300)}")

    status, body, _ = directory.get(record["permid"])
    check("(6) GET /v1/peers/{permid} returns the sealed record unchanged", status == 200 and body == record,
          f"{status} {short(json.dumps(body), 300)}")
    status, body, raw = directory.request("POST", "/v1/peers/lookup",
                                          {"permids": [record["permid"], open_record_["permid"]]})
    ok = status == 200 and isinstance(body, dict) and body.get("records") == [record, open_record_] \
        and body.get("missing") == []
    ok = ok and all(f'"{box}"'.encode() in raw for box in record["sealed"])
    check("(6) POST /v1/peers/lookup returns the sealed record byte for byte", ok,
          f"{status} {short(raw.decode(errors='replace'), 400)}")
    return [record]


def check_export_import(products, directory, records):
    """7: export from the stopped server's database, import into a new one, export again."""
    permidd = str(Path(products) / "permidd")
    first, second = WORK / "export-1.ndjson", WORK / "export-2.ndjson"

    def run(*args):
        try:
            done = subprocess.run([permidd, *args], capture_output=True, text=True, timeout=CLI_TIMEOUT)
            return done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired:
            return None, "timed out"

    def holds(path):
        try:
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        except (OSError, ValueError) as error:
            return False, str(error)
        return all(r in lines for r in records), f"{len(lines)} records"

    rc, out = run("export", "--database", str(directory.database), "--output", str(first))
    ok, detail = holds(first)
    check("(7) permidd export writes the sealed records unchanged", rc == 0 and ok, f"exit {rc} {short(out)} {detail}")
    rc, out = run("import", "--database", str(WORK / "y.sqlite"), str(first))
    check("(7) permidd import accepts them", rc == 0, f"exit {rc} {short(out)}")
    rc, out = run("export", "--database", str(WORK / "y.sqlite"), "--output", str(second))
    ok, detail = holds(second)
    check("(7) the imported database exports them unchanged", rc == 0 and ok, f"exit {rc} {short(out)} {detail}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("products", help="the folder holding the built permid and permidd")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated check numbers (default: all)")
    args = parser.parse_args()
    only = {int(n) for n in args.only.split(",")}
    started = time.time()
    directory = None
    listed = []
    try:
        directory = Directory(args.products)
        cli = CLI(args.products, directory, "config")
        swift = {}

        def keys():
            for kind in FRIEND_KINDS + ["secp256k1"]:
                swift[kind] = cli.new_key(f"swift-{kind}", kind)

        steps = [(0, keys),
                 (1, lambda: check_python_seals(directory, cli, swift)),
                 (2, lambda: check_cli_seals(directory, cli, args.products)),
                 (3, lambda: check_not_shared(directory, cli, swift)),
                 (4, lambda: check_rejections(directory)),
                 (5, lambda: check_shared_seq(directory)),
                 (6, lambda: listed.extend(check_listing(directory)))]
        keyring = True
        for number, step in steps:
            if number == 0 and not only & {1, 2, 3}:
                continue
            if number in (1, 2, 3) and not keyring:
                check(f"({number}) not run: the CLI's keys could not be made", False)
                continue
            if number in only or number == 0:
                try:
                    step()
                except Exception as error:  # noqa: BLE001 - one broken step must not hide the others
                    check(f"({number}) ran to the end" if number else "setup: permid keys new / id",
                          False, f"{type(error).__name__}: {error}")
                    keyring = keyring and number != 0
    except Exception as error:  # noqa: BLE001
        check("setup: permidd serve", False, f"{type(error).__name__}: {error}")
    finally:
        if directory is not None:
            directory.stop()
    if 7 in only and directory is not None:
        if not listed:  # 6 did not run: one sealed record to export
            directory = None
            try:
                directory = Directory(args.products)
                listed = check_listing(directory)
            except Exception as error:  # noqa: BLE001
                check("(7) setup", False, f"{type(error).__name__}: {error}")
            finally:
                if directory is not None:
                    directory.stop()
        if directory is not None:
            check_export_import(args.products, directory, listed)
    failed = RESULTS.count(False)
    print(f"{len(RESULTS) - failed} passed, {failed} failed ({time.time() - started:.1f} s)")
    if failed == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"work files (permidd.log, keyrings, exports) kept in {WORK}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
