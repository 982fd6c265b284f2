"""Automatic DEK rotation (DESIGN §4) on elastickv processes started from the built binaries.

Usage: rotation_policy_test.py --bin DIR --workdir DIR

A 3-node cluster on 127.0.0.1 with both envelopes on. `encryption policy show` first reports the default policy;
then the leader must rotate on its own:
1. by seal count: `policy set --rotate-after-seals 60`, then 25 writes (each value is sealed by every one of the
   3 members: 75 seals cluster-wide) rotate the storage DEK, and only it (25 raft seals stay below 60); the same
   bound with `--rewrite-after-rotate on` is refused (the rewrite alone would pass it);
2. by age: `policy set --rotate-after 2s --rewrite-after-rotate on` rotates both DEKs within seconds and a rewrite
   under the new storage DEK follows and finishes; `--rotate-after off` stops it;
3. by local epoch: a follower whose sidecar holds local epoch 0xFEFF for the active storage DEK restarts at
   0xFF00, its registration commits, and the leader rotates that DEK although the policy's bounds are off.
Each rotation is checked in `encryption policy show --json` (new active key id, counts back near 0) and in the
leader's log ("automatic DEK rotation" with the reason). Every process is stopped at the end.
"""
import argparse
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import check  # noqa: E402
from encryption_test import FOUNDERS, EncryptedCluster, wait_until  # noqa: E402

ROTATION_WAIT_SECONDS = 30


def policy(cluster, name):
    return wait_until(lambda: cluster.admin_json(name, "encryption", "policy", "show"), f"policy show from {name}")


def active_ids(cluster, name):
    return {key["purpose"]: key["key_id"] for key in policy(cluster, name)["active_keys"]}


def write(cluster, count, prefix):
    leader = cluster.leader()
    client = cluster.client(leader)
    for index in range(count):
        deadline = time.monotonic() + 30
        while True:
            try:
                check(client.set(f"{prefix}-{index}", f"value-{prefix}-{index}") is True, "SET did not answer OK")
                break
            except Exception as error:  # a leader change: retry on the new leader
                if time.monotonic() > deadline:
                    raise AssertionError(f"SET {prefix}-{index} kept failing: {error}")
                time.sleep(0.3)
                client = cluster.client(cluster.leader())


def wait_for_rotation(cluster, before, purposes, what):
    """Waits until the active key of each of `purposes` differs from `before`; returns the new ids."""
    def rotated():
        now = active_ids(cluster, cluster.leader())
        return now if all(now.get(purpose) != before.get(purpose) for purpose in purposes) else None
    return wait_until(rotated, what, seconds=ROTATION_WAIT_SECONDS)


def rotation_lines(cluster, reason):
    lines = []
    for name in FOUNDERS:
        if os.path.exists(cluster.log_path(name)):
            lines += [line for line in cluster.log_since(name, 0).splitlines()
                      if "automatic DEK rotation" in line and reason in line and "failed" not in line]
    return lines


def set_policy(cluster, *arguments):
    _, change = cluster.on_leader("encryption", "policy", "set", *arguments)
    return change


def default_policy_first(cluster):
    shown = policy(cluster, cluster.leader())
    check(shown["rotation_policy"] == {"rotate_after_seconds": 0, "rotate_after_seals": 1 << 30,
                                       "rewrite_after_rotate": False, "set": False},
          f"a new cluster does not show the default policy: {shown['rotation_policy']}")
    check(shown["member_count"] == 3, f"policy show counts {shown['member_count']} members")
    check({key["purpose"] for key in shown["active_keys"]} == {"storage", "raft"},
          f"policy show lists {shown['active_keys']}")
    refused = cluster.admin(cluster.leader(), "encryption", "policy", "set", "--rotate-after", "fortnight")
    check(refused.returncode == 64, f"a malformed duration exited {refused.returncode}: {refused.stderr}")
    print("ok: the default policy is shown, a malformed duration is a usage error", flush=True)


def by_seal_count(cluster):
    before = active_ids(cluster, cluster.leader())
    change = set_policy(cluster, "--rotate-after-seals", "60")
    check("rotate after: age off, seals 60" in change["summary"], f"policy set said {change}")
    shown = policy(cluster, cluster.leader())
    check(shown["rotation_policy"]["set"] and shown["rotation_policy"]["rotate_after_seals"] == 60,
          f"policy show after set: {shown['rotation_policy']}")
    write(cluster, 25, "seals")
    after = wait_for_rotation(cluster, before, ["storage"], "a rotation of the storage DEK by seal count")
    check(after["raft"] == before["raft"], f"the raft DEK rotated too ({before} → {after}); it sealed 25 entries")
    set_policy(cluster, "--rotate-after-seals", "0")
    refused = cluster.admin(cluster.leader(), "encryption", "policy", "set", "--rotate-after-seals", "60",
                            "--rewrite-after-rotate", "on")
    check(refused.returncode != 0 and "too low for --rewrite-after-rotate" in refused.stderr,
          f"a seal bound a rewrite would pass at once was accepted: {refused.returncode} {refused.stderr}")
    check(rotation_lines(cluster, "sealed"), "no leader logged an automatic rotation by seal count")
    keys = {key["purpose"]: key for key in policy(cluster, cluster.leader())["active_keys"]}
    check(keys["storage"]["cluster_seal_count"] < 60, f"the new storage DEK already shows {keys['storage']}")
    print(f"ok: 75 cluster-wide seals rotated the storage DEK {before['storage']} → {after['storage']}; "
          f"the raft DEK stayed {after['raft']}", flush=True)
    return after


def by_age(cluster):
    before = active_ids(cluster, cluster.leader())
    set_policy(cluster, "--rotate-after", "2s", "--rewrite-after-rotate", "on")
    after = wait_for_rotation(cluster, before, ["storage", "raft"], "rotations of both DEKs by age")
    set_policy(cluster, "--rotate-after", "off", "--rewrite-after-rotate", "off")

    def rewritten():
        leader = cluster.leader()
        status = cluster.admin_json(leader, "encryption", "rewrite-status")
        active = active_ids(cluster, leader)["storage"]
        return status if status and status["state"] == "finished" and status["target_key_id"] == active \
            and status["remaining_rows"] == 0 else None
    rewrite = wait_until(rewritten, "the rewrite that follows the automatic storage rotation",
                         seconds=ROTATION_WAIT_SECONDS)
    check(rotation_lines(cluster, "") and any("rewrite after automatic rotation" in line
                                              for name in FOUNDERS for line in cluster.log_since(name, 0).splitlines()),
          "no leader logged the rewrite after an automatic rotation")
    check(rotation_lines(cluster, "s old"), "no leader logged an automatic rotation by age")
    settled = active_ids(cluster, cluster.leader())
    time.sleep(4)
    check(active_ids(cluster, cluster.leader()) == settled, "DEKs kept rotating after --rotate-after off")
    shown = policy(cluster, cluster.leader())["rotation_policy"]
    check(shown == {"rotate_after_seconds": 0, "rotate_after_seals": 0, "rewrite_after_rotate": False, "set": True},
          f"policy now {shown}")
    print(f"ok: --rotate-after 2s rotated storage {before['storage']} → {after['storage']} and raft "
          f"{before['raft']} → {after['raft']}, a rewrite followed ({rewrite['rows_resealed']} rows re-sealed); "
          f"off stopped it", flush=True)


def by_local_epoch(cluster):
    leader = cluster.leader()
    follower = next(name for name in FOUNDERS if name != leader)
    before = active_ids(cluster, leader)
    storage = str(before["storage"])
    cluster.stop(follower)
    with open(cluster.sidecar_path(follower)) as handle:
        sidecar = json.load(handle)
    check(storage in sidecar["keys"], f"{follower}'s sidecar lacks the active storage DEK {storage}")
    sidecar["keys"][storage]["local_epoch"] = 0xFEFF
    with open(cluster.sidecar_path(follower), "w") as handle:
        json.dump(sidecar, handle)
    cluster.start(follower)
    after = wait_for_rotation(cluster, before, ["storage"], "a rotation of the storage DEK by local epoch")
    check(rotation_lines(cluster, "local epoch for it reached 65280"),
          "no leader logged a rotation because a local epoch reached 0xFF00")
    warned = [line for line in cluster.log_since(follower, 0).splitlines() if "65280" in line or "0xFF00" in line]
    check(warned, f"{follower} did not warn about its local epoch at start-up")
    print(f"ok: {follower} restarted at local epoch 0xFF00 and the leader rotated storage {before['storage']} → "
          f"{after['storage']}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = EncryptedCluster(args.bin, args.workdir)
    try:
        for name in FOUNDERS:
            cluster.start(name)
        cluster.on_leader("encryption", "enable-storage-envelope")
        cluster.on_leader("encryption", "enable-raft-envelope")
        default_policy_first(cluster)
        by_seal_count(cluster)
        by_age(cluster)
        by_local_epoch(cluster)
    except BaseException:
        for name in FOUNDERS:
            if os.path.exists(cluster.log_path(name)):
                print(f"--- last lines of {name}.log\n" + "\n".join(cluster.log_since(name, 0).splitlines()[-15:]))
        raise
    finally:
        cluster.stop_all()
    print("ok: automatic rotation by seal count, age and local epoch", flush=True)


if __name__ == "__main__":
    main()
