#!/usr/bin/env python3
"""A PermID client in one file (docs/client.md): builds the signed message of docs/protocol.md §4.1,
signs a record, PUTs it to a directory, resolves it and verifies what came back. Needs only
`cryptography` and the standard library.

Usage: sign_and_verify.py --vectors Tests/Vectors/records.json   (rebuild and verify every valid vector)
       sign_and_verify.py --server http://127.0.0.1:8080           (announce, resolve, verify, replay)"""
import base64, json, socket, struct, sys, time, urllib.error, urllib.request
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

TAG = b"PERMID-DIRECTORY/1 ANNOUNCE\x00"
SCHEMES = {"ed25519": 1, "ecdsa-sha256": 2, "ecdsa-sha1": 3}
ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")

def b64u(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
def b64u_decode(text): return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

def message(record):
    """The bytes the owner signs (§4.1): tag, scheme, PermID, seq, validity, endpoints."""
    permid = b64u_decode(record["permid"])
    out = TAG + struct.pack(">BH", SCHEMES[record["sig_alg"]], len(permid)) + permid
    out += struct.pack(">QQQB", record["seq"], record["issued_at"], record["expires_at"], len(record["endpoints"]))
    for endpoint in record["endpoints"]:
        address = socket.inet_pton(socket.AF_INET6 if ":" in endpoint["ip"] else socket.AF_INET, endpoint["ip"])
        out += struct.pack(">B", 4 if len(address) == 4 else 6) + address + struct.pack(">H", endpoint["port"])
    return out

def verify(record, permid, now=None):
    """Raises unless `record` is `permid`'s, signed by it, and valid at `now` (§4.4 steps 2-4)."""
    if record["permid"] != permid: raise ValueError("a record of another PermID")
    raw, signature, alg = b64u_decode(permid), b64u_decode(record["signature"]), record["sig_alg"]
    if raw.startswith(b"LibNaCLPK:") and len(raw) == 74 or raw.startswith(ED25519_SPKI) and len(raw) == 44:
        if alg != "ed25519": raise ValueError("scheme not allowed for the key")
        ed25519.Ed25519PublicKey.from_public_bytes(raw[-32:]).verify(signature, message(record))
    else:
        key = serialization.load_der_public_key(raw)  # EC SubjectPublicKeyInfo
        size = (key.curve.key_size + 7) // 8
        if alg == "ed25519" or len(signature) != 2 * size: raise ValueError("bad scheme or signature length")
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        digest = hashes.SHA256() if alg == "ecdsa-sha256" else hashes.SHA1()
        key.verify(utils.encode_dss_signature(r, s), message(record), ec.ECDSA(digest))
    now = int(time.time()) if now is None else now
    if not record["issued_at"] < record["expires_at"] or not now < record["expires_at"]: raise ValueError("expired")

def sign(private_key, record):
    """Fills in `permid` and `signature`: Ed25519, or ECDSA P-256 as raw r ‖ s (never DER)."""
    public = private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    record["permid"] = b64u(public)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        record["signature"] = b64u(private_key.sign(message(record)))
    else:
        r, s = utils.decode_dss_signature(private_key.sign(message(record), ec.ECDSA(hashes.SHA256())))
        record["signature"] = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return record

def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response: return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error: return error.code, json.loads(error.read())

def announce_and_resolve(server, private_key, scheme, last_seq=0):
    _, seen = request("GET", f"{server}/v1/whoami")  # our address as the directory sees it, and its clock
    now = seen["server_time"]
    seq = min(max(last_seq + 1, int(time.time() * 1000)), int(time.time() * 1000) + 86_400_000)
    record = sign(private_key, {"sig_alg": scheme, "seq": seq, "issued_at": now, "expires_at": now + 3600,
                                "endpoints": [{"ip": seen["ip"], "port": 6881}]})
    status, stored = request("PUT", f"{server}/v1/peers/{record['permid']}", record)
    assert status == 201, (status, stored)
    status, served = request("GET", f"{server}/v1/peers/{record['permid']}")
    assert status == 200 and served == record, (status, served)
    verify(served, record["permid"])
    status, problem = request("PUT", f"{server}/v1/peers/{record['permid']}", record)  # a retry after a lost answer
    assert status == 409 and problem["stored_seq"] == seq, (status, problem)  # equal: already stored, done
    print(f"{scheme}: announced, resolved and verified seq {seq}; the replay got 409 with stored_seq {seq}")

if __name__ == "__main__":
    if sys.argv[1] == "--vectors":
        vectors, skipped = json.load(open(sys.argv[2]))["valid"], []
        for vector in vectors:
            assert message(vector["record"]).hex() == vector["message_hex"], vector["name"]
            try: verify(vector["record"], vector["record"]["permid"], now=vector["record"]["issued_at"])
            except UnsupportedAlgorithm: skipped.append(vector["name"]); continue  # binary curves: cryptography has none
            try: verify({**vector["record"], "seq": vector["record"]["seq"] + 1}, vector["record"]["permid"], now=0)
            except InvalidSignature: pass
            else: raise AssertionError(f"{vector['name']}: a changed seq still verifies")
        print(f"{len(vectors)} messages rebuilt byte for byte; {len(vectors) - len(skipped)} signatures verified "
              f"(and refused with seq + 1), "
              f"{len(skipped)} skipped (binary curves): {', '.join(skipped)}")
    else:
        announce_and_resolve(sys.argv[2], ed25519.Ed25519PrivateKey.generate(), "ed25519")
        announce_and_resolve(sys.argv[2], ec.generate_private_key(ec.SECP256R1()), "ecdsa-sha256")
