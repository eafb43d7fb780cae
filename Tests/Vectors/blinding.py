#!/usr/bin/env python3
"""Blinding vectors (FRIENDS-v1 part A): blinding.json, independently of the Swift implementation.

Ed25519 group arithmetic is written here from RFC 8032 (§5.1 and its Python in §6), not taken from
libsodium; EC blinding uses Python integers for [h]Q and python-cryptography for the keys, the
public key of d' and ECDSA. `generate.py --out` writes blinding.json and `generate.py --check`
re-checks it (through `check`). The Swift test suite signs with its own blinded keys and asks this
script to verify what it made:

  python3 blinding.py --verify FILE     FILE: [{"long_term_permid", "epoch", "record"}, ...]
                                        prints "N passed, M failed"; exit 0 only if none failed
"""

import argparse
import hashlib
import struct
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from ipv8_rust_tunnels import PrivateKey as IPv8PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import (  # noqa: E402
    CURVES, LIBNACL_PK, LIBNACL_SK, Checker, b64u, b64u_decode, build_message, der_to_raw, endpoints,
    fixed_bytes, fixed_sect233k1_spki, load_json, permid_kind, render, verify,
)

PERIOD = 86_400
GRACE = 3_600
TAG = b"PERMID-DIRECTORY/1 BLIND\x00"
PREFIX_TAG = b"PERMID-DIRECTORY/1 BLIND-PREFIX\x00"
EPOCHS = [0, 20417, 20418, 2**32 - 1]
BLINDABLE = ["ed25519", "libnacl", "p256", "p384", "secp256k1"]
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")

# ---------------------------------------------------------------------------------------------
# Ed25519 from RFC 8032 §5.1 (extended homogeneous coordinates)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def ed_add(a, b):
    """RFC 8032 §5.1.4 point addition."""
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def ed_mul(s: int, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = ed_add(result, point)
        point = ed_add(point, point)
        s >>= 1
    return result


def ed_recover_x(y: int, sign: int):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    return P - x if (x & 1) != sign else x


def ed_compress(point) -> bytes:
    z_inv = pow(point[2], P - 2, P)
    x, y = point[0] * z_inv % P, point[1] * z_inv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed_decompress(data: bytes):
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = ed_recover_x(y, sign)
    if x is None:
        raise ValueError("not an Ed25519 point")
    return (x, y, 1, x * y % P)


ED_B = (lambda y: (ed_recover_x(y, 0), y, 1, ed_recover_x(y, 0) * y % P))(4 * pow(5, P - 2, P) % P)


def sha512(*parts: bytes) -> bytes:
    return hashlib.sha512(b"".join(parts)).digest()


def ed_expand(seed: bytes) -> tuple[int, bytes]:
    """RFC 8032 §5.1.5: the clamped scalar a and the prefix."""
    h = sha512(seed)
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


# ---------------------------------------------------------------------------------------------
# Short Weierstrass curves y² = x³ + ax + b over F_p, affine, Python integers

EC_PARAMS = {  # p, a, n
    "p256": (2**256 - 2**224 + 2**192 + 2**96 - 1, -3,
             0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "p384": (2**384 - 2**128 - 2**96 + 2**32 - 1, -3,
             0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973),
    "secp256k1": (2**256 - 2**32 - 977, 0,
                  0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141),
}


def ec_add(kind: str, a, b):
    p, coefficient, _ = EC_PARAMS[kind]
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % p == 0:
        return None
    if a == b:
        slope = (3 * a[0] * a[0] + coefficient) * pow(2 * a[1], p - 2, p) % p
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], p - 2, p) % p
    x = (slope * slope - a[0] - b[0]) % p
    return (x, (slope * (a[0] - x) - a[1]) % p)


def ec_mul(kind: str, k: int, point):
    result = None
    while k > 0:
        if k & 1:
            result = ec_add(kind, result, point)
        point = ec_add(kind, point, point)
        k >>= 1
    return result


def ec_bytes(kind: str) -> int:
    return (CURVES[kind].degree + 7) // 8


def ec_point_from(kind: str, encoded: bytes):
    size = ec_bytes(kind)
    assert encoded[0] == 4 and len(encoded) == 1 + 2 * size
    return int.from_bytes(encoded[1 : 1 + size], "big"), int.from_bytes(encoded[1 + size :], "big")


def ec_encode(kind: str, point) -> bytes:
    size = ec_bytes(kind)
    return b"\x04" + point[0].to_bytes(size, "big") + point[1].to_bytes(size, "big")


def ec_generator(kind: str):
    one = ec.derive_private_key(1, CURVES[kind].pyca())
    return ec_point_from(kind, one.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def spki_der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------------------------------------
# FRIENDS-v1 part A


def blinding_input(permid: bytes, epoch: int) -> bytes:
    return TAG + struct.pack(">H", len(permid)) + permid + struct.pack(">QQ", PERIOD, epoch)


def factor(permid: bytes, epoch: int) -> int:
    kind = permid_kind(permid)
    digest = sha512(blinding_input(permid, epoch))
    if kind in ("ed25519", "libnacl"):
        h = int.from_bytes(digest, "little") % L
    elif kind in EC_PARAMS:
        h = int.from_bytes(digest, "big") % EC_PARAMS[kind][2]
    else:
        raise ValueError(f"{kind} keys cannot be blinded")
    if h == 0:
        raise ValueError("h = 0")
    return h


def factor_hex(kind: str, h: int) -> str:
    """h in the key type's scalar encoding: Ed25519 32 bytes little-endian, EC big-endian (order's length)."""
    if kind in ("ed25519", "libnacl"):
        return h.to_bytes(32, "little").hex()
    return h.to_bytes((EC_PARAMS[kind][2].bit_length() + 7) // 8, "big").hex()


def blind_public(permid: bytes, epoch: int) -> bytes:
    """The blinded PermID from the long-term PermID alone: [h]A or [h]Q."""
    kind, h = permid_kind(permid), factor(permid, epoch)
    if kind in ("ed25519", "libnacl"):
        return ED25519_SPKI_PREFIX + ed_compress(ed_mul(h, ed_decompress(permid[-32:])))
    point = ec_point_from(kind, permid[-(1 + 2 * ec_bytes(kind)):])
    spki_prefix = permid[: -(1 + 2 * ec_bytes(kind))]
    return spki_prefix + ec_encode(kind, ec_mul(kind, h, point))


class BlindedKey:
    """A long-term private key blinded for one epoch, computed here."""

    def __init__(self, kind: str, secret: bytes | int, permid: bytes, epoch: int):
        self.kind, self.epoch = kind, epoch
        h = factor(permid, epoch)
        if kind in ("ed25519", "libnacl"):
            a, prefix = ed_expand(secret)
            self.scalar = h * a % L
            self.prefix = sha512(PREFIX_TAG, prefix, struct.pack(">Q", epoch))[:32]
            self.point = ed_compress(ed_mul(self.scalar, ED_B))
            self.permid = ED25519_SPKI_PREFIX + self.point
            self.scheme = "ed25519"
        else:
            self.scalar = h * secret % EC_PARAMS[kind][2]
            self.key = ec.derive_private_key(self.scalar, CURVES[kind].pyca())
            self.permid = spki_der(self.key.public_key())
            self.scheme = "ecdsa-sha256"

    def scalar_hex(self) -> str:
        return factor_hex(self.kind, self.scalar)

    def sign(self, message: bytes) -> bytes:
        if self.scheme == "ed25519":  # RFC 8032 §5.1.6 with a' and prefix'
            r = int.from_bytes(sha512(self.prefix, message), "little") % L
            commitment = ed_compress(ed_mul(r, ED_B))
            k = int.from_bytes(sha512(commitment, self.point, message), "little") % L
            return commitment + ((r + k * self.scalar) % L).to_bytes(32, "little")
        der = self.key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return der_to_raw(der, self.kind)


# ---------------------------------------------------------------------------------------------
# Keys: two per blindable type, from fixed bytes


class LongTermKey:
    def __init__(self, name: str, kind: str):
        self.name, self.kind = name, kind
        if kind == "ed25519":
            self.secret = fixed_bytes(name, 32)
            key = ed25519.Ed25519PrivateKey.from_private_bytes(self.secret)
            self.permid = spki_der(key.public_key())
            self.private_key, self.format = pkcs8(key), "pkcs8-pem"
        elif kind == "libnacl":
            crypt, self.secret = fixed_bytes(name + "-x25519", 32), fixed_bytes(name + "-ed25519", 32)
            raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
            self.permid = (LIBNACL_PK + x25519.X25519PrivateKey.from_private_bytes(crypt).public_key().public_bytes(*raw)
                           + ed25519.Ed25519PrivateKey.from_private_bytes(self.secret).public_key().public_bytes(*raw))
            self.private_key, self.format = b64u(LIBNACL_SK + crypt + self.secret), "ipv8-bin"
        else:
            n = EC_PARAMS[kind][2]
            self.secret = int.from_bytes(fixed_bytes(name, ec_bytes(kind) + 8), "big") % (n - 1) + 1
            key = ec.derive_private_key(self.secret, CURVES[kind].pyca())
            self.permid = spki_der(key.public_key())
            self.private_key, self.format = pkcs8(key), "pkcs8-pem"

    def entry(self) -> dict:
        return {"name": self.name, "kind": self.kind, "permid": b64u(self.permid),
                "private_key": self.private_key, "private_key_format": self.format}


def pkcs8(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def make_keys() -> list[LongTermKey]:
    return [LongTermKey(f"blind-{kind}-{i}", kind) for kind in BLINDABLE for i in (1, 2)]


def blinded_record(key: BlindedKey) -> dict:
    issued_at = key.epoch * PERIOD + 3_600
    record = {"permid": b64u(key.permid), "sig_alg": key.scheme, "seq": issued_at, "issued_at": issued_at,
              "expires_at": issued_at + 3_600, "endpoints": endpoints(2)}
    record["signature"] = b64u(key.sign(build_message(record)))
    return record


def make_blinding() -> dict:
    keys = make_keys()
    vectors = []
    for key in keys:
        for epoch in EPOCHS:
            blinded = BlindedKey(key.kind, key.secret, key.permid, epoch)
            record = blinded_record(blinded)
            vectors.append({
                "name": f"{key.name}-epoch-{epoch}",
                "key": key.name,
                "epoch": epoch,
                "input_hex": blinding_input(key.permid, epoch).hex(),
                "h_hex": factor_hex(key.kind, factor(key.permid, epoch)),
                "blinded_permid": b64u(blinded.permid),
                "blinded_scalar_hex": blinded.scalar_hex(),
                "record": record,
                "message_hex": build_message(record).hex(),
            })
    refused = [{"name": "sect233k1", "permid": b64u(fixed_sect233k1_spki()), "error": "unsupported-key-type"}]
    return {"period": PERIOD, "keys": [k.entry() for k in keys], "vectors": vectors, "refused": refused}


# ---------------------------------------------------------------------------------------------
# Checks


def check_record(c: Checker, what: str, long_term: bytes, epoch: int, record: dict) -> None:
    """A record under a blinded PermID: the PermID is the blinding of `long_term`, the scheme is the
    blinded one, and the signature verifies as a plain ed25519 / ecdsa-sha256 signature."""
    expected = blind_public(long_term, epoch)
    c.same(record["permid"], b64u(expected), f"{what}: blinded PermID")
    scheme = "ed25519" if permid_kind(long_term) in ("ed25519", "libnacl") else "ecdsa-sha256"
    c.same(record["sig_alg"], scheme, f"{what}: scheme")
    c.check(record["expires_at"] <= (epoch + 1) * PERIOD + GRACE, f"{what}: expires after the epoch's end + grace")
    signature = b64u_decode(record["signature"])
    c.check(verify(expected, scheme, build_message(record), signature), f"{what}: signature does not verify")


def check_arithmetic(c: Checker) -> None:
    """The curve constants and the Ed25519 code agree with python-cryptography."""
    for kind in EC_PARAMS:
        c.check(ec_mul(kind, EC_PARAMS[kind][2], ec_generator(kind)) is None, f"{kind}: n·G is not infinity")
    seed = fixed_bytes("blind-rfc8032-probe", 32)
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    a, _ = ed_expand(seed)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    c.same(ed_compress(ed_mul(a, ED_B)).hex(), raw.hex(), "RFC 8032 code: [a]B is not cryptography's public key")
    c.check(ed_mul(L, ED_B)[0] % P == 0, "RFC 8032 code: [ℓ]B is not the identity")


def check(c: Checker, directory: Path) -> None:
    check_arithmetic(c)
    data = load_json(c, directory / "blinding.json")
    c.same(data, make_blinding(), "blinding.json differs from regenerated")
    keys = {entry["name"]: entry for entry in data["keys"]}
    per_kind = {}
    for entry in data["keys"]:
        per_kind[entry["kind"]] = per_kind.get(entry["kind"], 0) + 1
        if entry["kind"] == "libnacl":  # IPv8 itself reads the key and derives the same PermID
            ipv8 = IPv8PrivateKey(b64u_decode(entry["private_key"]))
            c.same(b64u(ipv8.pub().key_to_bin()), entry["permid"], f"{entry['name']}: IPv8's public key")
    c.same(per_kind, {kind: 2 for kind in BLINDABLE}, "blinding.json: two keys per blindable type")
    for vector in data["vectors"]:
        name, key = vector["name"], keys[vector["key"]]
        long_term = b64u_decode(key["permid"])
        c.same(vector["input_hex"], blinding_input(long_term, vector["epoch"]).hex(), f"{name}: input")
        c.same(vector["h_hex"], factor_hex(key["kind"], factor(long_term, vector["epoch"])), f"{name}: h")
        c.same(vector["message_hex"], build_message(vector["record"]).hex(), f"{name}: message")
        c.same(vector["blinded_permid"], vector["record"]["permid"], f"{name}: record's PermID")
        check_record(c, name, long_term, vector["epoch"], vector["record"])
    epochs = {}
    for vector in data["vectors"]:
        epochs.setdefault(vector["key"], set()).add(vector["blinded_permid"])
    c.check(all(len(permids) == len(EPOCHS) for permids in epochs.values()), "a key's epochs share a blinded PermID")
    for entry in data["refused"]:
        try:
            factor(b64u_decode(entry["permid"]), 0)
            c.check(False, f"refused {entry['name']}: blinded")
        except ValueError:
            c.check(True, "")


def verify_file(path: Path) -> bool:
    """Checks records that another implementation signed with its blinded keys."""
    import json

    c = Checker()
    entries = json.loads(path.read_text())
    c.check(len(entries) > 0, "no records to verify")
    for index, entry in enumerate(entries):
        what = f"record {index} ({entry['long_term_permid'][:24]}…, epoch {entry['epoch']})"
        try:
            check_record(c, what, b64u_decode(entry["long_term_permid"]), entry["epoch"], entry["record"])
        except Exception as error:
            c.check(False, f"{what}: {type(error).__name__}: {error}")
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", type=Path, required=True, metavar="FILE", help="verify records signed elsewhere")
    args = parser.parse_args()
    return 0 if verify_file(args.verify) else 1


if __name__ == "__main__":
    sys.exit(main())
