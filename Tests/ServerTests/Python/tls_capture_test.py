"""What crosses loopback: a packet capture (tcpdump) while canary values are written shows none of them when
every connection uses TLS, and shows them when none does (so the capture can fail).

Usage: tls_capture_test.py --bin DIR --workdir DIR

Each run starts 3 elastickv nodes (encryption at rest off, so Raft entries would carry the values as written),
captures every packet to or from the run's ports on the loopback interface, writes canaries through a
follower (forwarded to the leader over gRPC, replicated over Raft) with SET, HSET, RPUSH, XADD, MULTI/EXEC and
EVAL, reads them back, and searches the capture for their bytes. With TLS: Redis over TLS only
(--redis-tls-only, redis-py ssl=True) and mutual TLS on gRPC (--tls-* files). Needs root for tcpdump; prints
"skip:" and exits 0 when capturing is not permitted. Every process it starts is stopped.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from harness import check, run_main, stop_processes  # noqa: E402
from ports import free_ports  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, "..", "..", "..", "scripts", "make-test-certs.sh")
DEADLINE_SECONDS = 60
NAMES = ["n1", "n2", "n3"]


class Run:
    def __init__(self, binary, workdir, tls):
        self.binary, self.workdir, self.tls = binary, workdir, tls
        os.makedirs(workdir, exist_ok=True)
        ports = free_ports(9)
        self.grpc = dict(zip(NAMES, ports[:3]))
        self.redis = dict(zip(NAMES, ports[3:6]))
        self.redis_tls = dict(zip(NAMES, ports[6:]))
        self.certs = os.path.join(workdir, "certs")
        if tls:
            subprocess.run([MAKE_CERTS, self.certs, *NAMES], check=True, capture_output=True)
        self.processes = {}
        self.capture = None

    def start_capture(self):
        ports = list(self.grpc.values()) + list(self.redis.values()) + list(self.redis_tls.values())
        expression = " or ".join(f"port {port}" for port in ports)
        self.pcap = os.path.join(self.workdir, "capture.pcap")
        self.capture_log = os.path.join(self.workdir, "tcpdump.log")
        with open(self.capture_log, "w") as log:
            self.capture = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", self.pcap, expression],
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.pcap):
            if self.capture.poll() is not None:
                with open(self.capture_log) as log:
                    return log.read().strip()
            check(time.monotonic() < deadline, "tcpdump did not start")
            time.sleep(0.05)
        time.sleep(0.5)
        return None

    def stop_capture(self):
        time.sleep(0.5)
        # SIGTERM (a parent may have left SIGINT ignored, which exec keeps); -U wrote every packet as it came,
        # so even a SIGKILL after the grace period leaves every packet but a torn last one in the file.
        self.capture.send_signal(signal.SIGTERM)
        try:
            self.capture.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.capture.kill()
            self.capture.wait()
        with open(self.pcap, "rb") as handle:
            return handle.read()

    def start_nodes(self):
        initial = ",".join(f"{name}=127.0.0.1:{self.grpc[name]}" for name in NAMES)
        for name in NAMES:
            flags = []
            if self.tls:
                flags = ["--tls-cert-file", f"{self.certs}/{name}.pem", "--tls-key-file", f"{self.certs}/{name}.key",
                         "--tls-ca-file", f"{self.certs}/ca.pem", "--redis-tls-addr", f"127.0.0.1:{self.redis_tls[name]}",
                         "--redis-tls-only"]
            log = open(os.path.join(self.workdir, f"{name}.log"), "a")
            self.processes[name] = subprocess.Popen(
                [self.binary, "--node-id", name, "--data-dir", os.path.join(self.workdir, name),
                 "--grpc-addr", f"127.0.0.1:{self.grpc[name]}", "--redis-addr", f"127.0.0.1:{self.redis[name]}",
                 "--metrics-addr", "", "--initial-cluster", initial] + flags, stdout=log, stderr=log)

    def client(self, name):
        if self.tls:
            return redis.Redis(host="127.0.0.1", port=self.redis_tls[name], ssl=True, socket_timeout=15,
                               ssl_ca_certs=f"{self.certs}/ca.pem", ssl_certfile=f"{self.certs}/client.pem",
                               ssl_keyfile=f"{self.certs}/client.key")
        return redis.Redis(host="127.0.0.1", port=self.redis[name], socket_timeout=15)

    def role(self, name):
        try:
            return self.client(name).info("replication").get("elastickv_raft_role")
        except (redis.RedisError, OSError):
            return None

    def leader(self):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            for name in NAMES:
                if self.role(name) == "leader":
                    return name
            time.sleep(0.2)
        raise AssertionError(f"no leader elected (tls={self.tls})")

    def stop(self):
        stop_processes(self.processes.values())
        if self.capture and self.capture.poll() is None:
            self.capture.kill()
            self.capture.wait()


def write_canaries(run, canaries):
    leader = run.leader()
    follower = next(name for name in NAMES if name != leader)
    client = run.client(follower)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            client.set("cap:string", canaries[0])
            client.hset("cap:hash", "field", canaries[1])
            client.rpush("cap:list", canaries[2])
            client.xadd("cap:stream", {"f": canaries[3]})
            with client.pipeline(transaction=True) as pipe:
                pipe.set("cap:multi", canaries[4])
                pipe.execute()
            client.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, "cap:eval", canaries[5])
            break
        except redis.ResponseError as error:
            check(str(error).startswith(("TRYAGAIN", "CLUSTERDOWN")) and time.monotonic() < deadline,
                  f"writing the canaries: {error}")
            time.sleep(0.3)
    check(run.client(leader).get("cap:eval") == canaries[5].encode(), "the canaries were not applied")
    return follower


def one_run(binary, workdir, tls):
    run = Run(binary, workdir, tls)
    try:
        refusal = run.start_capture()
        if refusal is not None:
            return None, refusal
        run.start_nodes()
        canaries = [f"canary-{'tls' if tls else 'plain'}-{kind}-{os.urandom(6).hex()}" for kind in range(6)]
        write_canaries(run, canaries)
        captured = run.stop_capture()
        check(len(captured) > 10_000, f"the capture holds almost nothing ({len(captured)} bytes)")
        return [canary for canary in canaries if canary.encode() in captured], None
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    if shutil.which("tcpdump") is None:
        print("skip: tcpdump is not installed (scripts/test.sh installs it)")
        return
    binary = os.path.join(args.bin, "elastickv")
    seen_plain, refusal = one_run(binary, os.path.join(args.workdir, "plain"), tls=False)
    if refusal is not None:
        print(f"skip: packet capture on lo is not permitted here ({refusal[:200]}); run as root")
        return
    check(len(seen_plain) == 6, f"without TLS only {len(seen_plain)} of 6 canaries were seen: the capture cannot "
          "tell, so the TLS run would prove nothing")
    seen_tls, _ = one_run(binary, os.path.join(args.workdir, "tls"), tls=True)
    check(seen_tls == [], f"with TLS everywhere these canaries crossed loopback in the clear: {seen_tls}")
    print("ok: capture on lo: 6 of 6 canaries in the clear without TLS, 0 of 6 with TLS on Redis and gRPC")


if __name__ == "__main__":
    run_main(main)
