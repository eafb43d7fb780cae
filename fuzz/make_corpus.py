#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/<target>/ from Tests/Vectors/*.json.

    python3 fuzz/make_corpus.py            # rewrite fuzz/corpus (then review and commit)

Only the standard library is needed. Each target gets at most 60 small files:
  json_record  every record object of records.json and worked_example.json, compact JSON; then, in
               the room left, sealed.json's records (FRIENDS-v1 part B): every shape and box defect
               of its "invalid" list once (the Ed25519 ones), then its "records" and "limits" in turn
  announce     "<permid>\\n<compact JSON>" for every valid record (and the worked example),
               with and without the optional body member "permid"; then, in the room left,
               "<permid>\\n<compact JSON>" of sealed.json's records, limits and invalid records in turn
  permid_der   the binary PermID of every keys.json / bad_keys.json entry (bad texts decoded
               leniently, so padded or standard-alphabet ones still give their bytes) and the
               canonical forms named by bad_keys.json
  base64url    every valid and invalid text of base64url.json, and the PermID texts of keys.json
"""
import base64
import json
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "Tests" / "Vectors"
CORPUS = ROOT / "fuzz" / "corpus"
LIMIT = 60


def load(name):
    with open(VECTORS / name, encoding="utf-8") as handle:
        return json.load(handle)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def lenient_b64(text):
    text = text.strip().rstrip("=").replace("+", "-").replace("/", "_")
    text = re.sub(r"[^A-Za-z0-9_-]", "", text)
    if len(text) % 4 == 1:
        text = text[:-1]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "empty"


def in_turn(groups, room):
    """Up to `room` entries, one from each group in turn, so every group is represented."""
    picked, iterators = [], [iter(group) for group in groups]
    while iterators and len(picked) < room:
        for iterator in list(iterators):
            entry = next(iterator, None)
            if entry is None:
                iterators.remove(iterator)
            elif len(picked) < room:
                picked.append(entry)
    return picked


def sealed_entries(sealed, kinds):
    """sealed.json's lists named in `kinds`, as groups of (kind, entry)."""
    return [[(kind, entry) for entry in sealed[kind]] for kind in kinds]


def write(target, files):
    directory = CORPUS / target
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    seen = set()
    count = 0
    for name, data in files:
        if data in seen:
            continue
        seen.add(data)
        (directory / name).write_bytes(data)
        count += 1
        if count == LIMIT:
            break
    print(f"{target}: {count} files")


def main():
    records = load("records.json")
    keys = load("keys.json")
    bad_keys = load("bad_keys.json")
    b64 = load("base64url.json")
    example = load("worked_example.json")
    sealed = load("sealed.json")

    json_files = [(f"valid-{slug(e['name'])}.json", compact(e["record"])) for e in records["valid"]]
    json_files += [(f"invalid-{slug(e['name'])}.json", compact(e["record"])) for e in records["invalid"]]
    json_files.append(("worked-example.json", compact(example["record"])))
    # The shape defects matter most to the JSON decoder: each once (one key family), then valid records.
    defects = [("invalid", e) for e in sealed["invalid"] if e["name"].startswith("ed25519-")][: LIMIT - len(json_files)]
    defects += in_turn(sealed_entries(sealed, ("records", "limits")), LIMIT - len(json_files) - len(defects))
    json_files += [(f"sealed-{kind}-{slug(entry['name'])}.json", compact(entry["record"])) for kind, entry in defects]
    write("json_record", json_files)

    announce = []
    valid = [(slug(e["name"]), e["record"]) for e in records["valid"]] + [("worked-example", example["record"])]
    for name, record in valid:
        announce.append((f"{name}.txt", record["permid"].encode() + b"\n" + compact(record)))
    for name, record in valid:
        without = {key: value for key, value in record.items() if key != "permid"}
        announce.append((f"{name}-no-permid.txt", record["permid"].encode() + b"\n" + compact(without)))
    announce += [
        (f"sealed-{kind}-{slug(entry['name'])}.txt", entry["record"]["permid"].encode() + b"\n" + compact(entry["record"]))
        for kind, entry in in_turn(sealed_entries(sealed, ("records", "limits", "invalid")), LIMIT - len(announce))
    ]
    write("announce", announce)

    der = [(f"key-{slug(k['name'])}.der", lenient_b64(k["permid"])) for k in keys]
    der.append(("worked-example.der", bytes.fromhex(example["permid_hex"])))
    der += [(f"bad-{slug(k['name'])}.der", lenient_b64(k["permid"])) for k in bad_keys]
    der += [(f"canonical-{slug(k['name'])}.der", lenient_b64(k["canonical"])) for k in bad_keys if k.get("canonical")]
    write("permid_der", der)

    texts = [(f"valid-{i:02d}.txt", e["text"].encode("utf-8")) for i, e in enumerate(b64["valid"])]
    texts += [(f"invalid-{i:02d}-{slug(e['reason'])[:40]}.txt", e["text"].encode("utf-8")) for i, e in enumerate(b64["invalid"])]
    texts += [(f"permid-{slug(k['name'])}.txt", k["permid"].encode()) for k in keys]
    write("base64url", texts)


if __name__ == "__main__":
    main()
