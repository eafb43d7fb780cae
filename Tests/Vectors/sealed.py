#!/usr/bin/env python3
"""Sealed records (FRIENDS-v1 part B): sealed.json, independently of the Swift implementation.

HPKE (RFC 9180, base mode, single shot) is pyhpke's, checked here against RFC 9180 A.2.1. The
Ed25519 → X25519 public key conversion is written from the math (u = (1 + y) / (1 − y) mod p on
blinding.py's RFC 8032 point decoding, refusing small-order and off-subgroup points as libsodium's
crypto_sign_ed25519_pk_to_curve25519 does), not taken from libsodium; the private side is
clamp(SHA-512(seed)[0..32]) used as the X25519 scalar (crypto_sign_ed25519_sk_to_curve25519).
Blinded keys and their signatures are blinding.py's. `generate.py --out` writes sealed.json and
`generate.py --check` re-checks it (through `check`).

  python3 sealed.py --open FILE     FILE: [{"record": {...sealed record...}, "friend_private_key": ...,
                                    "friend_private_key_format": "pkcs8-pem" | "sec1-pem" | "ipv8-bin",
                                    "endpoints": ["IP:PORT", ...] or null}, ...]
                                    (or "friend_private_key_file": a keyring key file, PEM or IPv8 binary,
                                    instead of the two friend_private_key members)
                                    Verifies each record: exactly one of endpoints/sealed, 1-64 boxes of
                                    1-512 bytes, the signature under its own PermID (ed25519 /
                                    ecdsa-sha256 as the PermID allows), the padding (a multiple of 8
                                    boxes, each 208, 241 or 273 bytes long); then opens the first box
                                    that opens for the friend (its plaintext strictly checked) and
                                    compares the endpoints, in order (null: no box may open).
                                    Prints "N passed, M failed"; exit 0 only if none failed.
  python3 sealed.py --self-test     seals records for fresh keys of every owner × friend type, writes
                                    them in the --open format and opens them with --open's code
  python3 sealed.py --out [DIR]     write only sealed.json (generate.py --out writes every file)
  python3 sealed.py --check [DIR]   check only sealed.json
"""

import argparse
import hashlib
import ipaddress
import json
import os
import random
import struct
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from ipv8_rust_tunnels import PrivateKey as IPv8PrivateKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey, KEMKeyPair

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import (  # noqa: E402
    CURVES, LIBNACL_PK, LIBNACL_SK, SCHEME_CODES, Checker, allowed_schemes, b64u, b64u_decode, der_to_raw,
    fixed_bytes, load_json, permid_kind, render, signature_bytes, verify,
)
from blinding import (  # noqa: E402
    BLINDABLE, EC_PARAMS, ED_B, GRACE, L, P, PERIOD, BlindedKey, LongTermKey, blind_public, ec_bytes, ed_add,
    ed_compress, ed_decompress, ed_expand, ed_mul, spki_der,
)

SEALED_TAG = b"PERMID-DIRECTORY/1 SEALED\x00"
SEAL_TAG = b"PERMID-DIRECTORY/1 SEAL\x00"
assert len(SEALED_TAG) == 26
PLAINTEXT_BYTES = 160
TAG_BYTES = 16  # ChaCha20-Poly1305
MAX_ENDPOINTS = 8
MAX_BOXES = 64
MAX_BOX_BYTES = 512
FRIEND_KINDS = ["ed25519", "libnacl", "p256", "p384"]
OWNER_KINDS = BLINDABLE
EPOCHS = [20417, 20418]

KEM_OF_KIND = {
    "ed25519": KEMId.DHKEM_X25519_HKDF_SHA256,
    "libnacl": KEMId.DHKEM_X25519_HKDF_SHA256,
    "p256": KEMId.DHKEM_P256_HKDF_SHA256,
    "p384": KEMId.DHKEM_P384_HKDF_SHA384,
}
KEM_NAMES = {
    KEMId.DHKEM_X25519_HKDF_SHA256: "DHKEM(X25519, HKDF-SHA256)",
    KEMId.DHKEM_P256_HKDF_SHA256: "DHKEM(P-256, HKDF-SHA256)",
    KEMId.DHKEM_P384_HKDF_SHA384: "DHKEM(P-384, HKDF-SHA384)",
}
ENC_BYTES = {KEMId.DHKEM_X25519_HKDF_SHA256: 32, KEMId.DHKEM_P256_HKDF_SHA256: 65, KEMId.DHKEM_P384_HKDF_SHA384: 97}
BOX_BYTES = {kem: enc + PLAINTEXT_BYTES + TAG_BYTES for kem, enc in ENC_BYTES.items()}  # 208, 241, 273
BOX_LENGTHS = sorted(BOX_BYTES.values())
EC_KEM_CURVES = {KEMId.DHKEM_P256_HKDF_SHA256: "p256", KEMId.DHKEM_P384_HKDF_SHA384: "p384"}


def suite(kem: KEMId) -> CipherSuite:
    """The HPKE suite of a box: the friend's KEM, HKDF-SHA256, ChaCha20-Poly1305 (for every KEM)."""
    return CipherSuite.new(kem, KDFId.HKDF_SHA256, AEADId.CHACHA20_POLY1305)


# ---------------------------------------------------------------------------------------------
# Endpoints: "IP:PORT" / "[IPv6]:PORT" text, and the wire form of PROTOCOL-v1 §3


def parse_endpoint(text: str) -> tuple:
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"bad endpoint {text!r}")
        ip = ipaddress.IPv6Address(host)
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise ValueError(f"bad endpoint {text!r}")
        ip = ipaddress.IPv4Address(host)
    if not port.isdigit() or not 1 <= int(port) <= 65535 or str(int(port)) != port:
        raise ValueError(f"bad port in {text!r}")
    return ip, int(port)


def endpoint_text(ip, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def canonical_endpoints(texts: list[str]) -> list[str]:
    return [endpoint_text(*parse_endpoint(t)) for t in texts]


def endpoint_problem(ip) -> str | None:
    """The addresses PROTOCOL-v1 §3 never allows as an endpoint."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return "IPv4-mapped IPv6 address"
    if ip.is_unspecified or ip.is_multicast or (ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255")):
        return "unspecified, multicast or broadcast address"
    return None


def plaintext(endpoints: list[str]) -> bytes:
    """u8 count ‖ endpoints in the wire form of PROTOCOL-v1 §3 ‖ zero bytes to 160."""
    if len(endpoints) > MAX_ENDPOINTS:
        raise ValueError("more than 8 endpoints")
    out = struct.pack(">B", len(endpoints))
    for text in endpoints:
        ip, port = parse_endpoint(text)
        out += struct.pack(">B", ip.version) + ip.packed + struct.pack(">H", port)
    return out + bytes(PLAINTEXT_BYTES - len(out))


def decode_plaintext(data: bytes) -> list[str]:
    """The endpoints of an opened box; ValueError unless it is exactly what plaintext() makes."""
    if len(data) != PLAINTEXT_BYTES:
        raise ValueError(f"plaintext of {len(data)} bytes")
    count, pos, result = data[0], 1, []
    if count > MAX_ENDPOINTS:
        raise ValueError(f"count {count}")
    for _ in range(count):
        family = data[pos]
        size = {4: 4, 6: 16}.get(family)
        if size is None:
            raise ValueError(f"family {family}")
        ip = ipaddress.ip_address(data[pos + 1 : pos + 1 + size])
        port = int.from_bytes(data[pos + 1 + size : pos + 3 + size], "big")
        pos += 3 + size
        if port == 0:
            raise ValueError("port 0")
        if endpoint_problem(ip):
            raise ValueError(endpoint_problem(ip))
        result.append(endpoint_text(ip, port))
    if any(data[pos:]):
        raise ValueError("padding is not zero")
    if len(set(result)) != len(result):
        raise ValueError("duplicate endpoint")
    return result


# ---------------------------------------------------------------------------------------------
# Keys: the friend's KEM public key from its PermID, and its KEM private key from its private key


def ed25519_to_x25519_public(point: bytes) -> bytes:
    """u = (1 + y) / (1 − y) mod p of an Ed25519 public key, refusing what libsodium refuses."""
    a = ed_decompress(point)  # RFC 8032 decoding: y < p, on the curve (ValueError otherwise)

    def identity(q) -> bool:
        return q[0] % P == 0 and (q[1] - q[2]) % P == 0

    if identity(ed_mul(8, a)):
        raise ValueError("Ed25519 key of small order")
    if not identity(ed_mul(L, a)):
        raise ValueError("Ed25519 key not in the prime-order subgroup")
    y = a[1] * pow(a[2], P - 2, P) % P
    return ((1 + y) * pow((1 - y) % P, P - 2, P) % P).to_bytes(32, "little")


def ed25519_seed_to_x25519_private(seed: bytes) -> bytes:
    """clamp(SHA-512(seed)[0..32]), little-endian: crypto_sign_ed25519_sk_to_curve25519."""
    return ed_expand(seed)[0].to_bytes(32, "little")


def friend_kem(permid: bytes) -> tuple[KEMId, bytes]:
    """(KEM, serialized KEM public key) of a friend's long-term PermID."""
    kind = permid_kind(permid)
    if kind == "ed25519":
        return KEM_OF_KIND[kind], ed25519_to_x25519_public(permid[-32:])
    if kind == "libnacl":
        if len(permid) != 74:
            raise ValueError("LibNaCLPK: PermID of the wrong length")
        return KEM_OF_KIND[kind], permid[10:42]
    if kind in ("p256", "p384"):
        point = permid[-(1 + 2 * ec_bytes(kind)):]
        ec.EllipticCurvePublicKey.from_encoded_point(CURVES[kind].pyca(), point)  # on the curve
        return KEM_OF_KIND[kind], point
    raise ValueError(f"a {kind} key cannot be a friend of a sealed record")


class Recipient:
    """A friend's private key as an HPKE recipient."""

    def __init__(self, kem: KEMId, private: bytes, permid: bytes):
        self.kem, self.private, self.permid = kem, private, permid
        self.key = suite(kem).kem.deserialize_private_key(private)
        if kem == KEMId.DHKEM_X25519_HKDF_SHA256:
            self.public = self.key.raw.public_key().public_bytes_raw()
        else:
            self.public = self.key.raw.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    @property
    def box_bytes(self) -> int:
        return BOX_BYTES[self.kem]


def recipient_from_private(private_key: str, private_key_format: str) -> Recipient:
    """The HPKE recipient of a private key in the formats of keys.json (pkcs8-pem, sec1-pem, ipv8-bin)."""
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    if private_key_format == "ipv8-bin":
        data = b64u_decode(private_key)
        if data.startswith(LIBNACL_SK):
            if len(data) != 74:
                raise ValueError("LibNaCLSK: key of the wrong length")
            crypt, seed = data[10:42], data[42:]
            permid = (LIBNACL_PK + x25519.X25519PrivateKey.from_private_bytes(crypt).public_key().public_bytes(*raw)
                      + ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*raw))
            return Recipient(KEMId.DHKEM_X25519_HKDF_SHA256, crypt, permid)
        key = serialization.load_der_private_key(data, None)
    elif private_key_format in ("pkcs8-pem", "sec1-pem"):
        key = serialization.load_pem_private_key(private_key.encode(), None)
    else:
        raise ValueError(f"unknown private key format {private_key_format!r}")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        return Recipient(KEMId.DHKEM_X25519_HKDF_SHA256, ed25519_seed_to_x25519_private(seed),
                         spki_der(key.public_key()))
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in ("secp256r1", "secp384r1"):
        kind = "p256" if key.curve.name == "secp256r1" else "p384"
        scalar = key.private_numbers().private_value.to_bytes(ec_bytes(kind), "big")
        return Recipient(KEM_OF_KIND[kind], scalar, spki_der(key.public_key()))
    raise ValueError(f"a {type(key).__name__} cannot open sealed boxes")


def recipient_from_file(path: str) -> Recipient:
    """The recipient of a key file as the CLI's keyring holds it: PEM (PKCS#8 or SEC1), or IPv8's
    binary key_to_bin() (`LibNaCLSK:` ‖ 64 bytes, or SEC1 DER)."""
    data = Path(path).read_bytes()
    if data.startswith(b"-----"):
        return recipient_from_private(data.decode(), "pkcs8-pem")
    return recipient_from_private(b64u(data), "ipv8-bin")


def recipient_of(key: LongTermKey) -> Recipient:
    return recipient_from_private(key.private_key, key.format)


def ephemeral_private(kem: KEMId, label: str) -> bytes:
    """A fixed ephemeral KEM private key: X25519 32 bytes; EC a scalar in [1, n−1], big-endian."""
    if kem == KEMId.DHKEM_X25519_HKDF_SHA256:
        return fixed_bytes(label, 32)
    kind = EC_KEM_CURVES[kem]
    n = EC_PARAMS[kind][2]
    return (int.from_bytes(fixed_bytes(label, ec_bytes(kind) + 8), "big") % (n - 1) + 1).to_bytes(ec_bytes(kind), "big")


# ---------------------------------------------------------------------------------------------
# Boxes


def seal_info(record_permid: bytes, seq: int) -> bytes:
    return SEAL_TAG + struct.pack(">H", len(record_permid)) + record_permid + struct.pack(">Q", seq)


def seal(friend_permid: bytes, record_permid: bytes, seq: int, endpoints: list[str],
         ephemeral: bytes | None = None) -> tuple[bytes, dict]:
    """box = enc ‖ ciphertext, and the details (info, plaintext, enc); a random ephemeral key if None."""
    kem, public = friend_kem(friend_permid)
    hpke = suite(kem)
    pkr = hpke.kem.deserialize_public_key(public)
    eks = None
    if ephemeral is not None:
        sk = hpke.kem.deserialize_private_key(ephemeral)
        eks = KEMKeyPair(sk, KEMKey.from_pyca_cryptography_key(sk.raw.public_key()))
    info, message = seal_info(record_permid, seq), plaintext(endpoints)
    enc, sender = hpke.create_sender_context(pkr, info, eks=eks)
    box = enc + sender.seal(message, b"")
    assert len(box) == BOX_BYTES[kem]
    return box, {"info": info, "plaintext": message, "enc": enc}


def open_box(recipient: Recipient, box: bytes, info: bytes) -> bytes | None:
    """The plaintext, or None if this box is not for the recipient (any failure)."""
    if len(box) != recipient.box_bytes:
        return None
    n = ENC_BYTES[recipient.kem]
    try:
        context = suite(recipient.kem).create_recipient_context(box[:n], recipient.key, info)
        return context.open(box[n:], b"")
    except Exception:  # noqa: BLE001 - a wrong key, a wrong info or garbage
        return None


# ---------------------------------------------------------------------------------------------
# Sealed records


def sealed_message(permid: bytes, sig_alg: str, seq: int, issued_at: int, expires_at: int,
                   boxes: list[bytes]) -> bytes:
    out = SEALED_TAG + struct.pack(">BH", SCHEME_CODES[sig_alg], len(permid)) + permid
    out += struct.pack(">QQQB", seq, issued_at, expires_at, len(boxes))
    for box in boxes:
        out += struct.pack(">H", len(box)) + box
    return out


def build_sealed_message(record: dict) -> bytes:
    """The signed message of FRIENDS-v1 part B, built from a JSON sealed record."""
    return sealed_message(b64u_decode(record["permid"]), record["sig_alg"], record["seq"], record["issued_at"],
                          record["expires_at"], [b64u_decode(box) for box in record["sealed"]])


def signed_record(key: BlindedKey, seq: int, issued_at: int, expires_at: int, boxes: list[bytes]) -> dict:
    record = {"permid": b64u(key.permid), "sig_alg": key.scheme, "seq": seq, "issued_at": issued_at,
              "expires_at": expires_at, "sealed": [b64u(box) for box in boxes]}
    record["signature"] = b64u(key.sign(build_sealed_message(record)))
    return record


def pad(boxes: list[bytes], random_bytes, order) -> tuple[list[bytes], list[int]]:
    """Pads to a multiple of 8 with random boxes whose lengths cycle through the real boxes' lengths,
    then places all boxes in the order given by `order(n)` (a permutation of range(n)). Returns the
    list and where each real box went."""
    assert boxes, "at least one real box"
    count = -(-len(boxes) // 8) * 8
    padding = [random_bytes(len(boxes[i % len(boxes)]), i) for i in range(count - len(boxes))]
    everything = boxes + padding
    permutation = order(count)  # permutation[i]: the position of everything[i]
    placed = [b""] * count
    for i, position in enumerate(permutation):
        placed[position] = everything[i]
    return placed, permutation[: len(boxes)]


def sealed_problem(record) -> str | None:
    """The FRIENDS-v1 part B error of a record whose other members are valid: `malformed-json`
    (shape: exactly one of endpoints / sealed, sealed an array of strings) or `invalid-sealed`
    (1 to 64 boxes, each strict base64url of 1 to 512 bytes); None if the boxes are acceptable."""
    if not isinstance(record, dict) or ("endpoints" in record) == ("sealed" in record):
        return "malformed-json"
    if "endpoints" in record:
        return None
    boxes = record["sealed"]
    if not isinstance(boxes, list) or not all(isinstance(box, str) for box in boxes):
        return "malformed-json"
    if not 1 <= len(boxes) <= MAX_BOXES:
        return "invalid-sealed"
    for box in boxes:
        try:
            size = len(b64u_decode(box))
        except ValueError:
            return "invalid-sealed"
        if not 1 <= size <= MAX_BOX_BYTES:
            return "invalid-sealed"
    return None


def record_verifies(record: dict) -> bool:
    """The scheme is allowed for the record's PermID, the signature has its length and verifies."""
    permid = b64u_decode(record["permid"])
    signature = b64u_decode(record["signature"])
    kind = permid_kind(permid)
    return (record["sig_alg"] in allowed_schemes(kind) and len(signature) == signature_bytes(kind)
            and verify(permid, record["sig_alg"], build_sealed_message(record), signature))


def padding_problem(record: dict) -> str | None:
    """What tools must do: a multiple of 8 boxes, each as long as some real box (208, 241 or 273 bytes)."""
    boxes = [b64u_decode(box) for box in record["sealed"]]
    if len(boxes) % 8:
        return f"{len(boxes)} boxes, not a multiple of 8"
    lengths = sorted({len(box) for box in boxes})
    if not set(lengths) <= set(BOX_LENGTHS):
        return f"box lengths {lengths}, not all among {BOX_LENGTHS}"
    return None


def open_record(recipient: Recipient, record: dict) -> tuple[int, list[str]] | None:
    """(index, endpoints) of the first box of the recipient's length that opens, or None.
    A box that opens with a malformed plaintext is an error (ValueError), not a box to skip."""
    info = seal_info(b64u_decode(record["permid"]), record["seq"])
    for index, text in enumerate(record["sealed"]):
        opened = open_box(recipient, b64u_decode(text), info)
        if opened is not None:
            try:
                return index, decode_plaintext(opened)
            except ValueError as error:
                raise ValueError(f"box {index} opens but its plaintext is malformed: {error}") from None
    return None


# ---------------------------------------------------------------------------------------------
# sealed.json


def stream(label: str, size: int) -> bytes:
    """Fixed "random" bytes for padding boxes: SHAKE-256("permid-vector-<label>")."""
    return hashlib.shake_256(b"permid-vector-" + label.encode()).digest(size)


def fixed_order(label: str):
    def order(n: int) -> list[int]:
        ranked = sorted(range(n), key=lambda i: hashlib.sha256(f"permid-vector-{label}-{i}".encode()).digest())
        positions = [0] * n
        for position, i in enumerate(ranked):
            positions[i] = position
        return positions
    return order


ENDPOINTS = {
    0: [],
    1: ["1.2.3.4:5"],
    2: ["1.2.3.4:5", "[2001:db8::1]:6881"],
    3: ["198.51.100.7:7000", "[2001:db8::7]:7000", "[::1]:65535"],
    8: ["192.0.2.1:1", "198.51.100.200:65535", "[2001:db8::1:0:0:1]:8080", "203.0.113.77:443",
        "[2001:db8:0:1:1:1:1:1]:6881", "[2001:db8:85a3::8a2e:370:7334]:51413", "[2001:db8::abcd]:6882",
        "203.0.113.254:6883"],
}
assert all(canonical_endpoints(e) == e for e in ENDPOINTS.values())


def make_keys() -> tuple[list[LongTermKey], list[LongTermKey]]:
    friends = [LongTermKey(f"sealed-friend-{kind}-{i}", kind) for kind in FRIEND_KINDS for i in (1, 2)]
    owners = [LongTermKey(f"sealed-owner-{kind}", kind) for kind in OWNER_KINDS]
    return friends, owners


def key_entry(key: LongTermKey, role: str) -> dict:
    entry = {**key.entry(), "role": role}
    if role == "friend":
        recipient = recipient_of(key)
        kem, public = friend_kem(key.permid)
        assert kem == recipient.kem and public == recipient.public
        entry.update({"kem": KEM_NAMES[kem], "kem_id": kem.value, "box_bytes": BOX_BYTES[kem],
                      "kem_private_hex": recipient.private.hex(), "kem_public_hex": public.hex()})
    return entry


def box_vectors(friends, owners) -> list[dict]:
    counts = [0, 1, 2, 8, 3, 1, 2, 8]
    seqs = [1, 2, 2**53 - 1, 1764028800000, 7, 2**32, 1000, 3]
    result = []
    for i, friend in enumerate(friends):
        owner = owners[i % len(owners)]
        record_permid = blind_public(owner.permid, EPOCHS[i % 2])
        kem = KEM_OF_KIND[friend.kind]
        ephemeral = ephemeral_private(kem, f"sealed-box-{friend.name}-ephemeral")
        endpoints = ENDPOINTS[counts[i]]
        box, details = seal(friend.permid, record_permid, seqs[i], endpoints, ephemeral)
        result.append({
            "name": f"box-for-{friend.name}",
            "friend": friend.name,
            "record_permid": b64u(record_permid),
            "seq": seqs[i],
            "endpoints": endpoints,
            "info_hex": details["info"].hex(),
            "plaintext_hex": details["plaintext"].hex(),
            "ephemeral_private_hex": ephemeral.hex(),
            "enc_hex": details["enc"].hex(),
            "box": b64u(box),
        })
    return result


FRIEND_NAMES = [f"sealed-friend-{kind}-{i}" for kind in FRIEND_KINDS for i in (1, 2)]

# (name, owner kind, epoch, [(friend name, endpoint count), ...] one box each in this order,
#  whether expires_at is the latest allowed (the epoch's end + grace) rather than issued_at + 1 h)
RECORD_SPECS = [
    ("ed25519-owner-all-friends", "ed25519", 20417, list(zip(FRIEND_NAMES, [2, 1, 8, 0, 2, 1, 8, 0])), False),
    ("libnacl-owner-two-x25519-friends", "libnacl", 20417,
     [("sealed-friend-ed25519-1", 2), ("sealed-friend-libnacl-1", 0)], False),
    ("p256-owner-mixed-friends", "p256", 20418,
     [("sealed-friend-p256-1", 1), ("sealed-friend-p384-1", 8), ("sealed-friend-ed25519-2", 3)], False),
    ("p384-owner-three-friends", "p384", 20418,
     [("sealed-friend-p256-2", 2), ("sealed-friend-p384-2", 3), ("sealed-friend-libnacl-2", 1)], False),
    ("secp256k1-owner-nine-boxes-one-friend-twice", "secp256k1", 20417,
     [(friend, 2) for friend in FRIEND_NAMES] + [("sealed-friend-ed25519-1", 8)], True),
    ("ed25519-owner-one-p384-friend", "ed25519", 20418, [("sealed-friend-p384-2", 8)], True),
]


def record_times(epoch: int, longest: bool) -> tuple[int, int, int]:
    issued_at = epoch * PERIOD + 3_600
    expires_at = (epoch + 1) * PERIOD + GRACE if longest else issued_at + 3_600
    return issued_at * 1000, issued_at, expires_at


def record_vectors(friends, owners) -> list[dict]:
    by_name = {k.name: k for k in friends}
    owner_by_kind = {k.kind: k for k in owners}
    result = []
    for name, owner_kind, epoch, boxes_for, longest in RECORD_SPECS:
        owner = owner_by_kind[owner_kind]
        blinded = BlindedKey(owner.kind, owner.secret, owner.permid, epoch)
        seq, issued_at, expires_at = record_times(epoch, longest)
        real = []
        for j, (friend_name, count) in enumerate(boxes_for):
            friend = by_name[friend_name]
            endpoints = ENDPOINTS[count]
            ephemeral = ephemeral_private(KEM_OF_KIND[friend.kind], f"sealed-record-{name}-box-{j}")
            box, _ = seal(friend.permid, blinded.permid, seq, endpoints, ephemeral)
            real.append((friend_name, endpoints, box))
        boxes, positions = pad([box for _, _, box in real],
                               lambda size, i, name=name: stream(f"{name}-padding-{i}", size), fixed_order(name))
        record = signed_record(blinded, seq, issued_at, expires_at, boxes)
        opens = {}
        for (friend_name, endpoints, _), position in sorted(zip(real, positions), key=lambda x: x[1]):
            opens.setdefault(friend_name, {"friend": friend_name, "box_index": position, "endpoints": endpoints})
        result.append({
            "name": name,
            "owner": owner.name,
            "epoch": epoch,
            "record": record,
            "message_hex": build_sealed_message(record).hex(),
            "opens": sorted(opens.values(), key=lambda o: o["friend"]),
            "strangers": sorted(k.name for k in friends if k.name not in opens),
        })
    return result


def invalid_records(key: BlindedKey, seq: int, issued_at: int, expires_at: int, label: str,
                    filler: int = 24) -> list[dict]:
    """Records whose only defect is in the boxes or the endpoints/sealed exclusivity, signed by `key`
    (over their own message where there is one: `signature_covers_record`; otherwise over the message
    of the valid record they were made from, given in `message_hex`). Their other boxes are random
    bytes of `filler` length (short in the vectors, to keep the file small). Used by the vectors and,
    with fresh times, by Tests/sealed/interop.py."""
    def boxes(n: int, size: int = filler) -> list[bytes]:
        return [stream(f"{label}-invalid-{n}-{size}-{i}", size) for i in range(n)]

    def entry(name, problem, box_list, tweak=None):
        record = signed_record(key, seq, issued_at, expires_at, box_list)
        message = build_sealed_message(record)
        covers = tweak is None
        if tweak:
            tweak(record)
        return {"name": name, "problem": problem, "record": record, "message_hex": message.hex(),
                "signature_covers_record": covers}

    def replace(member, value):
        def tweak(record):
            signature = record.pop("signature")
            record[member] = value
            record["signature"] = signature
        return tweak

    eight = boxes(8)
    not_b64u = b64u(eight[3])
    not_b64u = not_b64u[:10] + "+" + not_b64u[11:]
    return [
        entry("no-boxes", "invalid-sealed", []),
        entry("65-boxes", "invalid-sealed", boxes(65)),
        entry("empty-box", "invalid-sealed", eight[:5] + [b""] + eight[6:]),
        entry("box-of-513-bytes", "invalid-sealed", eight[:7] + boxes(1, 513)),
        entry("box-not-base64url", "invalid-sealed", eight,
              tweak=lambda r: r["sealed"].__setitem__(3, not_b64u)),
        entry("box-with-base64-padding", "invalid-sealed", eight,
              tweak=lambda r: r["sealed"].__setitem__(2, b64u(stream(f"{label}-pad", 3 * (filler // 3) + 2)) + "=")),
        entry("both-endpoints-and-sealed", "malformed-json", eight,
              tweak=replace("endpoints", [{"ip": "203.0.113.5", "port": 6881}])),
        entry("both-empty-endpoints-and-sealed", "malformed-json", eight, tweak=replace("endpoints", [])),
        entry("neither-endpoints-nor-sealed", "malformed-json", eight, tweak=lambda r: r.pop("sealed")),
        entry("sealed-not-an-array", "malformed-json", eight, tweak=replace("sealed", b64u(eight[0]))),
        entry("sealed-null", "malformed-json", eight, tweak=replace("sealed", None)),
        entry("sealed-element-not-a-string", "malformed-json", eight,
              tweak=lambda r: r["sealed"].__setitem__(1, 12345)),
        entry("sealed-element-null", "malformed-json", eight,
              tweak=lambda r: r["sealed"].__setitem__(1, None)),
    ]


def limit_records(key: BlindedKey, seq: int, issued_at: int, expires_at: int, label: str,
                  filler: int = 24) -> list[dict]:
    """Records at the limits of the box rules, which the directory accepts (it cannot read boxes).
    The `seq` of each is one more than the one before."""
    def boxes(n: int, size: int) -> list[bytes]:
        return [stream(f"{label}-limit-{n}-{size}-{i}", size) for i in range(n)]

    result = []
    for i, (name, box_list) in enumerate([
        ("one-box-of-1-byte", boxes(1, 1)),
        ("one-box-of-512-bytes", boxes(1, 512)),
        ("64-boxes", boxes(64, filler)),
        ("mixed-lengths-1-to-512", [stream(f"{label}-limit-mixed-{n}", n) for n in (1, 2, 3, 207, 208, 241, 273, 512)]),
    ]):
        record = signed_record(key, seq + i, issued_at, expires_at, box_list)
        result.append({"name": name, "problem": None, "record": record,
                       "message_hex": build_sealed_message(record).hex()})
    return result


def moved_vectors(friends, owners, records) -> list[dict]:
    """A box copied from a record into one of another seq, PermID or epoch does not open there."""
    source = next(r for r in records if r["name"] == "libnacl-owner-two-x25519-friends")
    friend = "sealed-friend-ed25519-1"
    index = next(o["box_index"] for o in source["opens"] if o["friend"] == friend)
    box = b64u_decode(source["record"]["sealed"][index])
    owner_by_kind = {k.kind: k for k in owners}
    seq = source["record"]["seq"]
    result = []
    for name, owner_kind, epoch, new_seq in [
        ("moved-to-the-next-seq", "libnacl", 20417, seq + 1),
        ("moved-to-another-permid", "p256", 20417, seq),
        ("moved-to-the-next-epoch", "libnacl", 20418, seq),
    ]:
        owner = owner_by_kind[owner_kind]
        blinded = BlindedKey(owner.kind, owner.secret, owner.permid, epoch)
        issued_at = source["record"]["issued_at"] + (epoch - 20417) * PERIOD
        boxes, positions = pad([box], lambda size, i, name=name: stream(f"{name}-padding-{i}", size), fixed_order(name))
        record = signed_record(blinded, new_seq, issued_at, issued_at + 3_600, boxes)
        result.append({
            "name": name, "friend": friend, "from_record": source["name"], "from_box_index": index,
            "box": b64u(box), "owner": owner.name, "epoch": epoch, "record": record,
            "message_hex": build_sealed_message(record).hex(), "box_index": positions[0],
        })
    return result


def make_sealed() -> dict:
    friends, owners = make_keys()
    owner_by_kind = {k.kind: k for k in owners}
    records = record_vectors(friends, owners)
    invalid, limits = [], []
    for kind in ("ed25519", "p256"):
        owner = owner_by_kind[kind]
        blinded = BlindedKey(owner.kind, owner.secret, owner.permid, 20417)
        seq, issued_at, expires_at = record_times(20417, False)
        for e in invalid_records(blinded, seq, issued_at, expires_at, f"sealed-{kind}"):
            invalid.append({**e, "name": f"{kind}-{e['name']}", "owner": owner.name, "epoch": 20417})
        for e in limit_records(blinded, seq, issued_at, expires_at, f"sealed-{kind}"):
            limits.append({**e, "name": f"{kind}-{e['name']}", "owner": owner.name, "epoch": 20417})
    return {
        "period": PERIOD,
        "seal_tag_hex": SEAL_TAG.hex(),
        "sealed_tag_hex": SEALED_TAG.hex(),
        "plaintext_bytes": PLAINTEXT_BYTES,
        "kdf": "HKDF-SHA256",
        "aead": "ChaCha20-Poly1305",
        "keys": [key_entry(k, "friend") for k in friends] + [key_entry(k, "owner") for k in owners],
        "boxes": box_vectors(friends, owners),
        "records": records,
        "invalid": invalid,
        "limits": limits,
        "moved": moved_vectors(friends, owners, records),
    }


# ---------------------------------------------------------------------------------------------
# Checks


RFC9180_A21 = {  # RFC 9180 A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base, seq 0
    "info": "4f6465206f6e2061204772656369616e2055726e",
    "skEm": "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
    "pkEm": "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    "pkRm": "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
    "skRm": "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
    "pt": "4265617574792069732074727574682c20747275746820626561757479",
    "aad": "436f756e742d30",
    "ct": "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
}


def check_primitives(c: Checker) -> None:
    """pyhpke reproduces RFC 9180 A.2.1; the Ed25519 → X25519 conversion from the math agrees with
    the X25519 public key (python-cryptography) of clamp(SHA-512(seed)[0..32]); bad points are refused."""
    v = {k: bytes.fromhex(h) for k, h in RFC9180_A21.items()}
    hpke = suite(KEMId.DHKEM_X25519_HKDF_SHA256)
    sk = hpke.kem.deserialize_private_key(v["skEm"])
    eks = KEMKeyPair(sk, KEMKey.from_pyca_cryptography_key(sk.raw.public_key()))
    enc, sender = hpke.create_sender_context(hpke.kem.deserialize_public_key(v["pkRm"]), v["info"], eks=eks)
    c.same(enc.hex(), RFC9180_A21["pkEm"], "RFC 9180 A.2.1: enc")
    c.same(sender.seal(v["pt"], v["aad"]).hex(), RFC9180_A21["ct"], "RFC 9180 A.2.1: ciphertext")
    receiver = hpke.create_recipient_context(enc, hpke.kem.deserialize_private_key(v["skRm"]), v["info"])
    c.same(receiver.open(v["ct"], v["aad"]).hex(), RFC9180_A21["pt"], "RFC 9180 A.2.1: open")
    for i in range(16):
        seed = fixed_bytes(f"sealed-conversion-probe-{i}", 32)
        public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        via_private = x25519.X25519PrivateKey.from_private_bytes(ed25519_seed_to_x25519_private(seed)).public_key()
        c.same(ed25519_to_x25519_public(public).hex(), via_private.public_bytes_raw().hex(),
               f"Ed25519 → X25519 conversion probe {i}")
    for name, point in [("identity", (1).to_bytes(32, "little")), ("order-8 point", ed_compress(torsion_point())),
                        ("7B + an order-8 point", ed_compress(ed_add(ed_mul(7, ED_B), torsion_point())))]:
        try:
            ed25519_to_x25519_public(point)
            c.check(False, f"conversion accepted the {name}")
        except ValueError:
            c.check(True, "")


def torsion_point():
    """A point of order 8: [ℓ]Q for the first curve point Q (from fixed bytes) where that has order 8."""
    for i in range(1000):
        try:
            q = ed_decompress(fixed_bytes(f"sealed-torsion-{i}", 32))
        except ValueError:
            continue
        t = ed_mul(L, q)
        t4 = ed_mul(4, t)
        if not (t4[0] % P == 0 and (t4[1] - t4[2]) % P == 0):
            return t
    raise AssertionError("no order-8 point found")


def check_record_shape(c: Checker, what: str, record: dict, owner: dict, epoch: int) -> None:
    long_term = b64u_decode(owner["permid"])
    c.same(record["permid"], b64u(blind_public(long_term, epoch)), f"{what}: blinded PermID")
    c.same(sorted(record), ["expires_at", "issued_at", "permid", "sealed", "seq", "sig_alg", "signature"],
           f"{what}: members")
    c.check(record["issued_at"] < record["expires_at"] <= (epoch + 1) * PERIOD + GRACE,
            f"{what}: validity not within the epoch's end + grace")
    c.check(record_verifies(record), f"{what}: signature does not verify under the blinded PermID")
    c.same(sealed_problem(record), None, f"{what}: boxes")


def check(c: Checker, directory: Path) -> None:
    check_primitives(c)
    data = load_json(c, directory / "sealed.json")
    c.same(data, make_sealed(), "sealed.json differs from regenerated")
    keys = {entry["name"]: entry for entry in data["keys"]}
    recipients = {}
    for entry in data["keys"]:
        permid = b64u_decode(entry["permid"])
        c.same(permid_kind(permid), entry["kind"], f"{entry['name']}: kind")
        if entry["kind"] == "libnacl":  # IPv8 reads the key and derives the same PermID
            ipv8 = IPv8PrivateKey(b64u_decode(entry["private_key"]))
            c.same(b64u(ipv8.pub().key_to_bin()), entry["permid"], f"{entry['name']}: IPv8's public key")
        if entry["role"] == "friend":
            recipient = recipient_from_private(entry["private_key"], entry["private_key_format"])
            recipients[entry["name"]] = recipient
            c.same(recipient.permid, permid, f"{entry['name']}: private key is not the PermID's")
            c.same(recipient.public.hex(), friend_kem(permid)[1].hex(),
                   f"{entry['name']}: KEM public key of the private key ≠ the one from the PermID")
            c.same(entry["kem_public_hex"], recipient.public.hex(), f"{entry['name']}: kem_public_hex")
            c.same(entry["kem_private_hex"], recipient.private.hex(), f"{entry['name']}: kem_private_hex")
    roles = sorted((e["role"], e["kind"]) for e in data["keys"])
    c.same(roles, sorted([("friend", k) for k in FRIEND_KINDS for _ in (1, 2)] + [("owner", k) for k in OWNER_KINDS]),
           "sealed.json: two friends per KEM kind and one owner per blindable kind")

    counts = set()
    for box in data["boxes"]:
        name, recipient = box["name"], recipients[box["friend"]]
        info = seal_info(b64u_decode(box["record_permid"]), box["seq"])
        raw = b64u_decode(box["box"])
        c.same(box["info_hex"], info.hex(), f"{name}: info")
        c.same(box["plaintext_hex"], plaintext(box["endpoints"]).hex(), f"{name}: plaintext")
        c.same(len(raw), recipient.box_bytes, f"{name}: box length")
        c.same(box["enc_hex"], raw[: ENC_BYTES[recipient.kem]].hex(), f"{name}: enc is not the box's start")
        enc = Recipient(recipient.kem, bytes.fromhex(box["ephemeral_private_hex"]), b"").public
        c.same(box["enc_hex"], enc.hex(), f"{name}: enc is not the ephemeral key's public key")
        opened = open_box(recipient, raw, info)
        c.check(opened is not None and opened.hex() == box["plaintext_hex"], f"{name}: does not open to the plaintext")
        c.same(decode_plaintext(bytes.fromhex(box["plaintext_hex"])), box["endpoints"], f"{name}: endpoints")
        others = [n for n, r in recipients.items() if n != box["friend"] and open_box(r, raw, info) is not None]
        c.same(others, [], f"{name}: opens for other friends")
        counts.add(len(box["endpoints"]))
    c.check({0, 8} <= counts, "boxes: no 0-endpoint or 8-endpoint case")

    for vector in data["records"]:
        name, record = vector["name"], vector["record"]
        check_record_shape(c, name, record, keys[vector["owner"]], vector["epoch"])
        c.same(vector["message_hex"], build_sealed_message(record).hex(), f"{name}: message")
        c.same(padding_problem(record), None, f"{name}: padding")
        c.same(sorted([o["friend"] for o in vector["opens"]] + vector["strangers"]), sorted(recipients),
               f"{name}: every friend key is in opens or strangers")
        for expected in vector["opens"]:
            got = open_record(recipients[expected["friend"]], record)
            c.same(got, (expected["box_index"], expected["endpoints"]), f"{name}: {expected['friend']} opens")
        for stranger in vector["strangers"]:
            c.same(open_record(recipients[stranger], record), None, f"{name}: stranger {stranger} opens a box")

    for group in ("invalid", "limits"):
        for vector in data[group]:
            name, record = vector["name"], vector["record"]
            c.same(vector["problem"], sealed_problem(record), f"{group} {name}: problem")
            long_term = b64u_decode(keys[vector["owner"]]["permid"])
            c.same(record["permid"], b64u(blind_public(long_term, vector["epoch"])), f"{group} {name}: PermID")
            signature = b64u_decode(record["signature"])
            c.check(verify(b64u_decode(record["permid"]), record["sig_alg"], bytes.fromhex(vector["message_hex"]),
                           signature), f"{group} {name}: signature does not verify over message_hex")
            if vector.get("signature_covers_record", True):
                c.same(vector["message_hex"], build_sealed_message(record).hex(), f"{group} {name}: message")
    problems = {v["problem"] for v in data["invalid"]}
    c.same(problems, {"invalid-sealed", "malformed-json"}, "invalid: both problems present")

    records = {r["name"]: r for r in data["records"]}
    for vector in data["moved"]:
        name, record = vector["name"], vector["record"]
        recipient = recipients[vector["friend"]]
        source = records[vector["from_record"]]["record"]
        c.same(source["sealed"][vector["from_box_index"]], vector["box"], f"{name}: box is not the source's")
        c.same(record["sealed"][vector["box_index"]], vector["box"], f"{name}: box_index")
        c.check(open_box(recipient, b64u_decode(vector["box"]), seal_info(b64u_decode(source["permid"]), source["seq"]))
                is not None, f"{name}: the box does not open in its own record")
        check_record_shape(c, name, record, keys[vector["owner"]], vector["epoch"])
        c.same(vector["message_hex"], build_sealed_message(record).hex(), f"{name}: message")
        c.same(open_record(recipient, record), None, f"{name}: the moved box opens")


# ---------------------------------------------------------------------------------------------
# --open and --self-test


def open_file(path: Path) -> bool:
    """Checks sealed records another implementation made (the --open FILE format)."""
    c = Checker()
    entries = json.loads(path.read_text())
    c.check(isinstance(entries, list) and len(entries) > 0, "no records to open")
    for index, entry in enumerate(entries):
        record = entry["record"]
        what = f"entry {index} ({str(record.get('permid', '?'))[:24]}…, seq {record.get('seq')})"
        try:
            c.same(sealed_problem(record), None, f"{what}: boxes")
            c.check("endpoints" not in record, f"{what}: has endpoints")
            c.check(record_verifies(record), f"{what}: signature does not verify under the record's PermID")
            c.same(padding_problem(record), None, f"{what}: padding")
            if "friend_private_key_file" in entry:
                recipient = recipient_from_file(entry["friend_private_key_file"])
            else:
                recipient = recipient_from_private(entry["friend_private_key"], entry["friend_private_key_format"])
            got = open_record(recipient, record)
            expected = entry["endpoints"]
            if expected is None:
                c.check(got is None, f"{what}: box {got and got[0]} opens, none should")
            else:
                c.check(got is not None, f"{what}: no box opens")
                if got is not None:
                    c.same(canonical_endpoints(got[1]), canonical_endpoints(expected), f"{what}: endpoints")
        except Exception as error:  # noqa: BLE001 - any failure of one entry is a failed check
            c.check(False, f"{what}: {type(error).__name__}: {error}")
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def long_term_sign(key: LongTermKey, message: bytes) -> tuple[str, bytes]:
    """(scheme, signature) of the long-term key itself (an open record under its own PermID)."""
    if key.kind in ("ed25519", "libnacl"):
        return "ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(key.secret).sign(message)
    private = ec.derive_private_key(key.secret, CURVES[key.kind].pyca())
    return "ecdsa-sha256", der_to_raw(private.sign(message, ec.ECDSA(hashes.SHA256())), key.kind)


def seal_for(blinded: BlindedKey, friends: list[tuple[bytes, list[str]]], seq: int, issued_at: int,
             expires_at: int) -> tuple[dict, list[int]]:
    """A sealed record as a tool makes it: one box per (friend PermID, endpoints), random ephemeral
    keys, padded with random boxes to a multiple of 8, in random order. Returns where each friend's box is."""
    real = [seal(permid, blinded.permid, seq, endpoints)[0] for permid, endpoints in friends]

    def order(n):
        positions = list(range(n))
        random.SystemRandom().shuffle(positions)
        return positions

    boxes, positions = pad(real, lambda size, i: os.urandom(size), order)
    return signed_record(blinded, seq, issued_at, expires_at, boxes), positions


def self_test() -> bool:
    import time

    epoch = int(time.time()) // PERIOD
    run = os.urandom(6).hex()
    friends = [LongTermKey(f"self-test-{run}-friend-{kind}", kind) for kind in FRIEND_KINDS]
    stranger = LongTermKey(f"self-test-{run}-stranger", "ed25519")
    entries = []
    for n, kind in enumerate(OWNER_KINDS):
        owner = LongTermKey(f"self-test-{run}-owner-{kind}", kind)
        blinded = BlindedKey(kind, owner.secret, owner.permid, epoch)
        endpoints = {f.name: ENDPOINTS[[0, 1, 2, 3, 8][(n + i) % 5]] for i, f in enumerate(friends)}
        record, _ = seal_for(blinded, [(f.permid, endpoints[f.name]) for f in friends[: 1 + n % 4]],
                             1000 + n, epoch * PERIOD, epoch * PERIOD + 3_600)
        for i, friend in enumerate(friends):
            entries.append({"record": record, "friend_private_key": friend.private_key,
                            "friend_private_key_format": friend.format,
                            "endpoints": endpoints[friend.name] if i < 1 + n % 4 else None})
        entries.append({"record": record, "friend_private_key": stranger.private_key,
                        "friend_private_key_format": stranger.format, "endpoints": None})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(entries, file)
    try:
        return open_file(Path(file.name))
    finally:
        os.unlink(file.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--open", type=Path, metavar="FILE", help="open and check records sealed elsewhere")
    mode.add_argument("--self-test", action="store_true", help="seal with fresh keys and open with --open's code")
    mode.add_argument("--out", nargs="?", const=HERE, type=Path, metavar="DIR", help="write sealed.json")
    mode.add_argument("--check", nargs="?", const=HERE, type=Path, metavar="DIR", help="check sealed.json")
    args = parser.parse_args()
    if args.open:
        return 0 if open_file(args.open) else 1
    if args.self_test:
        return 0 if self_test() else 1
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sealed.json").write_text(render(make_sealed()))
        print(f"wrote {args.out / 'sealed.json'}")
        return 0
    c = Checker()
    try:
        check(c, args.check)
    except Exception as error:  # noqa: BLE001
        c.check(False, f"sealed.json: {type(error).__name__}: {error}")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
