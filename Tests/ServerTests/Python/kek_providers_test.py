"""End-to-end test of several KEKs (`--kek URI`, repeated) on elastickv processes started from the built binaries.

Usage: kek_providers_test.py --bin DIR --workdir DIR

A 3-node cluster configured with two file KEKs (A primary, B a recovery KEK kept elsewhere) turns both envelopes
on and takes writes. Then: every member's sidecar carries a wrap of every DEK by each KEK (checked with
`cryptography`'s AES key unwrap, and the kek ids are the HMAC fingerprints of DESIGN §3.4); a member restarted
with B alone comes up and serves every value, and applies a rotation proposed by a leader holding both; once
every member runs with B alone, `rewrap-deks` leaves every DEK wrapped by B only, and a second rewrap commits
nothing; a leader given a KEK C that no other member holds cannot rewrap (the DEKs would be left with no wrap the
others can open); a member given only C refuses to start with ErrKEKMismatch; a command KEK (`exec:`) that
answers "temporarily unavailable" makes a restarting member exit 75 with ErrKEKUnavailable, while a second KEK
lets it start. One `ok:` line per item; every process is stopped at the end, also on failure.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap  # noqa: E402

from encryption_test import EncryptedCluster, FOUNDERS, wait_until  # noqa: E402
from harness import check, run_main  # noqa: E402

VALUES = 40


def kek_id(kek):
    return hmac.new(kek, b"elastickv kek id", hashlib.sha256).hexdigest()[:16]


class MultiKEKCluster(EncryptedCluster):
    """EncryptedCluster whose members take a list of --kek URIs (and optionally --previous-kek-file)."""

    def __init__(self, bin_dir, workdir):
        super().__init__(bin_dir, workdir)
        self.keks = {name: [] for name in self.grpc}
        self.previous = {}

    def command(self, name, encrypted=True, kek=None, join=False):
        arguments = super().command(name, encrypted=encrypted, kek=None, join=join)
        for uri in self.keks[name]:
            arguments += ["--kek", uri]
        if name in self.previous:
            arguments += ["--previous-kek-file", self.previous[name]]
        return arguments + ["--kek-probe-interval", "0.5"]

    def restart(self, name):
        if name in self.processes:
            self.stop(name)
        self.start(name)
        wait_until(lambda: (self.cluster_status(name) or {}).get("leader"), f"{name} to see a leader")

    def refusal_status(self, name, expected):
        """Like refusal(), also returning the exit status."""
        result = subprocess.run(self.launcher + self.command(name), capture_output=True, text=True, timeout=60)
        output = (result.stdout + result.stderr).strip()
        check(result.returncode != 0 and expected in output,
              f"{name} exited {result.returncode} without refusing with {expected}: {output}")
        return result.returncode, output.splitlines()[-1]

    def sidecar(self, name):
        with open(self.sidecar_path(name)) as file:
            return json.load(file)


def write_values(cluster, prefix):
    client = cluster.client(cluster.leader())
    values = {f"{prefix}-{i}": os.urandom(12).hex() for i in range(VALUES)}
    for key, value in values.items():
        check(client.set(key, value), f"SET {key} failed")
    return values


def check_reads(cluster, name, values):
    """Reads every value through `name`. Right after a restart a read may time out or be answered TRYAGAIN /
    CLUSTERDOWN while the members elect a leader and catch up, so errors are retried until the deadline."""
    client = cluster.client(name)

    def read(key):
        try:
            return client.get(key)
        except redis.exceptions.RedisError:
            return None
    for key, value in values.items():
        got = wait_until(lambda: read(key), f"{key} through {name}")
        check(got.decode() == value, f"{key} through {name} is {got!r}, not {value!r}")


def check_wraps(cluster, keks):
    """Every member's sidecar wraps every DEK by exactly `keks` (kek bytes, primary first)."""
    ids = [kek_id(kek) for kek in keks]
    for name in FOUNDERS:
        sidecar = cluster.sidecar(name)
        for key_id, key in sidecar["keys"].items():
            wrapped = base64.b64decode(key["wrapped"])
            plain = aes_key_unwrap(keks[0], wrapped)
            if len(keks) == 1:
                check("wraps" not in key, f"{name}: DEK {key_id} lists wraps with a single KEK: {key.get('wraps')}")
                continue
            wraps = key.get("wraps") or []
            check([item["kek"] for item in wraps] == ids,
                  f"{name}: DEK {key_id} is wrapped by {[item['kek'] for item in wraps]}, not {ids}")
            check(wraps[0]["wrapped"] == key["wrapped"], f"{name}: DEK {key_id}'s first wrap is not 'wrapped'")
            for kek, item in zip(keks, wraps):
                check(aes_key_unwrap(kek, base64.b64decode(item["wrapped"])) == plain,
                      f"{name}: DEK {key_id}'s wrap by {item['kek']} opens to another key")


def exec_kek_script(cluster, name, kek_path, flag_path):
    """A command KEK (base64 on stdin and stdout) wrapping with AES-KW under `kek_path`, answering exit 75 while
    `flag_path` exists."""
    path = os.path.join(cluster.workdir, name)
    with open(path, "w") as script:
        script.write(f"""#!{sys.executable}
import base64, os, sys
from cryptography.hazmat.primitives.keywrap import aes_key_wrap, aes_key_unwrap
if os.path.exists({flag_path!r}):
    print("vault is sealed", file=sys.stderr)
    sys.exit(75)
kek = open({kek_path!r}, "rb").read()
data = base64.b64decode(sys.stdin.buffer.read().strip())
try:
    out = aes_key_wrap(kek, data) if sys.argv[1] == "wrap" else aes_key_unwrap(kek, data)
except Exception:
    print("cannot unwrap", file=sys.stderr)
    sys.exit(65)
sys.stdout.buffer.write(base64.b64encode(out) + b"\\n")
""")
    os.chmod(path, 0o700)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    arguments = parser.parse_args()
    cluster = MultiKEKCluster(arguments.bin, arguments.workdir)
    a, b, c = os.urandom(32), os.urandom(32), os.urandom(32)
    path_a, path_b, path_c = (cluster.write_kek(name, kek) for name, kek in (("a", a), ("b", b), ("c", c)))
    try:
        for name in FOUNDERS:
            cluster.keks[name] = [f"file:{path_a}", f"file:{path_b}"]
            cluster.start(name)
        cluster.leader()
        cluster.on_leader("encryption", "enable-storage-envelope")
        cluster.on_leader("encryption", "enable-raft-envelope")
        values = write_values(cluster, "before")
        wait_until(lambda: all(os.path.exists(cluster.sidecar_path(n)) for n in FOUNDERS), "every sidecar")
        check_wraps(cluster, [a, b])
        print("ok: with two KEKs every member's sidecar holds a wrap of every DEK by each, named by fingerprint",
              flush=True)

        follower = next(n for n in FOUNDERS if n != cluster.leader())
        cluster.keks[follower] = [f"file:{path_b}"]
        cluster.restart(follower)
        check_reads(cluster, follower, values)
        cluster.on_leader("encryption", "rotate-dek", "--purpose", "storage")
        rotated = write_values(cluster, "rotated")
        check_reads(cluster, follower, rotated)
        check_wraps(cluster, [a, b])
        print(f"ok: {follower} restarted with the second KEK alone serves every value and applies a rotation",
              flush=True)

        for name in FOUNDERS:
            if cluster.keks[name] != [f"file:{path_b}"]:
                cluster.keks[name] = [f"file:{path_b}"]
                cluster.restart(name)
        leader, change = cluster.on_leader("encryption", "rewrap-deks")
        wait_until(lambda: all("wraps" not in k for n in FOUNDERS for k in cluster.sidecar(n)["keys"].values()),
                   "every sidecar to drop the wraps list")
        check_wraps(cluster, [b])
        for name in FOUNDERS:
            for key in cluster.sidecar(name)["keys"].values():
                try:
                    aes_key_unwrap(a, base64.b64decode(key["wrapped"]))
                    raise AssertionError(f"{name}: a DEK still opens with the removed KEK A")
                except InvalidUnwrap:
                    pass
        _, again = cluster.on_leader("encryption", "rewrap-deks")
        check("nothing to re-wrap" in json.dumps(again), f"a second rewrap did something: {again}")
        check_reads(cluster, leader, {**values, **rotated})
        print("ok: after every member dropped KEK A, rewrap-deks left every DEK wrapped by B alone; a second rewrap "
              "committed nothing", flush=True)

        holder = next(n for n in FOUNDERS if n != cluster.leader())
        cluster.keks[holder] = [f"file:{path_c}"]
        cluster.previous[holder] = path_b
        cluster.restart(holder)
        cluster.on_leader("cluster", "transfer-leader", "--node-id", holder)
        leader = cluster.leader()
        check(leader == holder, f"{holder} (holding KEK C) did not become leader; {leader} leads")
        result = cluster.admin(leader, "encryption", "rewrap-deks")
        text = result.stdout + result.stderr
        check(result.returncode != 0, f"rewrap under a KEK no other member holds was accepted: {text}")
        check_wraps(cluster, [b])
        print(f"ok: a leader whose only KEK no other member holds cannot rewrap: {text.strip().splitlines()[-1]}",
              flush=True)
        del cluster.previous[leader]
        cluster.keks[leader] = [f"file:{path_b}"]
        cluster.restart(leader)

        name = next(n for n in FOUNDERS if n != cluster.leader())
        cluster.stop(name)
        cluster.keks[name] = [f"file:{path_c}"]
        cluster.refusal(name, "ErrKEKMismatch")
        flag = os.path.join(cluster.workdir, "vault-sealed")
        script = exec_kek_script(cluster, "vault-kek", path_b, flag)
        open(flag, "w").close()
        cluster.keks[name] = [f"exec:{script}"]
        code, result = cluster.refusal_status(name, "ErrKEKUnavailable")
        check(code == 75, f"a member whose only KEK is unavailable exited {code}, not 75: {result}")
        cluster.keks[name] = [f"exec:{script}", f"file:{path_b}"]
        cluster.restart(name)
        check_reads(cluster, name, values)
        providers = {p["kek_id"]: p for p in cluster.encryption_status(name)["kek_providers"]}
        check(providers.get(f"exec:{script}", {}).get("state") in ("down", "circuit-open")
              and "vault is sealed" in (providers[f"exec:{script}"].get("last_error") or ""),
              f"encryption status of {name} does not show the command KEK down: {providers}")
        check(providers.get(kek_id(b), {}).get("state") == "up", f"the file KEK is not up: {providers}")
        os.remove(flag)
        cluster.keks[name] = [f"exec:{script}"]
        cluster.restart(name)
        check_reads(cluster, name, rotated)
        print(f"ok: {name} with an unavailable command KEK exits 75 (ErrKEKUnavailable), starts with a second KEK, "
              "and with the command KEK alone once it answers", flush=True)

        def provider_state():
            status = cluster.admin_json(name, "encryption", "status") or {}
            return {p["kek_id"]: p["state"] for p in status.get("kek_providers", [])}.get(f"exec:{script}")
        wait_until(lambda: provider_state() == "up", f"{name}'s command KEK to show up")
        open(flag, "w").close()
        client = cluster.client(name)
        written = 0
        deadline = time.monotonic() + 30
        while provider_state() not in ("down", "circuit-open"):
            check(time.monotonic() < deadline, f"{name}'s status never showed the command KEK down")
            check(client.set(f"outage-{written}", "v"), "a write failed while the KEK provider was down")
            written += 1
        for extra in range(20):
            check(client.set(f"outage-more-{extra}", "v"), "a write failed while the KEK provider was down")
        check(client.get(f"outage-more-19") == b"v", "a read failed while the KEK provider was down")
        os.remove(flag)
        wait_until(lambda: provider_state() == "up", f"{name}'s command KEK to recover", seconds=40)
        print(f"ok: while {name}'s only KEK provider was down, {written + 20} writes went on through it; status "
              "showed the provider down and then up again once it answered", flush=True)
        print("ok: several KEKs", flush=True)
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    run_main(main)
