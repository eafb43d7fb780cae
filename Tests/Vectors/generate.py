#!/usr/bin/env python3
"""Test vectors for the PermID directory protocol, version 1 (§1 PermIDs, §2 schemes, §3 records).

Produces, independently of the Swift implementation:

  base64url.json       strict base64url (no padding) valid and invalid texts
  keys.json            PermIDs and private keys: python-cryptography keys from fixed seeds,
                       IPv8 (ipv8-rust-tunnels) keys generated at random
  records.json         signed announcement records, valid and invalid, with their signed message
  bad_keys.json        PermID texts that must be rejected (or are non-canonical)
  worked_example.json  the Ed25519 example built from the seed 00 01 .. 1f
  blinding.json        blinded PermIDs and records of FRIENDS-v1 part A (made by blinding.py)
  sealed.json          sealed records of FRIENDS-v1 part B (made by sealed.py)

Usage:
  python3 generate.py --out [DIR]    write the files (default DIR: this script's directory)
  python3 generate.py --check [DIR]  re-check committed files; prints "N passed, M failed"

Depends only on the standard library, `cryptography`, `ipv8-rust-tunnels`, `pyhpke` and the `openssl`
command-line tool (3.x, used for the binary sect* curves that `cryptography` lacks).
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from ipv8_rust_tunnels import PrivateKey as IPv8PrivateKey

HERE = Path(__file__).resolve().parent

ISSUED_AT = 1764028800
EXPIRES_AT = 1764032400
MAX_SEQ = 2**53 - 1

TAG = b"PERMID-DIRECTORY/1 ANNOUNCE\x00"
SCHEME_CODES = {"ed25519": 1, "ecdsa-sha256": 2, "ecdsa-sha1": 3}
ECDSA_HASHES = {"ecdsa-sha256": hashes.SHA256, "ecdsa-sha1": hashes.SHA1}

LIBNACL_PK = b"LibNaCLPK:"
LIBNACL_SK = b"LibNaCLSK:"
OID_ED25519 = "1.3.101.112"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"


class Curve(NamedTuple):
    oid: str
    degree: int  # OpenSSL EC_GROUP_get_degree
    pyca: type | None  # python-cryptography curve class, None for binary curves


CURVES = {
    "p256": Curve("1.2.840.10045.3.1.7", 256, ec.SECP256R1),
    "p384": Curve("1.3.132.0.34", 384, ec.SECP384R1),
    "secp256k1": Curve("1.3.132.0.10", 256, ec.SECP256K1),
    "sect163k1": Curve("1.3.132.0.1", 163, None),
    "sect233k1": Curve("1.3.132.0.26", 233, None),
    "sect409k1": Curve("1.3.132.0.36", 409, None),
    "sect571k1": Curve("1.3.132.0.38", 571, None),
}
CURVE_BY_OID = {curve.oid: kind for kind, curve in CURVES.items()}
CURVE_BY_PYCA_NAME = {curve.pyca.name: kind for kind, curve in CURVES.items() if curve.pyca}

# IPv8 curve name -> keys.json kind, in the order the keys are listed.
IPV8_KINDS = {
    "curve25519": "libnacl",
    "sect163k1": "sect163k1",
    "sect233k1": "sect233k1",
    "sect409k1": "sect409k1",
    "sect571k1": "sect571k1",
    "prime256v1": "p256",
    "secp256k1": "secp256k1",
}
# (alias, original): the same IPv8 key once more, as IPv8's SEC1 PEM.
PEM_ALIAS = ("ipv8-sect233k1-pem", "ipv8-sect233k1")
PYCA_KEY_NAMES = ["ed25519", "ed25519-b", "p256", "p384", "secp256k1"]

# ---------------------------------------------------------------------------------------------
# Encodings


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    """Strict base64url: no padding, alphabet only, no length 1 mod 4, canonical trailing bits."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError(f"not base64url: {text!r}")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text:
        raise ValueError(f"non-canonical trailing bits: {text!r}")
    return data


def render(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def fixed_bytes(label: str, size: int) -> bytes:
    """Deterministic key material: the first `size` bytes of SHA-512("permid-vector-<label>")."""
    assert size <= 64
    return hashlib.sha512(b"permid-vector-" + label.encode()).digest()[:size]


def der_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def der_read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One DER TLV at `pos`: (tag, content, end). Raises ValueError if malformed or truncated."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + length], pos + length


def oid_text(content: bytes) -> str:
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def oid_der(text: str) -> bytes:
    arcs = [int(a) for a in text.split(".")]
    content = b""
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        content += bytes(reversed(chunk))
    return der_tlv(0x06, content)


def ec_spki(kind: str, point: bytes) -> bytes:
    """EC SubjectPublicKeyInfo with a named curve and the given point encoding."""
    algorithm = der_tlv(0x30, oid_der(OID_EC_PUBLIC_KEY) + oid_der(CURVES[kind].oid))
    return der_tlv(0x30, algorithm + der_tlv(0x03, b"\x00" + point))


def parse_spki(raw: bytes) -> tuple[str, tuple[int, bytes] | None, bytes, int]:
    """(algorithm OID, parameters (tag, content) or None, key bytes, length of the SPKI)."""
    tag, spki, end = der_read(raw)
    if tag != 0x30:
        raise ValueError("not a SEQUENCE")
    tag, algorithm, pos = der_read(spki)
    if tag != 0x30:
        raise ValueError("no AlgorithmIdentifier")
    tag, oid, params_pos = der_read(algorithm)
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    params = None
    if params_pos < len(algorithm):
        params_tag, params_content, params_end = der_read(algorithm, params_pos)
        if params_end != len(algorithm):
            raise ValueError("junk in AlgorithmIdentifier")
        params = (params_tag, params_content)
    tag, bits, bits_end = der_read(spki, pos)
    if tag != 0x03 or bits_end != len(spki) or bits[:1] != b"\x00":
        raise ValueError("bad subjectPublicKey BIT STRING")
    return oid_text(oid), params, bits[1:], end


def signature_bytes(kind: str) -> int:
    if kind in ("ed25519", "libnacl"):
        return 64
    return 2 * ((CURVES[kind].degree + 7) // 8)


def allowed_schemes(kind: str) -> tuple[str, ...]:
    return ("ed25519",) if kind in ("ed25519", "libnacl") else ("ecdsa-sha256", "ecdsa-sha1")


def der_to_raw(der: bytes, kind: str) -> bytes:
    half = signature_bytes(kind) // 2
    r, s = decode_dss_signature(der)
    return r.to_bytes(half, "big") + s.to_bytes(half, "big")


def raw_to_der(raw: bytes) -> bytes:
    half = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


# ---------------------------------------------------------------------------------------------
# openssl CLI (binary curves, explicit parameters)


class OpenSSLError(Exception):
    pass


def openssl(args: list[str], stdin: bytes = b"", files: dict[str, bytes] | None = None) -> bytes:
    """Run `openssl args`; every "@name" argument becomes a temporary file holding files[name]."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, content in (files or {}).items():
            paths["@" + name] = Path(tmp, name)
            paths["@" + name].write_bytes(content)
        argv = ["openssl", *(str(paths.get(a, a)) for a in args)]
        result = subprocess.run(argv, input=stdin, capture_output=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise OpenSSLError(f"openssl {' '.join(args)}: {output}")
    return result.stdout


def openssl_sign(private_pem: bytes, alg: str, msg: bytes, kind: str) -> bytes:
    digest = {"ecdsa-sha256": "-sha256", "ecdsa-sha1": "-sha1"}[alg]
    der = openssl(["dgst", digest, "-sign", "@key.pem"], msg, {"key.pem": private_pem})
    return der_to_raw(der, kind)


def openssl_verify(spki: bytes, alg: str, msg: bytes, der_signature: bytes) -> bool:
    digest = {"ecdsa-sha256": "-sha256", "ecdsa-sha1": "-sha1"}[alg]
    args = ["dgst", digest, "-verify", "@pub.der", "-keyform", "DER", "-signature", "@sig"]
    try:
        openssl(args, msg, {"pub.der": spki, "sig": der_signature})
        return True
    except OpenSSLError as error:
        if "Verification failure" in str(error):
            return False
        raise


def openssl_ec_public(data: bytes, *options: str, private: bool = False) -> bytes:
    """Public key of an EC key (SPKI, DER or SEC1 private key) as DER SPKI, via `openssl ec`."""
    informat = "PEM" if data.startswith(b"-----") else "DER"
    args = ["ec", "-inform", informat, "-outform", "DER", *options]
    args += ["-pubout"] if private else ["-pubin"]
    return openssl(args, data)


# ---------------------------------------------------------------------------------------------
# PermIDs: classification (§1) and signature verification (§2), independent of key generation


def permid_kind(raw: bytes) -> str:
    if raw.startswith(LIBNACL_PK):
        return "libnacl"
    algorithm, params, _, _ = parse_spki(raw)
    if algorithm == OID_ED25519:
        return "ed25519"
    if algorithm == OID_EC_PUBLIC_KEY and params and params[0] == 0x06:
        return CURVE_BY_OID[oid_text(params[1])]
    raise ValueError("unsupported key")


def canonical_ec_spki(kind: str, spki: bytes, point: bytes) -> bytes:
    """Uncompressed SPKI of a valid point; ValueError for off-curve, infinity or bad encodings."""
    if point[:1] not in (b"\x02", b"\x03", b"\x04"):
        raise ValueError("not a compressed or uncompressed point")
    curve = CURVES[kind]
    if curve.pyca:
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve.pyca(), point)
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        return openssl_ec_public(spki, "-conv_form", "uncompressed")
    except OpenSSLError as error:
        raise ValueError(str(error)) from None


def classify_permid(text: str) -> tuple[str | None, bytes | None]:
    """(error slug or None, canonical binary PermID or None) for a PermID text."""
    try:
        raw = b64u_decode(text)
    except ValueError:
        return "invalid-permid", None
    if raw.startswith(LIBNACL_PK):
        return (None, raw) if len(raw) == 74 else ("invalid-permid", None)
    try:
        algorithm, params, key, end = parse_spki(raw)
    except ValueError:
        return "invalid-permid", None
    if algorithm == OID_ED25519:
        if params is not None or len(key) != 32:
            return "invalid-permid", None
        canonical = ed25519.Ed25519PublicKey.from_public_bytes(key).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif algorithm == OID_EC_PUBLIC_KEY:
        if params is None:
            return "invalid-permid", None
        if params[0] != 0x06 or oid_text(params[1]) not in CURVE_BY_OID:
            return "unsupported-key", None  # explicit parameters or another named curve
        try:
            canonical = canonical_ec_spki(CURVE_BY_OID[oid_text(params[1])], raw[:end], key)
        except ValueError:
            return "invalid-permid", None
    else:
        return "unsupported-key", None
    return (None, raw) if canonical == raw else ("non-canonical-permid", canonical)


def verify(permid: bytes, alg: str, msg: bytes, signature: bytes) -> bool:
    kind = permid_kind(permid)
    try:
        if kind == "libnacl":
            ed25519.Ed25519PublicKey.from_public_bytes(permid[42:]).verify(signature, msg)
            return True
        if kind == "ed25519":
            serialization.load_der_public_key(permid).verify(signature, msg)
            return True
        der = raw_to_der(signature)
        if CURVES[kind].pyca:
            key = serialization.load_der_public_key(permid)
            key.verify(der, msg, ec.ECDSA(ECDSA_HASHES[alg]()))
            return True
        return openssl_verify(permid, alg, msg, der)
    except InvalidSignature:
        return False


# ---------------------------------------------------------------------------------------------
# Keys


class VectorKey:
    """A keys.json entry together with the means to sign with it."""

    source = ""

    def __init__(self, name, kind, permid, private_key, private_key_format):
        self.name, self.kind, self.permid = name, kind, permid
        self.private_key, self.private_key_format = private_key, private_key_format

    @property
    def permid_text(self) -> str:
        return b64u(self.permid)

    def entry(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "permid": self.permid_text,
            "private_key": self.private_key,
            "private_key_format": self.private_key_format,
            "signature_bytes": signature_bytes(self.kind),
            "member_id": hashlib.sha1(self.permid).hexdigest(),
        }

    def sign(self, alg: str, msg: bytes) -> bytes:
        raise NotImplementedError

    def deterministic(self, alg: str) -> bool:
        raise NotImplementedError


def pyca_ecdsa_sign(key, alg: str, msg: bytes, kind: str) -> bytes:
    """RFC 6979 deterministic ECDSA, raw r||s."""
    der = key.sign(msg, ec.ECDSA(ECDSA_HASHES[alg](), deterministic_signing=True))
    return der_to_raw(der, kind)


class PycaKey(VectorKey):
    source = "python-cryptography"

    def __init__(self, name: str, key):
        self.key = key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            kind = "ed25519"
        else:
            kind = CURVE_BY_PYCA_NAME[key.curve.name]
        permid = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        super().__init__(name, kind, permid, pem, "pkcs8-pem")

    def sign(self, alg, msg):
        assert alg in allowed_schemes(self.kind)
        if self.kind == "ed25519":
            return self.key.sign(msg)
        return pyca_ecdsa_sign(self.key, alg, msg, self.kind)

    def deterministic(self, alg):
        return True


class IPv8Key(VectorKey):
    source = "ipv8-rust-tunnels"

    def __init__(self, name: str, key: IPv8PrivateKey, private_key_format: str):
        self.key = key
        if private_key_format == "ipv8-bin":
            private = b64u(key.key_to_bin())
        else:
            private = key.key_to_pem().decode()
        kind = IPV8_KINDS[key.curve_name()]
        super().__init__(name, kind, key.pub().key_to_bin(), private, private_key_format)

    def sign(self, alg, msg):
        """IPv8's own signature() for ed25519 and ecdsa-sha1; ecdsa-sha256 by cryptography/openssl."""
        assert alg in allowed_schemes(self.kind)
        if alg in ("ed25519", "ecdsa-sha1"):
            return self.key.signature(msg)
        if CURVES[self.kind].pyca:
            key = serialization.load_der_private_key(self.key.key_to_bin(), None)
            return pyca_ecdsa_sign(key, alg, msg, self.kind)
        return openssl_sign(self.key.key_to_pem(), alg, msg, self.kind)

    def deterministic(self, alg):
        return alg == "ed25519" or (alg == "ecdsa-sha256" and CURVES[self.kind].pyca is not None)


def make_pyca_keys() -> list[PycaKey]:
    keys = [
        PycaKey(name, ed25519.Ed25519PrivateKey.from_private_bytes(fixed_bytes(name, 32)))
        for name in ("ed25519", "ed25519-b")
    ]
    for kind in ("p256", "p384", "secp256k1"):
        curve = CURVES[kind].pyca()
        scalar = int.from_bytes(fixed_bytes(kind, curve.key_size // 8), "big")
        keys.append(PycaKey(kind, ec.derive_private_key(scalar, curve)))
    assert [k.name for k in keys] == PYCA_KEY_NAMES
    return keys


def make_ipv8_keys() -> list[IPv8Key]:
    keys = [IPv8Key(f"ipv8-{curve}", IPv8PrivateKey.generate(curve), "ipv8-bin") for curve in IPV8_KINDS]
    original = next(k for k in keys if k.name == PEM_ALIAS[1])
    keys.append(IPv8Key(PEM_ALIAS[0], original.key, "sec1-pem"))
    return keys


def load_key(entry: dict) -> VectorKey:
    if entry["source"] == "python-cryptography":
        key = serialization.load_pem_private_key(entry["private_key"].encode(), None)
        return PycaKey(entry["name"], key)
    if entry["private_key_format"] == "ipv8-bin":
        data = b64u_decode(entry["private_key"])
    else:
        data = entry["private_key"].encode()
    return IPv8Key(entry["name"], IPv8PrivateKey(data), entry["private_key_format"])


def ipv8_public_independently(entry: dict) -> bytes:
    """The PermID of an IPv8 private key, derived without IPv8: cryptography or openssl."""
    if entry["kind"] == "libnacl":
        secret = b64u_decode(entry["private_key"])
        assert secret.startswith(LIBNACL_SK) and len(secret) == 74
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        # LibNaCLSK: = X25519 secret (32) || Ed25519 seed (32), matching LibNaCLPK: X25519 || Ed25519.
        crypt = x25519.X25519PrivateKey.from_private_bytes(secret[10:42]).public_key().public_bytes(*raw)
        sign = ed25519.Ed25519PrivateKey.from_private_bytes(secret[42:]).public_key().public_bytes(*raw)
        return LIBNACL_PK + crypt + sign
    if entry["private_key_format"] == "ipv8-bin":
        return openssl_ec_public(b64u_decode(entry["private_key"]), private=True)
    return openssl_ec_public(entry["private_key"].encode(), private=True)


# ---------------------------------------------------------------------------------------------
# base64url.json


def make_base64url() -> dict:
    ed_key = make_pyca_keys()[0]
    valid_bytes = [
        b"",
        b"\xff",
        b"\xfb\xff",
        b"\xfb\xff\xbf",
        b"\x00\x01\x02\x03",
        b"\xff\xff\xff\xff\xff",
        b"foobar",
        ed_key.permid,
        bytes.fromhex("fbefbeffe0"),
    ]
    invalid = [
        ("AA==", "padding"),
        ("AAA=", "padding"),
        ("AA=", "padding"),
        ("=AAA", "padding"),
        ("ab+c", "'+' is not in the base64url alphabet"),
        ("ab/c", "'/' is not in the base64url alphabet"),
        ("AA.A", "'.' is not in the base64url alphabet"),
        ("AA AA", "whitespace"),
        ("AAAA\n", "whitespace"),
        ("\tAAAA", "whitespace"),
        ("AAA\u00e9", "non-ASCII character"),
        ("A", "length 1 mod 4"),
        ("AAAAA", "length 1 mod 4"),
        ("AB", "non-canonical trailing bits (2 chars: low 4 bits of the last must be 0)"),
        ("AP", "non-canonical trailing bits (2 chars: low 4 bits of the last must be 0)"),
        ("_x", "non-canonical trailing bits (2 chars: low 4 bits of the last must be 0)"),
        ("AAB", "non-canonical trailing bits (3 chars: low 2 bits of the last must be 0)"),
        ("AAD", "non-canonical trailing bits (3 chars: low 2 bits of the last must be 0)"),
        ("__-", "non-canonical trailing bits (3 chars: low 2 bits of the last must be 0)"),
    ]
    return {
        "valid": [{"text": b64u(data), "hex": data.hex()} for data in valid_bytes],
        "invalid": [{"text": text, "reason": reason} for text, reason in invalid],
    }


# ---------------------------------------------------------------------------------------------
# records.json


ENDPOINT_SETS = {
    0: [],
    1: [("203.0.113.5", 6881)],
    2: [("198.51.100.7", 7000), ("2001:db8::7", 7000)],
    8: [
        ("192.0.2.1", 1),
        ("198.51.100.200", 65535),
        ("2001:db8::1:0:0:1", 8080),
        ("203.0.113.77", 443),
        ("2001:db8:0:1:1:1:1:1", 6881),
        ("2001:db8:85a3::8a2e:370:7334", 51413),
        ("2001:db8::abcd", 6882),
        ("203.0.113.254", 6883),
    ],
}


def endpoints(count: int) -> list[dict]:
    result = [{"ip": ip, "port": port} for ip, port in ENDPOINT_SETS[count]]
    assert all(str(ipaddress.ip_address(e["ip"])) == e["ip"] for e in result)
    return result


def build_message(record: dict) -> bytes:
    """The signed message of PROTOCOL-v1 §3, built from a JSON record."""
    permid = b64u_decode(record["permid"])
    out = TAG + struct.pack(">BH", SCHEME_CODES[record["sig_alg"]], len(permid)) + permid
    out += struct.pack(">QQQB", record["seq"], record["issued_at"], record["expires_at"], len(record["endpoints"]))
    for endpoint in record["endpoints"]:
        ip = ipaddress.ip_address(endpoint["ip"])
        out += struct.pack(">B", ip.version) + ip.packed + struct.pack(">H", endpoint["port"])
    return out


def unsigned_record(key: VectorKey, alg: str, seq: int, count: int) -> dict:
    return {
        "permid": key.permid_text,
        "sig_alg": alg,
        "seq": seq,
        "issued_at": ISSUED_AT,
        "expires_at": EXPIRES_AT,
        "endpoints": endpoints(count),
    }


class RecordMaker:
    """Builds records.json entries; remembers which ones carry a randomized signature."""

    def __init__(self):
        self.randomized: set[str] = set()

    def entry(self, name, key, alg, seq, count, *, signer=None, sign_alg=None,
              tweak_signature=None, tweak_record=None, error=None) -> dict:
        signer, sign_alg = signer or key, sign_alg or alg
        record = unsigned_record(key, alg, seq, count)
        signature = signer.sign(sign_alg, build_message(record))
        if not signer.deterministic(sign_alg):
            self.randomized.add(name)
        if tweak_signature:
            signature = tweak_signature(signature)
        if tweak_record:
            tweak_record(record)
        record["signature"] = b64u(signature)
        result = {"name": name, "key": key.name, "record": record, "message_hex": build_message(record).hex()}
        if error:
            result["error"] = error
        return result


def flip_bit(signature: bytes) -> bytes:
    return signature[:10] + bytes([signature[10] ^ 0x01]) + signature[11:]


def der_signature(signature: bytes) -> bytes:
    der = raw_to_der(signature)
    assert len(der) != len(signature)
    return der


def increment_seq(record: dict) -> None:
    record["seq"] += 1


def seq_with_leading_zero_byte(key: PycaKey) -> int:
    """The first seq from 1000 whose deterministic P-256 signature has r or s < 2^248."""
    seq = 1000
    while True:
        signature = key.sign("ecdsa-sha256", build_message(unsigned_record(key, "ecdsa-sha256", seq, 1)))
        if signature[0] == 0 or signature[32] == 0:
            return seq
        seq += 1


def make_records(keys: dict[str, VectorKey]) -> tuple[dict, set[str]]:
    maker = RecordMaker()
    identities = [k for name, k in keys.items() if name != PEM_ALIAS[0]]
    combos = [(key, alg) for key in identities for alg in allowed_schemes(key.kind)]
    valid = []
    for i, (key, alg) in enumerate(combos):
        seq = MAX_SEQ if i == len(combos) - 1 else i + 1
        valid.append(maker.entry(f"{key.name}-{alg}", key, alg, seq, [1, 2, 0, 8][i % 4]))

    seq = seq_with_leading_zero_byte(keys["p256"])
    valid.append(maker.entry("p256-ecdsa-sha256-leading-zero-byte", keys["p256"], "ecdsa-sha256", seq, 1))

    k = keys
    invalid = [
        maker.entry("signature-one-byte-short", k["p256"], "ecdsa-sha256", 101, 1,
                    tweak_signature=lambda s: s[:-1], error="invalid-signature"),
        maker.entry("signature-one-byte-short-ed25519", k["ed25519"], "ed25519", 102, 2,
                    tweak_signature=lambda s: s[:-1], error="invalid-signature"),
        maker.entry("signature-one-byte-long", k["ipv8-sect233k1"], "ecdsa-sha1", 103, 1,
                    tweak_signature=lambda s: s + b"\x00", error="invalid-signature"),
        maker.entry("der-signature-p256", k["p256"], "ecdsa-sha256", 104, 1,
                    tweak_signature=der_signature, error="invalid-signature"),
        maker.entry("der-signature-sect163k1", k["ipv8-sect163k1"], "ecdsa-sha1", 105, 2,
                    tweak_signature=der_signature, error="invalid-signature"),
        maker.entry("bit-flipped-signature-ed25519", k["ed25519"], "ed25519", 106, 1,
                    tweak_signature=flip_bit, error="bad-signature"),
        maker.entry("bit-flipped-signature-sect409k1", k["ipv8-sect409k1"], "ecdsa-sha1", 107, 1,
                    tweak_signature=flip_bit, error="bad-signature"),
        maker.entry("seq-changed-after-signing-libnacl", k["ipv8-curve25519"], "ed25519", 108, 1,
                    tweak_record=increment_seq, error="bad-signature"),
        maker.entry("seq-changed-after-signing-p384", k["p384"], "ecdsa-sha256", 109, 2,
                    tweak_record=increment_seq, error="bad-signature"),
        maker.entry("sha1-signature-labelled-sha256-prime256v1", k["ipv8-prime256v1"], "ecdsa-sha256", 110, 1,
                    sign_alg="ecdsa-sha1", error="bad-signature"),
        maker.entry("sha1-signature-labelled-sha256-sect233k1", k["ipv8-sect233k1"], "ecdsa-sha256", 111, 1,
                    sign_alg="ecdsa-sha1", error="bad-signature"),
        maker.entry("ed25519-key-with-ecdsa-sha256", k["ed25519"], "ecdsa-sha256", 112, 1,
                    sign_alg="ed25519", error="unsupported-scheme"),
        maker.entry("libnacl-key-with-ecdsa-sha1", k["ipv8-curve25519"], "ecdsa-sha1", 113, 1,
                    sign_alg="ed25519", error="unsupported-scheme"),
        maker.entry("ec-key-with-ed25519-p256", k["p256"], "ed25519", 114, 1,
                    sign_alg="ecdsa-sha256", error="unsupported-scheme"),
        maker.entry("ec-key-with-ed25519-sect233k1", k["ipv8-sect233k1"], "ed25519", 115, 1,
                    sign_alg="ecdsa-sha1", error="unsupported-scheme"),
        maker.entry("other-key-signature-ed25519", k["ed25519"], "ed25519", 116, 1,
                    signer=k["ed25519-b"], error="bad-signature"),
        maker.entry("other-key-signature-p256", k["ipv8-prime256v1"], "ecdsa-sha256", 117, 1,
                    signer=k["p256"], error="bad-signature"),
    ]
    return {"valid": valid, "invalid": invalid}, maker.randomized


def record_error(record: dict) -> str | None:
    """The error PROTOCOL-v1 §4 gives for a record with a valid PermID (scheme, length, verify)."""
    permid = b64u_decode(record["permid"])
    kind = permid_kind(permid)
    if record["sig_alg"] not in allowed_schemes(kind):
        return "unsupported-scheme"
    signature = b64u_decode(record["signature"])
    if len(signature) != signature_bytes(kind):
        return "invalid-signature"
    return None if verify(permid, record["sig_alg"], build_message(record), signature) else "bad-signature"


# ---------------------------------------------------------------------------------------------
# bad_keys.json

RANDOM_BAD_KEYS = {"rsa-2048", "dsa-2048"}  # generated at random; checked by loading instead


def spki_of(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fixed_sect233k1_spki() -> bytes:
    """A sect233k1 public key from a fixed scalar (28 bytes < the group order); openssl computes it."""
    scalar = fixed_bytes("bad-keys-sect233k1", 28)
    sec1 = der_tlv(0x30, der_tlv(0x02, b"\x01") + der_tlv(0x04, scalar)
                   + der_tlv(0xA0, oid_der(CURVES["sect233k1"].oid)))
    return openssl_ec_public(sec1, private=True)


def make_bad_keys() -> list[dict]:
    keys = {k.name: k for k in make_pyca_keys()}
    ed, p256 = keys["ed25519"].permid, keys["p256"].permid
    x25519_key = x25519.X25519PrivateKey.from_private_bytes(fixed_bytes("bad-keys-x25519", 32)).public_key()
    ed25519_key = ed25519.Ed25519PrivateKey.from_private_bytes(fixed_bytes("bad-keys-ed25519", 32)).public_key()
    ed448_key = ed448.Ed448PrivateKey.from_private_bytes(fixed_bytes("bad-keys-ed448", 57)).public_key()
    p224_scalar = int.from_bytes(fixed_bytes("bad-keys-secp224r1", 28), "big")
    p224_key = ec.derive_private_key(p224_scalar, ec.SECP224R1()).public_key()
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    libnacl = LIBNACL_PK + x25519_key.public_bytes(*raw) + ed25519_key.public_bytes(*raw)
    sect233k1 = fixed_sect233k1_spki()

    padded = base64.urlsafe_b64encode(ed).decode()
    standard = base64.b64encode(keys["secp256k1"].permid).decode().rstrip("=")
    assert "=" in padded and "+" in standard and "/" in standard
    compressed_point = keys["p256"].key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    compressed_sect233k1 = openssl_ec_public(sect233k1, "-conv_form", "compressed")

    def bad(name, permid, error, canonical=None):
        text = permid if isinstance(permid, str) else b64u(permid)
        return {"name": name, "permid": text, "error": error, "canonical": canonical and b64u(canonical)}

    return [
        bad("padded-base64url", padded, "invalid-permid"),
        bad("standard-base64-alphabet", standard, "invalid-permid"),
        bad("empty", "", "invalid-permid"),
        bad("random-44-bytes", fixed_bytes("bad-keys-random", 44), "invalid-permid"),
        bad("truncated-spki-p256", p256[:-1], "invalid-permid"),
        bad("off-curve-p256", p256[:-1] + bytes([p256[-1] ^ 0x01]), "invalid-permid"),
        bad("point-at-infinity-p256", ec_spki("p256", b"\x00"), "invalid-permid"),
        bad("libnacl-wrong-prefix", b"LibNaCLPk:" + libnacl[10:], "invalid-permid"),
        bad("libnacl-63-key-bytes", libnacl[:-1], "invalid-permid"),
        bad("compressed-p256", ec_spki("p256", compressed_point), "non-canonical-permid", p256),
        bad("compressed-sect233k1", compressed_sect233k1, "non-canonical-permid", sect233k1),
        bad("trailing-zero-byte-ed25519", ed + b"\x00", "non-canonical-permid", ed),
        bad("trailing-zero-byte-p256", p256 + b"\x00", "non-canonical-permid", p256),
        bad("rsa-2048", spki_of(rsa.generate_private_key(65537, 2048).public_key()), "unsupported-key"),
        bad("dsa-2048", spki_of(dsa.generate_private_key(2048).public_key()), "unsupported-key"),
        bad("x25519", spki_of(x25519_key), "unsupported-key"),
        bad("ed448", spki_of(ed448_key), "unsupported-key"),
        bad("secp224r1", spki_of(p224_key), "unsupported-key"),
        bad("p256-explicit-parameters", openssl_ec_public(p256, "-param_enc", "explicit"), "unsupported-key"),
    ]


# ---------------------------------------------------------------------------------------------
# worked_example.json


def make_worked_example() -> dict:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    permid = spki_of(key.public_key())
    record = {
        "permid": b64u(permid),
        "sig_alg": "ed25519",
        "seq": 7,
        "issued_at": ISSUED_AT,
        "expires_at": EXPIRES_AT,
        "endpoints": [{"ip": "203.0.113.5", "port": 6881}, {"ip": "2001:db8::5", "port": 6881}],
    }
    message = build_message(record)
    signature = key.sign(message)
    record["signature"] = b64u(signature)
    return {
        "private_key_pem": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "permid": b64u(permid),
        "permid_hex": permid.hex(),
        "record": record,
        "message_hex": message.hex(),
        "signature_hex": signature.hex(),
    }


# ---------------------------------------------------------------------------------------------
# --out


def write_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    keys = [*make_pyca_keys(), *make_ipv8_keys()]
    records, _ = make_records({k.name: k for k in keys})
    files = {
        "base64url.json": make_base64url(),
        "keys.json": [k.entry() for k in keys],
        "records.json": records,
        "bad_keys.json": make_bad_keys(),
        "worked_example.json": make_worked_example(),
        "blinding.json": blinding.make_blinding(),
        "sealed.json": sealed.make_sealed(),
    }
    for name, content in files.items():
        (out / name).write_text(render(content))
        print(f"wrote {out / name}")


# ---------------------------------------------------------------------------------------------
# --check


class Checker:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok: bool, what: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")

    def same(self, committed, expected, what: str) -> None:
        def short(value):
            text = repr(value)
            return text if len(text) <= 400 else text[:400] + "..."

        self.check(committed == expected, f"{what}\n  committed: {short(committed)}\n  expected:  {short(expected)}")


def load_json(c: Checker, path: Path):
    text = path.read_text()
    data = json.loads(text)
    c.check(text == render(data), f"{path.name}: not 2-space, sorted-key JSON with a trailing newline")
    return data


def check_by_name(c: Checker, file: str, committed: list[dict], expected: list[dict], mask=None) -> None:
    """Compare entries by name; `mask(entry)` removes parts that are random at generation."""
    mask = mask or (lambda e: e)
    expected_by_name = {e["name"]: e for e in expected}
    c.same([e["name"] for e in committed], list(expected_by_name), f"{file}: entry names")
    for entry in committed:
        if entry["name"] in expected_by_name:
            expected_entry = expected_by_name[entry["name"]]
            c.same(mask(entry), mask(expected_entry), f"{file}: {entry['name']} differs from regenerated")


def check_base64url(c: Checker, directory: Path) -> None:
    data = load_json(c, directory / "base64url.json")
    c.same(data, make_base64url(), "base64url.json differs from regenerated")
    for vector in data["valid"]:
        c.same(b64u_decode(vector["text"]).hex(), vector["hex"], f"base64url valid {vector['text']!r}")
    for vector in data["invalid"]:
        try:
            b64u_decode(vector["text"])
            c.check(False, f"base64url invalid {vector['text']!r} was accepted")
        except ValueError:
            c.check(True, "")


def check_keys(c: Checker, directory: Path) -> dict[str, VectorKey]:
    entries = load_json(c, directory / "keys.json")
    expected_names = PYCA_KEY_NAMES + [f"ipv8-{curve}" for curve in IPV8_KINDS] + [PEM_ALIAS[0]]
    c.same([e["name"] for e in entries], expected_names, "keys.json: entry names")
    pyca = {k.name: k.entry() for k in make_pyca_keys()}
    keys = {}
    for entry in entries:
        name, permid = entry["name"], b64u_decode(entry["permid"])
        c.same(classify_permid(entry["permid"]), (None, permid), f"key {name}: PermID not valid and canonical")
        c.same(permid_kind(permid), entry["kind"], f"key {name}: kind")
        c.same(entry["member_id"], hashlib.sha1(permid).hexdigest(), f"key {name}: member_id")
        c.same(entry["signature_bytes"], signature_bytes(entry["kind"]), f"key {name}: signature_bytes")
        key = load_key(entry)
        keys[name] = key
        for alg in allowed_schemes(key.kind):  # the private key really belongs to the PermID
            probe = b"permid-vector-probe " + alg.encode()
            c.check(verify(permid, alg, probe, key.sign(alg, probe)), f"key {name}: {alg} signature does not verify")
        if entry["source"] == "python-cryptography":
            c.same(entry, pyca.get(name), f"key {name}: differs from regenerated")
        else:
            c.same(key.entry(), entry, f"key {name}: does not round-trip through IPv8")
            c.same(ipv8_public_independently(entry), permid, f"key {name}: public key derived without IPv8")
            c.same(key.key.get_signature_length(), entry["signature_bytes"], f"key {name}: IPv8 signature length")
    alias, original = PEM_ALIAS
    c.same(keys[alias].permid, keys[original].permid, f"{alias} is not the same key as {original}")
    return keys


def check_records(c: Checker, directory: Path, keys: dict[str, VectorKey]) -> None:
    data = load_json(c, directory / "records.json")
    expected, randomized = make_records(keys)

    def mask(entry):
        if entry["name"] not in randomized:
            return entry
        return {**entry, "record": {**entry["record"], "signature": "(random)"}}

    for group in ("valid", "invalid"):
        check_by_name(c, f"records.json {group}", data[group], expected[group], mask)
        for entry in data[group]:
            name, record = entry["name"], entry["record"]
            c.same(entry["message_hex"], build_message(record).hex(), f"record {name}: message_hex")
            owner = keys[entry["key"]]
            c.same(record["permid"], owner.permid_text, f"record {name}: permid is not key {owner.name}'s")
            for endpoint in record["endpoints"]:
                canonical = str(ipaddress.ip_address(endpoint["ip"]))
                c.same(endpoint["ip"], canonical, f"record {name}: endpoint IP text not canonical")
            c.same(entry.get("error"), record_error(record), f"record {name}: outcome")


def check_bad_keys(c: Checker, directory: Path) -> None:
    data = load_json(c, directory / "bad_keys.json")

    def mask(entry):
        return {**entry, "permid": "(random)"} if entry["name"] in RANDOM_BAD_KEYS else entry

    check_by_name(c, "bad_keys.json", data, make_bad_keys(), mask)
    for entry in data:
        error, canonical = classify_permid(entry["permid"])
        c.same([entry["error"], entry["canonical"]], [error, canonical and b64u(canonical)], f"bad key {entry['name']}")
        if entry["error"] == "unsupported-key":  # a genuine key of another type, not garbage
            try:
                openssl(["pkey", "-pubin", "-inform", "DER", "-noout"], b64u_decode(entry["permid"]))
                c.check(True, "")
            except OpenSSLError as failure:
                c.check(False, f"bad key {entry['name']}: openssl cannot load it: {failure}")


def check_worked_example(c: Checker, directory: Path) -> None:
    data = load_json(c, directory / "worked_example.json")
    c.same(data, make_worked_example(), "worked_example.json differs from regenerated")
    record = data["record"]
    c.same(data["message_hex"], build_message(record).hex(), "worked example: message_hex")
    c.same(record_error(record), None, "worked example: signature")


def guarded(c: Checker, file: str, step, *args):
    """Run one file's checks; an exception (e.g. a malformed file) counts as a failure."""
    try:
        return step(c, *args)
    except Exception as error:
        c.check(False, f"{file}: {type(error).__name__}: {error}")
        return None


def check_all(directory: Path) -> bool:
    c = Checker()
    guarded(c, "base64url.json", check_base64url, directory)
    keys = guarded(c, "keys.json", check_keys, directory)
    if keys is None:
        c.check(False, "records.json: not checked, keys.json is unusable")
    else:
        guarded(c, "records.json", check_records, directory, keys)
    guarded(c, "bad_keys.json", check_bad_keys, directory)
    guarded(c, "worked_example.json", check_worked_example, directory)
    guarded(c, "blinding.json", blinding.check, directory)
    guarded(c, "sealed.json", sealed.check, directory)
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", nargs="?", const=HERE, type=Path, metavar="DIR", help="write the vector files")
    mode.add_argument("--check", nargs="?", const=HERE, type=Path, metavar="DIR", help="re-check committed files")
    args = parser.parse_args()
    if args.out:
        write_all(args.out)
        return 0
    return 0 if check_all(args.check) else 1


if __name__ == "__main__":
    import blinding  # FRIENDS-v1 part A; imports this module's helpers, so only once they exist
    import sealed  # FRIENDS-v1 part B; likewise

    sys.exit(main())
