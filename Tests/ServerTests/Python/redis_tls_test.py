"""RESP over TLS (DESIGN §11): one elastickv node with --redis-tls-addr, certificates from scripts/make-test-certs.sh.

Usage: redis_tls_test.py --bin DIR --workdir DIR

Checks, each against the running process: redis-py with ssl=True and redis-cli --tls serve commands; with
--redis-tls-auth-clients yes a client without a certificate, or with one from another CA, is refused at the
handshake; a plaintext client on the TLS port gets no RESP reply; with --redis-tls-only the plaintext port is
not served; a renewed certificate is picked up without a restart (file change, then SIGHUP) while the node keeps
its data; --redis-tls-auth-clients optional and no accept a client without a certificate; bad TLS flags or
files stop the node with one line naming the flag (exit status 64 for flags, 78 for a file). Every process is stopped at the end.
"""
import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from harness import check, run_main  # noqa: E402
from ports import free_ports  # noqa: E402
from tls_helpers import presented_certificate, renew  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, "..", "..", "..", "scripts", "make-test-certs.sh")
DEADLINE_SECONDS = 30


class Node:
    def __init__(self, binary, workdir, name, extra):
        self.grpc, self.redis, self.tls = free_ports(3)
        self.log_path = os.path.join(workdir, f"{name}.log")
        arguments = [binary, "--node-id", "n1", "--data-dir", os.path.join(workdir, name),
                     "--grpc-addr", f"127.0.0.1:{self.grpc}", "--redis-addr", f"127.0.0.1:{self.redis}",
                     "--metrics-addr", "", "--redis-tls-addr", f"127.0.0.1:{self.tls}"] + extra
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(arguments, stdout=log, stderr=log)

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()

    def wait_started(self):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while "node started" not in self.log():
            check(self.process.poll() is None, f"the node exited {self.process.returncode}: {self.log()}")
            check(time.monotonic() < deadline, f"the node did not start: {self.log()}")
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def tls_client(node, certs, name="client", ca="ca"):
    options = {"ssl_ca_certs": os.path.join(certs, f"{ca}.pem")}
    if name:
        options.update(ssl_certfile=os.path.join(certs, f"{name}.pem"), ssl_keyfile=os.path.join(certs, f"{name}.key"))
    return redis.Redis(host="127.0.0.1", port=node.tls, ssl=True, socket_timeout=10, **options)


def refused(client):
    """Whether the TLS handshake (or the first command after it) fails."""
    try:
        client.ping()
        return False
    except (redis.exceptions.ConnectionError, ssl.SSLError, OSError):
        return True


def wait_for_certificate(node, certs, old, what):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while presented_certificate(node.tls, certs) == old:
        check(time.monotonic() < deadline, f"the renewed certificate was not served after {what}: {node.log()}")
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "elastickv")
    certs, other = os.path.join(args.workdir, "certs"), os.path.join(args.workdir, "other-ca")
    for directory in (certs, other):
        subprocess.run([MAKE_CERTS, directory, "n1"], check=True, capture_output=True)
    files = ["--tls-cert-file", f"{certs}/n1.pem", "--tls-key-file", f"{certs}/n1.key", "--tls-ca-file", f"{certs}/ca.pem"]
    nodes = []
    try:
        node = Node(binary, args.workdir, "tls-only", files + ["--redis-tls-only"])
        nodes.append(node)
        node.wait_started()
        client = tls_client(node, certs)
        check(client.set("k", "v") and client.get("k") == b"v", "SET/GET over TLS with redis-py")
        cli = subprocess.run(["redis-cli", "--tls", "--cacert", f"{certs}/ca.pem", "--cert", f"{certs}/client.pem",
                              "--key", f"{certs}/client.key", "-p", str(node.tls), "GET", "k"],
                             capture_output=True, text=True, timeout=20)
        check(cli.stdout.strip() == "v", f"redis-cli --tls: {cli.stdout!r} {cli.stderr!r}")
        check(refused(tls_client(node, certs, name=None)), "a client without a certificate was served")
        rogue = tls_client(node, certs, name=None)
        rogue.connection_pool.connection_kwargs.update(ssl_certfile=f"{other}/client.pem", ssl_keyfile=f"{other}/client.key")
        check(refused(rogue), "a client certificate of another CA was accepted")
        with socket.create_connection(("127.0.0.1", node.tls), timeout=10) as plain:
            plain.sendall(b"PING\r\n")
            try:
                answer = plain.recv(64)
            except OSError:
                answer = b""
            check(not answer.startswith(b"+PONG"), f"a plaintext client was answered on the TLS port: {answer!r}")
        try:
            socket.create_connection(("127.0.0.1", node.redis), timeout=5).close()
            check(False, "--redis-tls-only still served the plaintext port")
        except ConnectionRefusedError:
            pass

        old = presented_certificate(node.tls, certs)
        renew(certs, "n1", os.path.join(args.workdir, "renewal"))
        wait_for_certificate(node, certs, old, "the files changed")
        check(tls_client(node, certs).get("k") == b"v", "the data survived the reload")
        renewed = presented_certificate(node.tls, certs)
        renew(certs, "n1", os.path.join(args.workdir, "renewal"))
        node.process.send_signal(signal.SIGHUP)
        wait_for_certificate(node, certs, renewed, "SIGHUP")
        check(node.process.poll() is None and "redis TLS certificate reloaded" in node.log(), "SIGHUP reload")
        node.stop()
        check(node.process.returncode == 0, f"the node did not stop cleanly: {node.log()}")

        for mode in ("optional", "no"):
            loose = Node(binary, args.workdir, f"auth-{mode}", files + ["--redis-tls-auth-clients", mode])
            nodes.append(loose)
            loose.wait_started()
            check(tls_client(loose, certs, name=None).ping(), f"auth-clients {mode}: a client without a certificate")
            if mode == "optional":
                rogue = tls_client(loose, certs, name=None)
                rogue.connection_pool.connection_kwargs.update(ssl_certfile=f"{other}/client.pem",
                                                               ssl_keyfile=f"{other}/client.key")
                check(refused(rogue), "auth-clients optional still checks a certificate that is presented")
            check(redis.Redis(host="127.0.0.1", port=loose.redis, socket_timeout=10).ping(),
                  "the plaintext port next to TLS")
            loose.stop()

        with open(f"{args.workdir}/garbage.pem", "w") as garbage:
            garbage.write("not a certificate\n")
        for extra, flag, expected in [(["--tls-cert-file", f"{args.workdir}/garbage.pem", "--tls-key-file", f"{certs}/n1.key",
                              "--tls-ca-file", f"{certs}/ca.pem"], "--tls-cert-file", 78),
                            (["--tls-cert-file", f"{certs}/n1.pem", "--tls-key-file", f"{certs}/n1.key"], "--tls-ca-file", 64),
                            (["--tls-cert-file", f"{certs}/n1.pem"], "--tls-key-file", 64)]:
            bad = Node(binary, args.workdir, "bad", extra)
            nodes.append(bad)
            status = bad.process.wait(timeout=DEADLINE_SECONDS)
            lines = [line for line in bad.log().splitlines() if line.startswith("elastickv:")]
            check(status == expected and len(lines) == 1 and flag in lines[0],
                  f"bad TLS flags {extra}: {status} {bad.log()}")
        print("ok: redis over TLS (redis-py, redis-cli), client certificates enforced, plaintext refused, "
              "certificate reloaded on change and on SIGHUP, auth-clients optional/no, bad flags and files refused")
    finally:
        for node in nodes:
            node.stop()


if __name__ == "__main__":
    run_main(main)
