"""Opens every row of a node's store with nothing but docs/formats.md, the sidecar and the KEK.

`read_store(data_dir, kek_bytes)` unwraps the sidecar's DEKs (RFC 3394 under the KEK), opens every sealed
`kv_versions` body (AES-256-GCM, AAD = envelope[0:6] ‖ row key ‖ u64 commit_ts) and decodes the rows of
§2a: primary rows (strings and the metadata of hashes, lists and sets) and element rows. It returns the
newest live value of every key of every database, with collections rebuilt from their element rows:
{(db, key): ("string", bytes) | ("hash", {field: value}) | ("list", [element]) | ("set", {member})}.
Any row it cannot open or decode raises, so a format the document does not describe fails the test.
"""
import base64
import json
import os
import sqlite3
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap


def load_deks(data_dir, kek_bytes):
    with open(os.path.join(data_dir, "encryption", "keys.json")) as handle:
        sidecar = json.load(handle)
    return {int(key_id): aes_key_unwrap(kek_bytes, base64.b64decode(entry["wrapped"]))
            for key_id, entry in sidecar["keys"].items()}


def open_body(record, row_key, ts, deks):
    """A record's header fields and plaintext body (§2, §1)."""
    flags, expire_at = record[0], struct.unpack(">Q", record[1:9])[0]
    tombstone, encoding = flags & 1, (flags >> 1) & 3
    if flags & ~7:
        raise ValueError(f"reserved header bits set in row {row_key!r}")
    body = record[9:]
    if encoding == 1 and not tombstone:
        version, flag, key_id = body[0], body[1], struct.unpack(">I", body[2:6])[0]
        if version != 1 or flag != 0:
            raise ValueError(f"envelope version {version} flag {flag}")
        aad = body[0:6] + row_key + struct.pack(">Q", ts)
        body = AESGCM(deks[key_id]).decrypt(body[6:18], body[18:], aad)
    elif encoding not in (0, 1):
        raise ValueError(f"reserved enc_state {encoding}")
    return tombstone, expire_at, body


def read_store(data_dir, kek_bytes, now_ms):
    deks = load_deks(data_dir, kek_bytes)
    database = sqlite3.connect(f"file:{os.path.join(data_dir, 'kv.db')}?mode=ro", uri=True)
    newest = {}
    for row_key, ts, record in database.execute("SELECT key, ts, value FROM kv_versions ORDER BY key, ts DESC"):
        row_key = bytes(row_key)
        if row_key in newest:
            continue
        newest[row_key] = open_body(bytes(record), row_key, ts, deks)
    database.close()
    elements = {}  # generation -> [(part, body)] of live element rows
    for row_key, (tombstone, _, body) in newest.items():
        if row_key[0] == 1 and not tombstone:
            generation = struct.unpack(">Q", row_key[1:9])[0]
            elements.setdefault(generation, []).append((row_key[9:], body))
    values = {}
    for row_key, (tombstone, expire_at, body) in newest.items():
        if row_key[0] != 0 or tombstone or (expire_at and expire_at <= now_ms):
            continue
        db, key, kind = row_key[1], row_key[2:], body[0]
        if kind == 0:
            values[(db, key)] = ("string", body[1:])
            continue
        generation = struct.unpack(">Q", body[1:9])[0]
        rows = sorted(elements.get(generation, []))
        if kind == 2:
            head, count = struct.unpack(">QQ", body[9:25])
            parts = [struct.unpack(">Q", part)[0] for part, _ in rows]
            if parts != list(range(head, head + count)):
                raise ValueError(f"list {key!r} does not hold positions head … head + count − 1")
            values[(db, key)] = ("list", [element for _, element in rows])
        elif kind in (1, 3):
            count = struct.unpack(">Q", body[13:21])[0]
            if len(rows) != count:
                raise ValueError(f"collection {key!r} has {len(rows)} element rows, its metadata says {count}")
            if kind == 3:
                values[(db, key)] = ("set", {member for _, member in rows})
            else:
                fields = {}
                for _, element in rows:
                    length = struct.unpack(">I", element[0:4])[0]
                    fields[element[4:4 + length]] = element[4 + length:]
                values[(db, key)] = ("hash", fields)
        else:
            raise ValueError(f"unknown type byte {kind} for {key!r}")
    return values
