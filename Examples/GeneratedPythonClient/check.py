"""Uses the client that openapi-python-client makes from openapi.yaml against a live permidd, as an
app would: pages through the listing by `next_cursor` (open and sealed records, the two forms of
`Record`), reads `stored_seq` from a 409 to a sealed replay and reads a typed `invalid-permid` problem.

Usage: check.py CLIENT_DIR SERVER_URL EXPECTED_RECORDS, where CLIENT_DIR holds the generated
package `permid_client` (Tests/generated-clients.sh makes it and stores EXPECTED_RECORDS records, one
of them sealed).
"""

import sys


def main() -> int:
    client_dir, server_url, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path.insert(0, client_dir)
    from permid_client import Client
    from permid_client.api.peers import announce_peer, get_peer, list_peers
    from permid_client.models import InvalidPermIDProblem, OpenRecord, RecordPage, SealedAnnouncement, SealedRecord, StaleSeqProblem

    client = Client(base_url=server_url, raise_on_unexpected_status=True)

    records, cursor = [], None
    while True:
        page = list_peers.sync(client=client, limit=1, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, RecordPage), f"listPeers answered {page!r}"
        records += page.records
        cursor = page.next_cursor
        assert len(records) <= 1000, f"the listing does not end: {len(records)} records"
        if cursor is None:
            break
    assert len(records) == expected, f"listed {len(records)} records, expected {expected}"
    assert len({r.permid for r in records}) == expected, "a PermID was listed twice"
    print(f"python: paged through {len(records)} records by next_cursor")

    sealed = [r for r in records if isinstance(r, SealedRecord)]
    assert len(sealed) == 1 and len(sealed[0].sealed) % 8 == 0, f"expected one sealed record padded to 8 boxes: {sealed!r}"
    assert all(isinstance(r, (OpenRecord, SealedRecord)) for r in records), f"a record of neither form: {records!r}"
    record = sealed[0]
    replay = SealedAnnouncement.from_dict(record.to_dict())
    problem = announce_peer.sync(permid=record.permid, client=client, body=replay)
    assert isinstance(problem, StaleSeqProblem), f"replay answered {problem!r}"
    assert problem.stored_seq == record.seq, f"stored_seq {problem.stored_seq}, the record's seq is {record.seq}"
    print(f"python: {len(record.sealed)} sealed boxes; its replay: 409 stale-seq with stored_seq {problem.stored_seq}")

    problem = get_peer.sync(permid="A" * 60, client=client)
    assert isinstance(problem, InvalidPermIDProblem), f"resolving a non-key answered {problem!r}"
    assert (problem.title, problem.status) == ("Invalid PermID", 400), f"invalid-permid problem {problem!r}"
    print(f"python: 400 invalid-permid: {problem.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
