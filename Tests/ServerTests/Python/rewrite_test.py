"""The key life cycle closed end to end (DESIGN §4): rotate → rewrite → snapshot → retire, on elastickv processes.

Usage: rewrite_test.py --bin DIR --workdir DIR

A 3-node cluster on 127.0.0.1 with encryption enabled holds values of every type written before the storage
envelope was on (cleartext); both envelopes go on, then the storage and raft DEKs are rotated twice with writes
in between. `encryption rewrite --wait` then runs while a client keeps writing, and the leader is SIGKILLed once
in the middle (and restarted); the wait follows the run on another member to its end. Afterwards:
* a byte search of every file under every data dir finds none of the values written (no cleartext canary, no
  sorted-set score), and every sealed row of every store is under the active storage DEK (no cleartext row);
* every row opens with docs/formats.md alone (formats_reader.py) and holds what was acknowledged;
* `encryption key-usage` shows the four old DEKs unused on every member; after `cluster snapshot`, `retire-dek`
  succeeds for each of them and they are gone from every member's sidecar.
Every process is stopped at the end.
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import check  # noqa: E402
from encryption_test import (FOUNDERS, EncryptedCluster, Ledger, Writer, check_rows_open_with_the_formats,  # noqa: E402
                             plaintext_on_disk, wait_until, write_sorted_set_tree, write_values)

REWRITE_RATE = 400  # rows per second: slow enough that the leader can be killed in the middle


def active_keys(cluster):
    status = cluster.encryption_status(cluster.leader())
    return status["active"]["storage"], status["active"]["raft"]


def rewrite_status(cluster, name):
    return cluster.admin_json(name, "encryption", "rewrite-status")


def sealed_rows_not_under(data_dir, key_id):
    """(cleartext live rows, sealed rows under another key) of a store, read with sqlite3."""
    database = sqlite3.connect(f"file:{os.path.join(data_dir, 'kv.db')}?mode=ro", uri=True)
    try:
        cleartext = stale = 0
        for (value,) in database.execute("SELECT value FROM kv_versions"):
            value = bytes(value)
            if value[0] == 0x00:
                cleartext += 1
            elif value[0] == 0x02 and int.from_bytes(value[11:15], "big") != key_id:
                stale += 1
        return cleartext, stale
    finally:
        database.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = EncryptedCluster(args.bin, args.workdir)
    ledger = Ledger()
    writer = None
    rewrite = None
    try:
        for name in FOUNDERS:
            cluster.start(name)
        write_values(cluster, ledger, cluster.leader(), "cleartext", 400)
        write_sorted_set_tree(cluster, cluster.leader())  # its tree's node rows are rewritten too
        cluster.on_leader("encryption", "enable-storage-envelope")
        cluster.on_leader("encryption", "enable-raft-envelope")
        first_storage, first_raft = active_keys(cluster)
        old_keys = [first_storage, first_raft]
        write_values(cluster, ledger, cluster.leader(), "first", 300)
        for round_number in (1, 2):
            cluster.on_leader("encryption", "rotate-dek", "--purpose", "storage")
            cluster.on_leader("encryption", "rotate-dek", "--purpose", "raft")
            write_values(cluster, ledger, cluster.leader(), f"rotated{round_number}", 300)
            if round_number == 1:
                old_keys += list(active_keys(cluster))
        storage, raft = active_keys(cluster)
        check(storage not in old_keys and raft not in old_keys and len(set(old_keys)) == 4,
              f"two rotations of each purpose did not give new keys: old {old_keys}, active {storage}/{raft}")
        print(f"ok: cleartext values, then values under storage DEKs {old_keys[0]}, {old_keys[2]}, {storage} and raft "
              f"DEKs {old_keys[1]}, {old_keys[3]}, {raft}", flush=True)

        writer = Writer(cluster, ledger, "during")
        writer.start()
        leader = cluster.leader()
        rewrite = subprocess.Popen(
            [cluster.admin_binary, "--addr", f"127.0.0.1:{cluster.grpc[leader]}", "--json", "encryption", "rewrite",
             "--rate", str(REWRITE_RATE), "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def midway():
            status = rewrite_status(cluster, leader)
            return status if status and status["state"] == "running" and status["rows_examined"] > 0 else None
        status = wait_until(midway, "the rewrite to be under way")
        check(status["rows_examined"] < status["total_rows"], f"the rewrite went too fast to interrupt: {status}")
        cluster.stop(leader, signal.SIGKILL)
        print(f"ok: SIGKILLed the leader {leader} at {status['rows_examined']}/{status['total_rows']} rows", flush=True)
        time.sleep(2)
        cluster.start(leader)
        try:
            out, err = rewrite.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            rewrite.kill()
            raise AssertionError("encryption rewrite --wait did not finish within 240 s")
        check(rewrite.returncode == 0, f"rewrite --wait exited {rewrite.returncode}: {err.strip()}")
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        progress = [line for line in lines if "eta_seconds" in line]
        check(len(progress) >= 2 and progress[-1]["state"] == "finished", f"--wait printed {lines[-3:]}")
        writer.finish()
        print(f"ok: rewrite --wait followed the run to its end ({len(progress)} progress lines, "
              f"{len(ledger.acknowledged_items(prefix='during'))} writes acknowledged meanwhile)", flush=True)

        def finished_everywhere():
            answers = {name: rewrite_status(cluster, name) for name in FOUNDERS}
            done = all(answer and answer["state"] == "finished" and answer["remaining_rows"] == 0
                       and answer["target_key_id"] == storage for answer in answers.values())
            return answers if done else None
        wait_until(finished_everywhere, "every member to finish the rewrite")
        time.sleep(2)  # the purge after the last chunk runs right after it applies

        cluster.stop_all()
        directories = [cluster.data_dir(name) for name in FOUNDERS]
        found = plaintext_on_disk(directories, ledger.values)
        check(not found, f"{len(found)} written values are still on disk in cleartext, e.g. "
                         f"{sorted((trace, sorted(paths)) for trace, paths in found.items())[:3]}")
        for name in FOUNDERS:
            cleartext, stale = sealed_rows_not_under(cluster.data_dir(name), storage)
            check(cleartext == 0 and stale == 0,
                  f"{name}: {cleartext} cleartext rows and {stale} rows under an old DEK after the rewrite")
        opened = check_rows_open_with_the_formats(cluster, ledger)
        print(f"ok: no value on disk in cleartext, every row under DEK {storage}, {opened} values read back from the "
              f"rows", flush=True)

        for name in FOUNDERS:
            cluster.start(name)
        leader = cluster.leader()

        def usage():
            result = cluster.admin(leader, "encryption", "key-usage")
            return json.loads(result.stdout) if result.returncode == 0 else None
        report = wait_until(usage, "key-usage from every member")
        check(len(report["nodes"]) == 3, f"key-usage asked {len(report['nodes'])} members")
        for node in report["nodes"]:
            for key in node["keys"]:
                if key["key_id"] in old_keys and key["purpose"] == "storage":
                    check(key["stored_versions"] == 0 and key["snapshot_versions"] == 0,
                          f"{node['node_id']}: old storage DEK {key['key_id']} still used: {key}")
        snapshot = cluster.admin(leader, "cluster", "snapshot")
        check(snapshot.returncode == 0, f"cluster snapshot exited {snapshot.returncode}: {snapshot.stdout} {snapshot.stderr}")
        report = wait_until(usage, "key-usage after cluster snapshot")
        check(set(old_keys) <= set(report["retirable"]), f"retirable after cluster snapshot: {report['retirable']}")
        for key_id in old_keys:
            cluster.on_leader("encryption", "retire-dek", "--key-id", str(key_id))

        def retired_everywhere():
            for name in FOUNDERS:
                with open(cluster.sidecar_path(name)) as handle:
                    if set(map(int, json.load(handle)["keys"])) & set(old_keys):
                        return None
            return True
        wait_until(retired_everywhere, "the old DEKs to leave every sidecar")
        print(f"ok: key-usage showed {old_keys} unused; after cluster snapshot each was retired and is gone from "
              f"every sidecar", flush=True)
    except BaseException:
        if rewrite and rewrite.poll() is None:
            rewrite.kill()
        for name in FOUNDERS:
            if os.path.exists(cluster.log_path(name)):
                print(f"--- last lines of {name}.log\n" + "\n".join(cluster.log_since(name, 0).splitlines()[-15:]))
        raise
    finally:
        if writer and writer.is_alive():
            writer.stopping.set()
        cluster.stop_all()
    print("ok: rotate, rewrite under load with a leader kill, snapshot and retire", flush=True)


if __name__ == "__main__":
    main()
