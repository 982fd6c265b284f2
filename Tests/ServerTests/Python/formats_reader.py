"""Opens every row of a node's store with nothing but docs/formats.md, the sidecar and the KEK.

`read_store(data_dir, kek_bytes, now_ms, stats)` unwraps the sidecar's DEKs (RFC 3394 under the KEK), opens every sealed
`kv_versions` body (AES-256-GCM, AAD = envelope[0:6] ‖ row key ‖ u64 commit_ts; zstd-decoded when the
envelope's flag bit 0 says it was compressed) and decodes the rows of
§2a: primary rows (strings and the metadata of hashes, lists, sets and sorted sets) and element rows. It
returns the newest live value of every key of every database, with collections rebuilt from their element
rows: {(db, key): ("string", bytes) | ("hash", {field: value}) | ("list", [element]) | ("set", {member})
| ("zset", [(member, score)] in order) | ("stream", [((ms, seq), [field, value, …])])}. A sorted set is read
by walking its tree from the root, checking its shape against its metadata and its member rows
(`read_sorted_set`); a stream's entries are its element rows in id order (`read_stream`).
Any row it cannot open or decode raises, so a format the document does not describe fails the test.

`self_test()` (also `python3 formats_reader.py`; encryption_test.py runs it first) seals a small store per
the document (a string, a set, sorted sets of one, two and four levels), reads it back, and checks that
broken sorted sets are refused.
"""
import base64
import hashlib
import hmac
import json
import math
import os
import sqlite3
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
import zstandard

SORTED_SET_MAX_NODE_ENTRIES = 64  # §2a: a node holding more is split
UNKEYED_INDEX_KEY = bytes(32)  # §2a: index key id 0
COMPRESSIBLE_DOCUMENT = b'{"user":"alice","role":"admin"},' * 16


def load_deks(data_dir, kek_bytes):
    with open(os.path.join(data_dir, "encryption", "keys.json")) as handle:
        sidecar = json.load(handle)
    return {int(key_id): aes_key_unwrap(kek_bytes, base64.b64decode(entry["wrapped"]))
            for key_id, entry in sidecar["keys"].items()}


def open_body(record, row_key, ts, deks, stats=None):
    """A record's header fields and plaintext body (§2, §1); a compressed body (envelope flag bit 0) is one
    zstd frame with its content size, decoded here with python-zstandard. `stats["compressed"]` counts those."""
    flags, expire_at = record[0], struct.unpack(">Q", record[1:9])[0]
    tombstone, encoding = flags & 1, (flags >> 1) & 3
    if flags & ~7:
        raise ValueError(f"reserved header bits set in row {row_key!r}")
    body = record[9:]
    if encoding == 1 and not tombstone:
        version, flag, key_id = body[0], body[1], struct.unpack(">I", body[2:6])[0]
        if version != 1 or flag & ~1:
            raise ValueError(f"envelope version {version} flag {flag}")
        aad = body[0:6] + row_key + struct.pack(">Q", ts)
        body = AESGCM(deks[key_id]).decrypt(body[6:18], body[18:], aad)
        if flag & 1:
            if zstandard.get_frame_parameters(body).content_size in (0, zstandard.CONTENTSIZE_UNKNOWN):
                raise ValueError(f"compressed row {row_key!r} does not declare its size")
            body = zstandard.ZstdDecompressor().decompress(body)
            if stats is not None:
                stats["compressed"] = stats.get("compressed", 0) + 1
    elif encoding not in (0, 1):
        raise ValueError(f"reserved enc_state {encoding}")
    return tombstone, expire_at, body


def element_name(index_key, element):
    """The 16-byte name of a set or sorted-set member under an index key (§2a)."""
    return hmac.new(index_key, element, hashlib.sha256).digest()[:16]


def read_score(raw, what):
    """A score as stored (§2a): IEEE 754 binary64, big-endian, never NaN, never −0."""
    if len(raw) != 8:
        raise ValueError(f"{what}: truncated score")
    if raw == b"\x80" + bytes(7):
        raise ValueError(f"{what}: score −0 stored (§2a stores it as 0)")
    score = struct.unpack(">d", raw)[0]
    if math.isnan(score):
        raise ValueError(f"{what}: NaN score")
    return score


def decode_sorted_set_node(body, what):
    """One node body: (0, [(score, member)]) for a leaf, (1, [(child, subtree_count, score, member)]) for an
    internal node; truncation, an unknown kind or trailing bytes raise."""
    if len(body) < 3 or body[0] not in (0, 1):
        raise ValueError(f"{what}: not a node body ({body[:3].hex()})")
    kind, n = body[0], struct.unpack(">H", body[1:3])[0]
    offset, entries = 3, []
    for _ in range(n):
        child = None
        if kind == 1:
            if offset + 16 > len(body):
                raise ValueError(f"{what}: truncated entry")
            child, subtree_count = struct.unpack(">QQ", body[offset:offset + 16])
            offset += 16
        score = read_score(body[offset:offset + 8], what)
        if offset + 12 > len(body):
            raise ValueError(f"{what}: truncated entry")
        length = struct.unpack(">I", body[offset + 8:offset + 12])[0]
        member = body[offset + 12:offset + 12 + length]
        if len(member) != length:
            raise ValueError(f"{what}: truncated member")
        offset += 12 + length
        entries.append((score, member) if kind == 0 else (child, subtree_count, score, member))
    if offset != len(body):
        raise ValueError(f"{what}: {len(body) - offset} bytes after the last entry")
    return kind, entries


def read_sorted_set(key, metadata, rows, deks):
    """The (member, score) pairs of a sorted set in order, from its metadata body (0x04 …) and its live
    element rows [(part, body)].

    Walks the tree from `root`, each node once, and checks what §2a fixes: every node id below `next_node`,
    internal nodes above depth `height` and every leaf at it, no node empty or above 64 entries, each internal
    entry's count and (score, member) those of its child's subtree, the entries strictly in (score, member)
    order, `count` entries in all, no node row outside the tree, and exactly one member row per entry, named
    under the metadata's index key and holding the entry's score.
    """
    if len(metadata) != 38:
        raise ValueError(f"sorted set {key!r}: metadata of {len(metadata)} bytes, not 38")
    _, index_key_id, count, root, height, next_node = struct.unpack(">QIQQBQ", metadata[1:])
    if count < 1 or height < 1:
        raise ValueError(f"sorted set {key!r}: count {count}, height {height}")
    members, nodes = {}, {}
    for part, body in rows:
        if part[:1] == b"\x00" and len(part) == 17:
            member = body[8:]
            if member in members:
                raise ValueError(f"sorted set {key!r}: two member rows for {member!r}")
            members[member] = (part[1:], read_score(body[:8], f"sorted set {key!r} member row"))
        elif part[:1] == b"\x01" and len(part) == 9:
            nodes[struct.unpack(">Q", part[1:])[0]] = body
        else:
            raise ValueError(f"sorted set {key!r}: element part {part.hex()} is neither a member nor a node")

    visited = set()

    def walk(node_id, depth):
        what = f"sorted set {key!r} node {node_id}"
        if not 1 <= node_id < next_node:
            raise ValueError(f"{what}: id outside 1 … next_node − 1 = {next_node - 1}")
        if node_id in visited:
            raise ValueError(f"{what}: reached twice")
        visited.add(node_id)
        if node_id not in nodes:
            raise ValueError(f"{what}: no live node row")
        kind, entries = decode_sorted_set_node(nodes[node_id], what)
        if not 1 <= len(entries) <= SORTED_SET_MAX_NODE_ENTRIES:
            raise ValueError(f"{what}: {len(entries)} entries")
        if (kind == 0) != (depth == height):
            raise ValueError(f"{what}: {'a leaf' if kind == 0 else 'an internal node'} at depth {depth} of {height}")
        if kind == 0:
            return entries
        under = []
        for child, subtree_count, score, member in entries:
            below = walk(child, depth + 1)
            if len(below) != subtree_count:
                raise ValueError(f"{what}: child {child} holds {len(below)} members, its entry says {subtree_count}")
            if below[0] != (score, member):
                raise ValueError(f"{what}: child {child} starts at {below[0]!r}, its entry says {(score, member)!r}")
            under += below
        return under

    entries = walk(root, 1)
    if len(entries) != count:
        raise ValueError(f"sorted set {key!r}: the tree holds {len(entries)} members, its metadata says {count}")
    for before, after in zip(entries, entries[1:]):
        if not before < after:
            raise ValueError(f"sorted set {key!r}: {before!r} comes before {after!r}")
    if visited != set(nodes):
        raise ValueError(f"sorted set {key!r}: node rows {sorted(set(nodes) - visited)} are not in the tree")
    if index_key_id != 0 and index_key_id not in deks:
        raise ValueError(f"sorted set {key!r}: index key {index_key_id} is not in the sidecar")
    index_key = UNKEYED_INDEX_KEY if index_key_id == 0 else deks[index_key_id]
    if len(members) != count:
        raise ValueError(f"sorted set {key!r} has {len(members)} member rows, its metadata says {count}")
    for score, member in entries:
        name, row_score = members.get(member, (None, None))
        if name is None:
            raise ValueError(f"sorted set {key!r}: no member row for {member!r}")
        if name != element_name(index_key, member):
            raise ValueError(f"sorted set {key!r}: member row of {member!r} not named under index key {index_key_id}")
        if struct.pack(">d", row_score) != struct.pack(">d", score):
            raise ValueError(f"sorted set {key!r}: member row of {member!r} holds {row_score}, the tree {score}")
    return [(member, score) for score, member in entries]


def read_stream(key, metadata, rows):
    """The entries of a stream in id order, [((ms, seq), [field, value, …])], from its metadata body (0x05 …)
    and its live element rows (part 0x00 ‖ ms ‖ seq, body n u32 ‖ n × (field blob ‖ value blob))."""
    if len(metadata) != 61:
        raise ValueError(f"stream {key!r}: metadata of {len(metadata)} bytes")
    count, last_ms, last_seq = struct.unpack(">QQQ", metadata[9:33])
    entries = []
    for part, body in rows:
        if part[0] in (1, 2):
            continue  # consumer groups and their pending entries (no user value to find in them here)
        if len(part) != 17 or part[0] != 0:
            raise ValueError(f"stream {key!r}: an element part of {len(part)} bytes")
        ms, seq = struct.unpack(">QQ", part[1:17])
        if (ms, seq) > (last_ms, last_seq):
            raise ValueError(f"stream {key!r}: entry {ms}-{seq} after the last id {last_ms}-{last_seq}")
        pairs = struct.unpack(">I", body[0:4])[0]
        fields, offset = [], 4
        for _ in range(2 * pairs):
            length = struct.unpack(">I", body[offset:offset + 4])[0]
            fields.append(body[offset + 4:offset + 4 + length])
            offset += 4 + length
        if pairs == 0 or offset != len(body):
            raise ValueError(f"stream {key!r}: entry {ms}-{seq} is malformed")
        entries.append(((ms, seq), fields))
    if len(entries) != count:
        raise ValueError(f"stream {key!r} has {len(entries)} entries, its metadata says {count}")
    return entries


def read_store(data_dir, kek_bytes, now_ms, stats=None):
    deks = load_deks(data_dir, kek_bytes)
    database = sqlite3.connect(f"file:{os.path.join(data_dir, 'kv.db')}?mode=ro", uri=True)
    newest = {}
    for row_key, ts, record in database.execute("SELECT key, ts, value FROM kv_versions ORDER BY key, ts DESC"):
        row_key = bytes(row_key)
        if row_key in newest:
            continue
        newest[row_key] = open_body(bytes(record), row_key, ts, deks, stats)
    database.close()
    elements = {}  # generation -> [(part, body)] of live element rows
    for row_key, (tombstone, _, body) in newest.items():
        if row_key[0] == 1 and not tombstone:
            generation = struct.unpack(">Q", row_key[1:9])[0]
            elements.setdefault(generation, []).append((row_key[9:], body))
    values = {}
    for row_key, (tombstone, _, body) in newest.items():
        # Script and function library rows (formats.md §2a): 0x02 ‖ 0x00 ‖ sha1 hex → the script's source,
        # 0x02 ‖ 0x01 ‖ name → the library record.
        if row_key[0] == 2 and not tombstone:
            values[("script" if row_key[1] == 0 else "library", row_key[2:])] = body
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
        elif kind == 4:
            values[(db, key)] = ("zset", read_sorted_set(key, body, rows, deks))
        elif kind == 5:
            values[(db, key)] = ("stream", read_stream(key, body, rows))
        else:
            raise ValueError(f"unknown type byte {kind} for {key!r}")
    return values


def self_test():
    """Seals a store per the document, reads it back, then checks that each broken sorted set is refused."""
    import random
    import tempfile
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    kek, storage_key, index_key = os.urandom(32), os.urandom(32), os.urandom(32)
    storage_id, index_id = 7, 9

    def entry(score, member):
        return struct.pack(">dI", score, len(member)) + member

    def leaf(entries):
        return b"\x00" + struct.pack(">H", len(entries)) + b"".join(entry(*pair) for pair in entries)

    def internal(entries):
        return b"\x01" + struct.pack(">H", len(entries)) + b"".join(
            struct.pack(">QQ", child, count) + entry(score, member) for child, count, score, member in entries)

    def sorted_set(generation, key_id, name_key, pairs, leaf_size, fanout):
        """Metadata body and {part: body} of a sorted set built bottom-up as §2a describes it."""
        entries = sorted((score, member) for member, score in pairs)
        rows, level, next_node = {}, [], 1
        for start in range(0, len(entries), leaf_size):
            chunk = entries[start:start + leaf_size]
            rows[b"\x01" + struct.pack(">Q", next_node)] = leaf(chunk)
            level.append((next_node, len(chunk)) + chunk[0])
            next_node += 1
        height = 1
        while len(level) > 1:
            parents = []
            for start in range(0, len(level), fanout):
                chunk = level[start:start + fanout]
                rows[b"\x01" + struct.pack(">Q", next_node)] = internal(chunk)
                parents.append((next_node, sum(count for _, count, _, _ in chunk)) + chunk[0][2:])
                next_node += 1
            level, height = parents, height + 1
        for score, member in entries:
            rows[b"\x00" + element_name(name_key, member)] = struct.pack(">d", score) + member
        metadata = b"\x04" + struct.pack(">QIQQBQ", generation, key_id, len(entries), level[0][0], height,
                                         next_node + 3)  # ids up to next_node + 2 stay unused
        return metadata, rows

    def element_key(generation, part):
        return b"\x01" + struct.pack(">Q", generation) + part

    def seal(row_key, ts, body, compressed=False):
        if compressed:  # §1: one zstd frame with its content size under the envelope, flag bit 0 set
            body = zstandard.ZstdCompressor(write_content_size=True).compress(body)
        head = bytes([1, 1 if compressed else 0]) + struct.pack(">I", storage_id)
        nonce = os.urandom(12)
        return bytes([0b010]) + bytes(8) + head + nonce + AESGCM(storage_key).encrypt(
            nonce, body, head + row_key + struct.pack(">Q", ts))

    def store(directory, sets, extra=()):
        """Writes keys.json and kv.db: a string (cleartext row), a set, the sorted sets {key: (generation,
        metadata, rows)} and `extra` records [(row_key, ts, record)], every other row sealed at ts 100."""
        os.makedirs(os.path.join(directory, "encryption"), exist_ok=True)
        keys = {str(key_id): {"purpose": purpose, "local_epoch": 0, "created": "2026-12-05T00:00:00Z",
                              "wrapped": base64.b64encode(aes_key_wrap(kek, key)).decode()}
                for key_id, purpose, key in ((storage_id, "storage", storage_key), (index_id, "index", index_key))}
        with open(os.path.join(directory, "encryption", "keys.json"), "w") as handle:
            json.dump({"version": 1, "keys": keys, "active": {"storage": storage_id, "index": index_id}}, handle)
        records = [(b"\x00\x00plain", 90, bytes(9) + b"\x00cleartext string"),
                   (b"\x00\x00doc", 100, seal(b"\x00\x00doc", 100, b"\x00" + COMPRESSIBLE_DOCUMENT, compressed=True)),
                   (b"\x00\x00set", 100, seal(b"\x00\x00set", 100, b"\x03" + struct.pack(">QIQ", 50, index_id, 1))),
                   (element_key(50, element_name(index_key, b"m")), 100,
                    seal(element_key(50, element_name(index_key, b"m")), 100, b"m"))]
        for key, (generation, metadata, rows) in sets.items():
            records.append((b"\x00\x00" + key, 100, seal(b"\x00\x00" + key, 100, metadata)))
            for part, body in rows.items():
                records.append((element_key(generation, part), 100, seal(element_key(generation, part), 100, body)))
        path = os.path.join(directory, "kv.db")
        if os.path.exists(path):
            os.remove(path)
        database = sqlite3.connect(path)
        database.execute("CREATE TABLE kv_versions(key BLOB, ts INTEGER, value BLOB, PRIMARY KEY (key, ts))")
        database.executemany("INSERT INTO kv_versions VALUES (?, ?, ?)", records + list(extra))
        database.commit()
        database.close()

    generator = random.Random(5)
    pairs = [(b"m%03d" % i, float(generator.randrange(-5, 6)) + 0.25) for i in range(90)]
    pairs += [(member, 0.0) for member in (b"", b"p", b"p\x00", b"pa", b"\x7f", b"\x80", b"\xff")]
    pairs += [(b"low", -math.inf), (b"high", math.inf), (b"tiny", 5e-324), (b"big", -1.7976931348623157e308)]
    wanted = [(member, score) for score, member in sorted((score, member) for member, score in pairs)]
    two_levels = sorted_set(200, index_id, index_key, pairs, 20, 64)
    four_levels = sorted_set(300, index_id, index_key, pairs, 16, 2)
    one = sorted_set(400, 0, UNKEYED_INDEX_KEY, [(b"only", 271828.18284590452)], 64, 64)
    sets = {b"two": (200,) + two_levels, b"four": (300,) + four_levels, b"one": (400,) + one}
    heights = struct.unpack(">QIQQBQ", two_levels[0][1:])[4], struct.unpack(">QIQQBQ", four_levels[0][1:])[4]
    assert heights == (2, 4), f"the synthetic trees have heights {heights}"
    first_leaf = element_key(200, b"\x01" + struct.pack(">Q", 1))
    orphan = element_key(200, b"\x01" + struct.pack(">Q", 99))
    extra = [(first_leaf, 40, seal(first_leaf, 40, b"an older version, not a node")),  # the newest version counts
             (orphan, 120, bytes([1]) + bytes(8))]  # a deleted node row: a tombstone is not in the tree
    with tempfile.TemporaryDirectory() as directory:
        store(directory, sets, extra)
        stats = {}
        values = read_store(directory, kek, now_ms=0, stats=stats)
        assert stats.get("compressed") == 1, stats
        assert values == {(0, b"plain"): ("string", b"cleartext string"), (0, b"set"): ("set", {b"m"}),
                          (0, b"doc"): ("string", COMPRESSIBLE_DOCUMENT),
                          (0, b"two"): ("zset", wanted), (0, b"four"): ("zset", wanted),
                          (0, b"one"): ("zset", [(b"only", 271828.18284590452)])}, values

        refused = []

        def broken(change, expected):
            """`change(metadata, rows)` returns a broken (metadata, rows) of the two-level set; reading fails."""
            metadata, rows = change(two_levels[0], dict(two_levels[1]))
            store(directory, {b"two": (200, metadata, rows)})
            try:
                read_store(directory, kek, now_ms=0)
            except ValueError as error:
                assert expected in str(error), f"refused with {error}, not {expected!r}"
                refused.append(expected)
                return
            raise AssertionError(f"a sorted set that should fail with {expected!r} was read")

        def node(rows, node_id):
            return decode_sorted_set_node(rows[b"\x01" + struct.pack(">Q", node_id)], "node")[1]

        def put(rows, node_id, body):
            rows[b"\x01" + struct.pack(">Q", node_id)] = body
            return rows

        def meta(metadata, **fields):
            names = ("generation", "index_key_id", "count", "root", "height", "next_node")
            values = dict(zip(names, struct.unpack(">QIQQBQ", metadata[1:])), **fields)
            return b"\x04" + struct.pack(">QIQQBQ", *(values[name] for name in names))

        root = struct.unpack(">QIQQBQ", two_levels[0][1:])[3]
        root_entries = node(two_levels[1], root)
        member_part = b"\x00" + element_name(index_key, b"m000")
        broken(lambda m, r: (m, put(r, root, internal([(root_entries[0][0], 19) + root_entries[0][2:]]
                                                       + root_entries[1:]))), "its entry says 19")
        broken(lambda m, r: (m, put(r, root, internal([root_entries[0][:2] + (-4.0, b"x")] + root_entries[1:]))),
               "starts at")
        broken(lambda m, r: (meta(m, height=3), r), "a leaf at depth 2 of 3")
        broken(lambda m, r: (meta(m, height=1), r), "an internal node at depth 1 of 1")
        def swapped(entries):
            return entries[:3] + [entries[4], entries[3]] + entries[5:]

        broken(lambda m, r: (m, put(r, 2, leaf(swapped(node(r, 2))))), "comes before")
        broken(lambda m, r: (m, put(r, 2, leaf(node(r, 2)) + b"\x00")), "bytes after the last entry")
        broken(lambda m, r: (m, put(r, 2, leaf(node(r, 2)[:-1]))), "holds 19 members")
        broken(lambda m, r: (meta(m, count=len(pairs) + 1), r), "its metadata says")
        broken(lambda m, r: (meta(m, next_node=root), r), "outside")
        broken(lambda m, r: (m, put(r, root + 3, leaf([(0.5, b"stray")]))), "are not in the tree")
        broken(lambda m, r: (m, put(r, root, internal(root_entries[:1] + root_entries))), "reached twice")
        broken(lambda m, r: (m, {**r, member_part: struct.pack(">d", 1.5) + b"m000"}), "holds 1.5")
        broken(lambda m, r: (m, {**r, member_part: b"\x80" + bytes(7) + b"m000"}), "−0")
        broken(lambda m, r: (m, {part: body for part, body in r.items() if part != member_part}), "member rows")
        broken(lambda m, r: (meta(m, index_key_id=0), r), "not named under index key 0")
        broken(lambda m, r: sorted_set(200, index_id, index_key, pairs, 65, 64), "65 entries")
        broken(lambda m, r: (m, {**r, b"\x02": b""}), "neither a member nor a node")
    print(f"ok: formats_reader self-test (sorted sets of 1, 2 and 4 levels read back, {len(refused)} broken ones "
          f"refused)")


if __name__ == "__main__":
    self_test()
