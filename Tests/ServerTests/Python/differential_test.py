"""Differential test: the same Redis command sequences against a real redis-server and a 3-node elastickv cluster.

Usage: differential_test.py --bin DIR --workdir DIR [--seed N] [--random-commands N] [--redis-server PATH]

Every command is sent as a RESP2 array of bulk strings over a raw socket, on one connection per sequence and
server, and exactly one complete reply is read back and kept as raw bytes; the two replies must be equal byte
for byte, error texts included. The sequences are the hand-written ones in differential_cases.txt (its header
documents the format) followed by a random walk (fixed seed, `--seed` to change it) over a small key space of
strings, hashes, lists, sets and sorted sets. Successive sequences go to elastickv nodes n1, n2, n3, n1 … so
follower forwarding and follower reads are part of every run.

A difference listed in differential_known.txt (one command pattern per line, with its reason) is counted and
skipped; any other is printed with both replies and the script exits 1. Every process it starts is stopped
at the end, also on failure or SIGTERM.
"""
import argparse
import codecs
import fnmatch
import glob
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import PASSWORD, Cluster, check  # noqa: E402
from ports import free_ports  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_FILE = os.path.join(HERE, "differential_cases.txt")
# Further case files of the same format, one per command family (differential_cases_<family>.txt), run after it.
EXTRA_CASES_GLOB = "differential_cases_*.txt"
KNOWN_FILE = os.path.join(HERE, "differential_known.txt")
DEFAULT_SEED = 20250101
RANDOM_COMMANDS = 600
RANDOM_COMMANDS_PER_SEQUENCE = 50
SOCKET_TIMEOUT_SECONDS = 15
MAX_REPLY_BYTES = 1 << 20
DEADLINE_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
# Replies that mean the cluster could not serve the command at all (no leader, a lost forward): not a Redis
# behaviour to compare, so the run stops with the cluster's logs instead of reporting a difference.
UNAVAILABLE_PREFIXES = (b"-TRYAGAIN", b"-CLUSTERDOWN", b"-AMBIGUOUS")
# HELLO's map fields that name the implementation or the connection rather than Redis behaviour.
HELLO_IDENTITY_FIELDS = (b"server", b"version", b"id")


# ---------------------------------------------------------------------------------------------------------------
# RESP: encoding requests and reading back exactly one reply.

class Incomplete(Exception):
    """The buffer ends before the reply does."""


class Reply:
    """One complete reply: its type byte, its raw bytes and, for an aggregate, its elements."""

    def __init__(self, kind, raw, elements=()):
        self.kind = kind
        self.raw = raw
        self.elements = list(elements)

    def integer(self):
        return int(self.raw[1:-2]) if self.kind == ":" else None


CLOSED = Reply("closed", b"<connection closed>")
LINE_TYPES = b"+-:_,#("
BLOB_TYPES = b"$=!"
AGGREGATE_TYPES = b"*~>"


def encode(arguments):
    """A request as Redis clients send it: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(arguments)]
    for argument in arguments:
        parts.append(b"$%d\r\n%s\r\n" % (len(argument), argument))
    return b"".join(parts)


def parse(buffer, start=0, depth=0):
    """The reply that begins at `start`, and the offset just past it; `Incomplete` if it is not all there."""
    check(depth < 32, "reply nested more than 32 levels deep")
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        raise Incomplete()
    kind = buffer[start:start + 1]
    header = buffer[start + 1:line_end]
    end = line_end + 2
    if kind and kind in LINE_TYPES:
        return Reply(kind.decode(), buffer[start:end]), end
    check(kind != b"" and kind in BLOB_TYPES + AGGREGATE_TYPES + b"%|", f"unknown reply type {buffer[start:end]!r}")
    count = int(header)
    if kind in BLOB_TYPES:
        if count < 0:
            return Reply(kind.decode(), buffer[start:end]), end
        if len(buffer) < end + count + 2:
            raise Incomplete()
        check(buffer[end + count:end + count + 2] == b"\r\n", f"bulk reply not ended by CRLF: {buffer[start:]!r}")
        return Reply(kind.decode(), buffer[start:end + count + 2]), end + count + 2
    elements = []
    for _ in range(max(count, 0) * (2 if kind in b"%|" else 1)):
        element, end = parse(buffer, end, depth + 1)
        elements.append(element)
    if kind == b"|":  # an attribute annotates the reply that follows it: keep both as one reply
        annotated, end = parse(buffer, end, depth + 1)
        return Reply(annotated.kind, buffer[start:end], annotated.elements), end
    return Reply(kind.decode(), buffer[start:end], elements), end


class Connection:
    """One client connection that sends a command and reads back one complete reply."""

    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_SECONDS)
        self.buffer = b""

    def call(self, arguments):
        self.socket.sendall(encode(arguments))
        for _ in range(MAX_REPLY_BYTES // 4096 + 1):
            try:
                reply, end = parse(self.buffer)
                self.buffer = self.buffer[end:]
                return reply
            except Incomplete:
                chunk = self.socket.recv(65536)
                if not chunk:
                    return CLOSED
                self.buffer += chunk
                check(len(self.buffer) <= MAX_REPLY_BYTES,
                      f"reply to {arguments[:2]!r} exceeds {MAX_REPLY_BYTES} bytes")
        raise AssertionError(f"reply to {arguments[:2]!r} did not end")

    def close(self):
        self.socket.close()


# ---------------------------------------------------------------------------------------------------------------
# Sequences: the case file and the random walk.

class Step:
    """One command of a sequence and how its two replies are compared."""

    def __init__(self, arguments, mode="exact", where=""):
        self.arguments = [argument.encode() if isinstance(argument, str) else argument for argument in arguments]
        self.mode = mode
        self.where = where

    @property
    def name(self):
        return self.arguments[0].lower() if self.arguments else b""

    @property
    def text(self):
        """The command as a shell line, for messages."""
        return shlex.join(argument.decode(errors="backslashreplace") for argument in self.arguments)


class Sequence:
    def __init__(self, where, steps, authenticate=True):
        self.where = where
        self.steps = steps
        self.authenticate = authenticate


MODES = ("unordered", "sign", "shape")
ESCAPED = "escaped"  # a line prefix, before any mode: its words are decoded as Python bytes escapes
DIRECTIVES = ("@noauth",)


def read_cases(path):
    """The sequences of a case file (the format is documented at the top of the file)."""
    sequences, steps, authenticate, first = [], [], True, None
    name = os.path.basename(path)
    with open(path) as handle:
        lines = handle.read().splitlines() + [""]
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            if steps:
                sequences.append(Sequence(f"{name}:{first}", steps, authenticate))
            steps, authenticate, first = [], True, None
            continue
        if text.startswith("#"):
            continue
        first = first or number
        if text in DIRECTIVES:
            check(not steps, f"{name}:{number}: {text} must come before the sequence's first command")
            authenticate = False
            continue
        escaped = text.startswith(ESCAPED + " ")
        if escaped:
            text = text[len(ESCAPED) + 1:]
        mode, _, rest = text.partition(" ")
        if mode not in MODES:
            mode, rest = "exact", text
        arguments = [PASSWORD if word == "$PASSWORD" else word for word in shlex.split(rest)]
        if escaped:  # \n \r \t \\ \xNN in a word stand for those bytes (a newline, a non-UTF-8 byte)
            arguments = [codecs.escape_decode(word.encode())[0] for word in arguments]
        check(arguments, f"{name}:{number}: no command after '{mode}'")
        steps.append(Step(arguments, mode, f"{name}:{number}"))
    return sequences


class RandomWalk:
    """Commands over 20 keys and 6 hash fields, so strings, hashes, lists, sets and sorted sets collide
    (WRONGTYPE) and keys go missing.

    No exact TTL is read (TTL, PTTL and EXPIRETIME compare only -2, -1 or positive); relative expiries are
    a day or more away and absolute ones in 2100, so nothing expires during the run and GT/LT (used only with
    the absolute ones) compare the same way on both servers. INCRBYFLOAT and HINCRBYFLOAT add values exact in
    binary, so most sums do not depend on the float width (APPEND and SETRANGE can still build a decimal).
    Sorted-set scores, increments and weights are multiples of 0.5 (or ±inf), so every sum and product is exact
    and prints the same in both servers; a lex range is read only from LEX_KEY, whose members all have score 0
    (Redis leaves a lex range over mixed scores unspecified). A sorted set here never outgrows a listpack, so
    ZSCAN answers every member at once, in order, and is compared exactly.
    """

    KEYS = [f"rnd:k{i}" for i in range(20)]
    KINDS = ["string", "hash", "list", "set", "zset"]
    # Each kind of command picks from its own share of the keys nine times in ten, so most commands reach a
    # value of their type and the rest cross over (WRONGTYPE, a string overwriting a hash, a set as a ZUNION
    # input). Any more crossing and strings take over the other shares: SET replaces a hash, but HSET does not
    # replace a string.
    OWN_HALF_PROBABILITY = 0.9
    FIELDS = [f"f{i}" for i in range(6)]
    VALUES = ["0", "1", "-5", "7", "42", "x", "ab", "hello", "", "2.5"]
    ELEMENTS = ["a", "b", "c", "", "7"]
    FLOAT_DELTAS = ["0.5", "-1.25", "3", "10.75", "-0.5"]
    FAR_SECONDS = "100000"
    FAR_EPOCH_SECONDS = ["4102444800", "4102444900"]  # 2100-01-01 and 100 s later
    SCORES = ["0", "1", "-2", "2.5", "10", "-0.5", "inf", "-inf"]
    INCREMENTS = ["1", "-1", "0.5", "-2.5", "3", "inf", "-inf"]
    WEIGHTS = ["1", "2", "0", "-1", "0.5"]
    SCORE_BOUNDS = ["-inf", "+inf", "0", "(0", "1", "(1", "2.5", "(2.5", "-2", "10", "(10"]
    LEX_KEY = "rnd:zlex"  # only ever given members of score 0, by the lex commands alone
    LEX_BOUNDS = ["-", "+", "[a", "(a", "[b", "(b", "[c", "[", "(7", "[7"]

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.generators = [(self.string_read, 6), (self.string_write, 8), (self.counter, 5), (self.key_command, 6),
                           (self.key_move, 2), (self.hash_read, 6), (self.hash_write, 6), (self.whole_keyspace, 1),
                           (self.list_read, 6), (self.list_write, 8), (self.set_read, 6), (self.set_write, 8),
                           (self.zset_read, 6), (self.zset_write, 8)]

    def sequences(self, count):
        """`count` commands in sequences of RANDOM_COMMANDS_PER_SEQUENCE."""
        steps = [self.step() for _ in range(count)]
        for index, step in enumerate(steps):
            step.where = f"random command {index}"
        size = RANDOM_COMMANDS_PER_SEQUENCE
        return [Sequence(f"random commands {start}…", steps[start:start + size]) for start in range(0, count, size)]

    def step(self):
        generators, weights = zip(*self.generators)
        return self.random.choices(generators, weights)[0]()

    def pick(self, *options):
        return self.random.choice(options)

    def key(self, kind="string"):
        third = len(self.KEYS) // len(self.KINDS)
        start = self.KINDS.index(kind) * third
        own, other = self.KEYS[start:start + third], self.KEYS[:start] + self.KEYS[start + third:]
        return self.random.choice(own if self.random.random() < self.OWN_HALF_PROBABILITY else other)

    def any_key(self):
        return self.key(self.pick(*self.KINDS))

    def keys(self, low=1, high=3, kind=None):
        return [self.key(kind) if kind else self.any_key() for _ in range(self.random.randint(low, high))]

    def value(self):
        return self.random.choice(self.VALUES)

    def field(self):
        return self.random.choice(self.FIELDS)

    def fields(self):
        return [self.field() for _ in range(self.random.randint(1, 3))]

    def far_epoch(self, milliseconds=False):
        return self.random.choice(self.FAR_EPOCH_SECONDS) + ("000" if milliseconds else "")

    def string_read(self):
        key, choice = self.key(), self.random.randrange(8)
        if choice == 6:
            return self.bit_read(key)
        if choice == 7:
            return Step(["GETBIT", key, str(self.random.randint(0, 40))])
        if choice == 0:
            return Step(["GET", key])
        if choice == 1:
            return Step(["MGET", *self.keys()])
        if choice == 2:
            return Step(["STRLEN", key])
        if choice <= 4:
            start, end = self.random.randint(-4, 4), self.random.randint(-4, 6)
            return Step([self.pick("GETRANGE", "SUBSTR"), key, str(start), str(end)])
        return Step([self.pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), key], "sign")

    def string_write(self):
        key, value, choice = self.key(), self.value(), self.random.randrange(12)
        if choice == 10:
            return Step(["SETBIT", key, str(self.random.randint(0, 40)), self.pick("0", "1")])
        if choice == 11:
            operation = self.pick("AND", "OR", "XOR", "NOT")
            sources = self.keys(1, 1 if operation == "NOT" else 3, "string")
            return Step(["BITOP", operation, key, *sources])
        if choice <= 2:
            options = self.pick([], ["NX"], ["XX"], ["GET"], ["EX", self.FAR_SECONDS], ["KEEPTTL"], ["XX", "GET"],
                                ["NX", "GET"], ["PXAT", self.far_epoch(milliseconds=True)])
            return Step(["SET", key, value, *options])
        if choice == 3:
            return Step(["SETNX", key, value])
        if choice == 4:
            return Step(self.pick(["SETEX", key, self.FAR_SECONDS, value],
                                  ["PSETEX", key, self.FAR_SECONDS + "000", value]))
        if choice == 5:
            pairs = [word for other in self.keys(1, 3, "string") for word in (other, self.value())]
            return Step([self.pick("MSET", "MSETNX"), *pairs])
        if choice == 6:
            return Step([self.pick("GETSET", "APPEND"), key, value])
        if choice == 7:
            return Step(["SETRANGE", key, str(self.random.randint(0, 6)), value])
        if choice == 8:
            return Step(["GETDEL", key])
        return Step(["GETEX", key, *self.pick([], ["PERSIST"], ["EX", self.FAR_SECONDS], ["EXAT", self.far_epoch()])])

    def bit_read(self, key):
        start, end = str(self.random.randint(-3, 3)), str(self.random.randint(-3, 5))
        unit = self.pick([], ["BYTE"], ["BIT"])
        if self.random.random() < 0.5:
            return Step(["BITCOUNT", key, *self.pick([], [start, end, *unit])])
        return Step(["BITPOS", key, self.pick("0", "1"), *self.pick([], [start], [start, end], [start, end, *unit])])

    def counter(self):
        key, choice = self.key(), self.random.randrange(5)
        if choice <= 1:
            return Step([self.pick("INCR", "DECR"), key])
        if choice <= 3:
            return Step([self.pick("INCRBY", "DECRBY"), key, str(self.random.randint(-20, 20))])
        return Step(["INCRBYFLOAT", key, self.random.choice(self.FLOAT_DELTAS)])

    def key_command(self):
        key, choice = self.any_key(), self.random.randrange(9)
        if choice <= 1:
            return Step([self.pick("DEL", "UNLINK", "EXISTS", "TOUCH"), *self.keys()])
        if choice == 2:
            return Step(["TYPE", key])
        if choice == 3:
            relative = self.pick(["EXPIRE", key, self.FAR_SECONDS], ["PEXPIRE", key, self.FAR_SECONDS + "000"])
            return Step(relative + self.pick([], [], ["NX"], ["XX"]))
        if choice == 4:
            absolute = self.pick(["EXPIREAT", key, self.far_epoch()], ["PEXPIREAT", key, self.far_epoch(True)])
            return Step(absolute + self.pick([], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"]))
        if choice == 5:
            # A deadline already past deletes the key at once.
            return Step(self.pick(["EXPIRE", key, "-1"], ["PEXPIREAT", key, "1"], ["EXPIREAT", key, "0"]))
        if choice == 6:
            return Step(["PERSIST", key])
        return Step([self.pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), key], "sign")

    def key_move(self):
        source, destination = self.any_key(), self.any_key()
        return Step(self.pick(["RENAME", source, destination], ["RENAMENX", source, destination],
                              ["COPY", source, destination], ["COPY", source, destination, "REPLACE"]))

    def hash_read(self):
        key, choice = self.key("hash"), self.random.randrange(10)
        if choice <= 1:
            return Step(["HGET", key, self.field()])
        if choice == 2:
            return Step(["HMGET", key, *self.fields()])
        if choice == 3:
            return Step([self.pick("HEXISTS", "HSTRLEN"), key, self.field()])
        if choice == 4:
            return Step(["HLEN", key])
        if choice == 5:
            # A count of at least the hash's size answers every field: no randomness to compare.
            return Step(["HRANDFIELD", key, str(len(self.FIELDS)), *self.pick([], ["WITHVALUES"])], "unordered")
        if choice == 6:
            return Step(["HSCAN", key, "0", *self.pick([], ["MATCH", "f[0-2]"], ["COUNT", "2"])], "unordered")
        return Step([self.pick("HGETALL", "HKEYS", "HVALS"), key], "unordered")

    def hash_write(self):
        key, choice = self.key("hash"), self.random.randrange(8)
        if choice <= 2:
            pairs = [word for _ in range(self.random.randint(1, 3)) for word in (self.field(), self.value())]
            return Step([self.pick("HSET", "HSET", "HMSET"), key, *pairs])
        if choice == 3:
            return Step(["HSETNX", key, self.field(), self.value()])
        if choice == 4:
            return Step(["HDEL", key, *self.fields()])
        if choice == 5:
            return Step(["HINCRBY", key, self.field(), str(self.random.randint(-10, 10))])
        if choice == 6:
            return Step(["HINCRBYFLOAT", key, self.field(), self.random.choice(self.FLOAT_DELTAS)])
        return Step(["DEL", key])  # gives a key of the hash half that a string took over back to HSET

    def element(self):
        return self.random.choice(self.ELEMENTS)

    def elements(self):
        return [self.element() for _ in range(self.random.randint(1, 4))]

    def index(self):
        return str(self.random.randint(-5, 5))

    def list_read(self):
        key, choice = self.key("list"), self.random.randrange(6)
        if choice <= 1:
            return Step(["LRANGE", key, self.index(), self.pick("-1", "0", "2", "10", "-3")])
        if choice == 2:
            return Step(["LLEN", key])
        if choice == 3:
            return Step(["LINDEX", key, self.index()])
        options = self.pick([], ["RANK", self.pick("1", "2", "-1", "-2")], ["COUNT", self.pick("0", "1", "2")],
                            ["MAXLEN", self.pick("0", "2")], ["RANK", "-1", "COUNT", "0", "MAXLEN", "3"])
        return Step(["LPOS", key, self.element(), *options])

    def list_write(self):
        key, choice = self.key("list"), self.random.randrange(12)
        if choice <= 2:
            return Step([self.pick("LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"), key, *self.elements()])
        if choice == 3:
            return Step([self.pick("LPOP", "RPOP"), key, *self.pick([], [], ["0"], ["1"], ["3"])])
        if choice == 4:
            return Step(["LSET", key, self.index(), self.element()])
        if choice == 5:
            return Step(["LINSERT", key, self.pick("BEFORE", "AFTER"), self.element(), self.element()])
        if choice == 6:
            return Step(["LREM", key, self.index(), self.element()])
        if choice == 7:
            return Step(["LTRIM", key, self.index(), self.index()])
        if choice == 8:
            ends = [self.pick("LEFT", "RIGHT"), self.pick("LEFT", "RIGHT")]
            return Step(self.pick(["LMOVE", key, self.key("list"), *ends], ["RPOPLPUSH", key, self.key("list")]))
        if choice == 9:
            keys = self.keys(1, 3, "list")
            return Step(["LMPOP", str(len(keys)), *keys, self.pick("LEFT", "RIGHT"),
                         *self.pick([], ["COUNT", self.pick("1", "2", "5")])])
        if choice == 10:
            return Step(["DEL", key])
        return Step(["LPUSH", key, *self.elements()])

    def members(self):
        return [self.element() for _ in range(self.random.randint(1, 3))]

    def set_read(self):
        key, choice = self.key("set"), self.random.randrange(7)
        if choice == 0:
            return Step(["SISMEMBER", key, self.element()])
        if choice == 1:
            return Step(["SMISMEMBER", key, *self.members()])
        if choice == 2:
            return Step(["SCARD", key])
        if choice == 3:
            return Step(["SMEMBERS", key], "unordered")
        if choice == 4:
            keys = self.keys(1, 3, "set")
            return Step([self.pick("SINTER", "SUNION", "SDIFF"), *keys], "unordered")
        if choice == 5:
            keys = self.keys(1, 3, "set")
            return Step(["SINTERCARD", str(len(keys)), *keys, *self.pick([], ["LIMIT", self.pick("0", "1", "2")])])
        # A count of at least the set's size answers every member: no randomness to compare.
        return Step(["SRANDMEMBER", key, str(len(self.ELEMENTS))], "unordered")

    def set_write(self):
        key, choice = self.key("set"), self.random.randrange(8)
        if choice <= 2:
            return Step(["SADD", key, *self.members()])
        if choice == 3:
            return Step(["SREM", key, *self.members()])
        if choice == 4:
            return Step(["SMOVE", key, self.key("set"), self.element()])
        if choice == 5:
            keys = self.keys(1, 3, "set")
            return Step([self.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), self.key("set"), *keys])
        if choice == 6:
            # Popping a whole set is deterministic to compare; smaller pops are random in both servers.
            return Step(["SPOP", key, str(len(self.ELEMENTS))], "unordered")
        return Step(["DEL", key])

    def score(self):
        return self.random.choice(self.SCORES)

    def score_bound(self):
        return self.random.choice(self.SCORE_BOUNDS)

    def lex_bound(self):
        return self.random.choice(self.LEX_BOUNDS)

    def limit(self):
        return self.pick([], [], ["LIMIT", str(self.random.randint(0, 3)), self.pick("-1", "0", "1", "2", "5")])

    def scored_members(self, score=None):
        count = self.random.randint(1, 4)
        return [word for _ in range(count) for word in (score or self.score(), self.element())]

    def combine_options(self, count, store):
        """WEIGHTS and AGGREGATE for ZUNION or ZINTER (and STORE) over `count` keys, WITHSCORES for a reply."""
        weights = self.pick([], [], ["WEIGHTS", *(self.random.choice(self.WEIGHTS) for _ in range(count))])
        aggregate = self.pick([], [], ["AGGREGATE", self.pick("SUM", "MIN", "MAX")])
        return weights + aggregate + ([] if store else self.pick([], ["WITHSCORES"]))

    def zset_read(self):
        key, choice = self.key("zset"), self.random.randrange(12)
        if choice == 0:
            return Step(["ZSCORE", key, self.element()])
        if choice == 1:
            return Step(["ZMSCORE", key, *self.members()])
        if choice == 2:
            return Step(self.pick(["ZCARD", key], ["ZCOUNT", key, self.score_bound(), self.score_bound()]))
        if choice == 3:
            return Step([self.pick("ZRANK", "ZREVRANK"), key, self.element()])
        if choice == 4:
            return Step(["ZRANGE", key, self.index(), self.pick("-1", "0", "2", "10", "-3"),
                         *self.pick([], ["REV"]), *self.pick([], ["WITHSCORES"])])
        if choice == 5:
            return Step(["ZRANGE", key, self.score_bound(), self.score_bound(), "BYSCORE", *self.pick([], ["REV"]),
                         *self.limit(), *self.pick([], ["WITHSCORES"])])
        if choice == 6:
            name = self.pick("ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE")
            if name == "ZREVRANGE":
                return Step([name, key, self.index(), self.index(), *self.pick([], ["WITHSCORES"])])
            return Step([name, key, self.score_bound(), self.score_bound(), *self.pick([], ["WITHSCORES"]),
                         *self.limit()])
        if choice == 7:
            return Step(["ZSCAN", key, "0", *self.pick([], ["MATCH", "[ab]*"], ["COUNT", "2"])])
        if choice == 8:
            # A count of at least the sorted set's size answers every member: no randomness to compare.
            return Step(["ZRANDMEMBER", key, str(len(self.ELEMENTS)), *self.pick([], ["WITHSCORES"])], "unordered")
        if choice == 9:
            keys = self.keys(1, 3, "zset")
            name = self.pick("ZUNION", "ZINTER", "ZDIFF")
            options = self.pick([], ["WITHSCORES"]) if name == "ZDIFF" else self.combine_options(len(keys), False)
            return Step([name, str(len(keys)), *keys, *options])
        if choice == 10:
            keys = self.keys(1, 3, "zset")
            return Step(["ZINTERCARD", str(len(keys)), *keys, *self.pick([], ["LIMIT", self.pick("0", "1", "2")])])
        return self.lex_read()

    def lex_read(self):
        key, choice = self.LEX_KEY, self.random.randrange(4)
        if choice == 0:
            return Step(["ZLEXCOUNT", key, self.lex_bound(), self.lex_bound()])
        if choice == 1:
            return Step(["ZRANGE", key, self.lex_bound(), self.lex_bound(), "BYLEX", *self.pick([], ["REV"]),
                         *self.limit()])
        return Step([self.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), key, self.lex_bound(), self.lex_bound(),
                     *self.limit()])

    def zset_write(self):
        # ZADD and ZINCRBY dominate: pops, removals and STOREs of an empty result delete keys.
        key, choice = self.key("zset"), self.random.randrange(16)
        if choice <= 5:
            flags = self.pick([], [], [], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "CH"], ["GT", "CH"],
                              ["LT", "XX"], ["INCR"], ["NX", "INCR"], ["GT", "INCR"])
            pairs = [self.score(), self.element()] if "INCR" in flags else self.scored_members()
            return Step(["ZADD", key, *flags, *pairs])
        if choice <= 7:
            return Step(["ZINCRBY", key, self.random.choice(self.INCREMENTS), self.element()])
        if choice == 8:
            return Step(["ZREM", key, *self.members()])
        if choice == 9:
            return Step([self.pick("ZPOPMIN", "ZPOPMAX"), key, *self.pick([], [], ["0"], ["1"], ["3"])])
        if choice == 10:
            keys, end = self.keys(1, 3, "zset"), self.pick("MIN", "MAX")
            count = self.pick([], ["COUNT", self.pick("1", "2", "5")])
            # Blocking only with a short timeout: served at once, or nil (or WRONGTYPE) 10 ms later.
            return Step(self.pick(["ZMPOP", str(len(keys)), *keys, end, *count],
                                  ["ZMPOP", str(len(keys)), *keys, end, *count],
                                  ["BZMPOP", "0.01", str(len(keys)), *keys, end, *count],
                                  [self.pick("BZPOPMIN", "BZPOPMAX"), *keys, "0.01"]))
        if choice == 11:
            return Step(self.pick(["ZREMRANGEBYRANK", key, self.index(), self.index()],
                                  ["ZREMRANGEBYSCORE", key, self.score_bound(), self.score_bound()]))
        if choice == 12:
            keys = self.keys(1, 3, "zset")
            name = self.pick("ZUNIONSTORE", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
            options = [] if name == "ZDIFFSTORE" else self.combine_options(len(keys), True)
            return Step([name, self.key("zset"), str(len(keys)), *keys, *options])
        if choice == 13:
            source = self.key("zset")
            return Step(self.pick(["ZRANGESTORE", key, source, self.index(), self.index(), *self.pick([], ["REV"])],
                                  ["ZRANGESTORE", key, source, self.score_bound(), self.score_bound(), "BYSCORE",
                                   *self.pick([], ["REV"]), *self.limit()]))
        if choice == 14:
            return self.lex_write()
        return Step(["DEL", key])

    def lex_write(self):
        key, choice = self.LEX_KEY, self.random.randrange(5)
        if choice <= 2:
            return Step(["ZADD", key, *self.pick([], ["NX"]), *self.scored_members("0")])
        if choice == 3:
            return Step(["ZREM", key, *self.members()])
        return Step(["ZREMRANGEBYLEX", key, self.lex_bound(), self.lex_bound()])

    def whole_keyspace(self):
        # Not DBSIZE: it counts the hand-written sequences' keys too, so one earlier difference would repeat.
        if self.random.random() < 0.5:
            return Step(["KEYS", "rnd:*"], "unordered")
        type_filter = self.pick([], ["TYPE", "hash"], ["TYPE", "string"], ["TYPE", "list"], ["TYPE", "set"],
                                ["TYPE", "zset"])
        return Step(["SCAN", "0", "MATCH", "rnd:*", "COUNT", "1000", *type_filter], "unordered")


# ---------------------------------------------------------------------------------------------------------------
# Comparing two replies.

def payload(reply):
    """A bulk or simple string's bytes without its header."""
    return reply.raw.split(b"\r\n")[1] if reply.kind == "$" else reply.raw[1:-2]


def sorted_raw(replies):
    return sorted(reply.raw for reply in replies)


def canonical(step, reply):
    """What must be equal between the two servers' replies to `step`."""
    if reply.kind in ("-", "closed"):
        return reply.raw
    if step.name == b"hello":
        # The body names the implementation (server, version) and the connection (id), which differ by
        # design; the reply's type, its field names and the other fields (proto, mode, role, modules) count.
        if reply.kind != "%" and reply.kind != "*":
            return reply.raw
        pairs = zip(reply.elements[0::2], reply.elements[1::2])
        return reply.kind, [(key.raw, None if payload(key) in HELLO_IDENTITY_FIELDS else value.raw)
                            for key, value in pairs]
    if step.mode == "sign":
        value = reply.integer()
        return reply.raw if value is None or value < 0 else (reply.kind, "zero" if value == 0 else "positive")
    if step.mode == "shape":
        return reply.kind, len(reply.elements)
    if step.mode == "unordered" and reply.elements:
        if step.name in (b"scan", b"hscan", b"sscan", b"zscan") and len(reply.elements) == 2:
            cursor, page = reply.elements
            in_pairs = step.name == b"zscan" or (step.name == b"hscan" and not has_option(step, b"novalues"))
            return reply.kind, cursor.raw, unordered(page, in_pairs)
        return unordered(reply, in_flat_pairs(step, reply))
    return reply.raw


def in_flat_pairs(step, reply):
    """Whether an aggregate's elements alternate field and value, to be compared as pairs: a map, HGETALL,
    WITHVALUES or WITHSCORES, unless (RESP3) each pair is an array of its own."""
    if reply.kind == "%":
        return True
    if any(element.kind in ("*", "~", ">") for element in reply.elements):
        return False
    return step.name == b"hgetall" or has_option(step, b"withvalues") or has_option(step, b"withscores")


def has_option(step, option):
    return any(argument.lower() == option for argument in step.arguments[2:])


def unordered(reply, in_pairs):
    """An aggregate's elements as a multiset, or as a multiset of (field, value) pairs."""
    if not in_pairs:
        return reply.kind, len(reply.elements), sorted_raw(reply.elements)
    pairs = zip(reply.elements[0::2], reply.elements[1::2])
    return reply.kind, len(reply.elements), sorted((key.raw, value.raw) for key, value in pairs)


class KnownDifferences:
    """Command patterns whose difference is expected for now (the format is documented in the file)."""

    def __init__(self, path):
        self.patterns = []
        if os.path.exists(path):
            with open(path) as handle:
                for number, line in enumerate(handle, 1):
                    pattern, _, note = line.partition("# ")
                    if pattern.strip() and not line.startswith("#"):
                        where = f"{os.path.basename(path)}:{number}"
                        check(note.strip(), f"{where}: a known difference needs '# reason'")
                        self.patterns.append((pattern.strip(), shlex.split(pattern), note.strip()))
        self.seen = {pattern: 0 for pattern, _, _ in self.patterns}

    @staticmethod
    def matches(words, arguments):
        """Each word matches one argument (fnmatch, case-sensitive); a last word `...` matches the rest."""
        if words and words[-1] == "...":
            words, arguments = words[:-1], arguments[:len(words) - 1]
        return len(words) == len(arguments) and all(
            fnmatch.fnmatchcase(argument.decode(errors="backslashreplace"), word)
            for word, argument in zip(words, arguments))

    def match(self, step):
        for pattern, words, _ in self.patterns:
            if self.matches(words, step.arguments):
                self.seen[pattern] += 1
                return pattern
        return None


# ---------------------------------------------------------------------------------------------------------------
# Running.

class RedisServer:
    """A redis-server on 127.0.0.1 with no persistence and the cluster's password, dying with this script."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.directory = os.path.join(workdir, "redis-server")
        os.makedirs(self.directory, exist_ok=True)
        self.port = free_ports(1)[0]
        self.process = None

    def start(self):
        check(shutil.which(self.binary), f"{self.binary} not found: install Debian's redis-server package")
        launcher = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []
        with open(os.path.join(self.directory, "redis-server.log"), "a") as log:
            self.process = subprocess.Popen(
                launcher + [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--requirepass", PASSWORD, "--dir", self.directory,
                            "--enable-debug-command", "yes"],
                stdout=log, stderr=log)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            check(self.process.poll() is None, f"redis-server exited {self.process.returncode}: {self.log_tail()}")
            try:
                connection = Connection(self.port)
                try:
                    if connection.call([b"AUTH", PASSWORD.encode()]).raw == b"+OK\r\n":
                        return
                finally:
                    connection.close()
            except OSError:
                pass
            check(time.monotonic() < deadline, f"redis-server did not answer on port {self.port}")
            time.sleep(0.1)

    def version(self):
        connection = Connection(self.port)
        try:
            connection.call([b"AUTH", PASSWORD.encode()])
            info = connection.call([b"INFO", b"server"]).raw.decode(errors="replace")
            return next((line.split(":", 1)[1].strip() for line in info.splitlines()
                         if line.startswith("redis_version:")), "?")
        finally:
            connection.close()

    def log_tail(self):
        with open(os.path.join(self.directory, "redis-server.log"), errors="replace") as handle:
            return "".join(handle.readlines()[-20:])

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


def wait_until_every_node_writes(cluster):
    """Each node accepts a write (a follower forwards it) and reads it back: a leader is known everywhere."""
    for name in sorted(cluster.redis):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            reply = None
            try:
                connection = Connection(cluster.redis[name])
                try:
                    connection.call([b"AUTH", PASSWORD.encode()])
                    reply = connection.call([b"SET", f"warmup:{name}".encode(), b"1"]).raw
                    if reply == b"+OK\r\n":
                        reply = connection.call([b"DEL", f"warmup:{name}".encode()]).raw
                        if reply == b":1\r\n":
                            break
                finally:
                    connection.close()
            except OSError as error:
                reply = repr(error)
            check(time.monotonic() < deadline, f"{name} does not accept writes: last answer {reply!r}")
            time.sleep(0.2)


class Run:
    """Sends every sequence to both servers and collects the differences."""

    def __init__(self, redis_port, cluster, known, show_known):
        self.redis_port = redis_port
        self.cluster = cluster
        self.nodes = sorted(cluster.redis)
        self.known = known
        self.show_known = show_known
        self.compared = 0
        self.sequences = 0
        self.differences = []

    def sequence(self, sequence):
        node = self.nodes[self.sequences % len(self.nodes)]
        self.sequences += 1
        reference, subject = Connection(self.redis_port), Connection(self.cluster.redis[node])
        try:
            steps = sequence.steps
            if sequence.authenticate:
                steps = [Step(["AUTH", PASSWORD], where=f"{sequence.where} (AUTH first)")] + steps
            for step in steps:
                expected, actual = reference.call(step.arguments), subject.call(step.arguments)
                check(not actual.raw.startswith(UNAVAILABLE_PREFIXES),
                      f"{node} could not serve {step.text!r} ({step.where}): {actual.raw!r}")
                self.compared += 1
                if canonical(step, expected) != canonical(step, actual):
                    pattern = self.known.match(step)
                    if pattern is None:
                        self.differences.append((step, node, expected, actual))
                    elif self.show_known:
                        show("known difference", step, node, expected, actual)
                if CLOSED in (expected, actual):
                    break
        finally:
            reference.close()
            subject.close()


def show(what, step, node, expected, actual):
    print(f"{what} at {step.where} (elastickv {node}): {step.text}")
    print(f"    redis-server: {expected.raw!r}")
    print(f"    elastickv:    {actual.raw!r}")


def report(run, known, seed, started):
    for step, node, expected, actual in run.differences:
        show("DIFFERENCE", step, node, expected, actual)
    skipped = sum(known.seen.values())
    for pattern, _, note in known.patterns:
        if known.seen[pattern] == 0:
            print(f"note: the known difference '{pattern}' ({note}) did not occur in this run")
    elapsed = time.monotonic() - started
    summary = (f"{run.compared} commands compared, {len(run.differences)} differences ({skipped} known "
               f"differences skipped, {run.sequences} sequences, seed {seed}, {elapsed:.1f} s)")
    print(f"{'ok' if not run.differences else 'FAILED'}: differential: {summary}")
    return not run.differences


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--random-commands", type=int, default=RANDOM_COMMANDS)
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--show-known", action="store_true", help="also print the known differences skipped")
    options = parser.parse_args()
    print(f"seed {options.seed}")
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    extra = sorted(glob.glob(os.path.join(HERE, EXTRA_CASES_GLOB)))
    sequences = [sequence for path in [CASES_FILE] + extra for sequence in read_cases(path)]
    sequences += RandomWalk(options.seed).sequences(options.random_commands)
    known = KnownDifferences(KNOWN_FILE)
    reference = RedisServer(options.redis_server, options.workdir)
    cluster = None
    try:
        reference.start()
        print(f"redis-server {reference.version()} on port {reference.port}")
        # Chosen after redis-server holds its port, so no node is given the same one.
        cluster = Cluster(options.bin, options.workdir)
        for name in sorted(cluster.grpc):
            cluster.start(name)
        cluster.leader()
        wait_until_every_node_writes(cluster)
        run = Run(reference.port, cluster, known, options.show_known)
        for sequence in sequences:
            run.sequence(sequence)
        return report(run, known, options.seed, started)
    except Exception:
        if reference.process is not None:
            print(f"--- redis-server.log (tail)\n{reference.log_tail()}")
        for name in sorted(cluster.grpc if cluster else []):
            path = os.path.join(options.workdir, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {name}.log (tail)")
                print("".join(open(path, errors="replace").readlines()[-20:]))
        raise
    finally:
        if cluster is not None:
            cluster.stop_all()
        reference.stop()


if __name__ == "__main__":
    try:
        sys.exit(0 if main() else 1)
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
