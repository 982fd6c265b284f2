"""A 3-node cluster whose only KEK is one provider kind: bootstrap, both envelopes, rotation, full restart.

Usage: kek_provider_cluster_test.py --bin DIR --workdir DIR --provider exec|pkcs11|kms-plugin|aws-kms
       [--kms-plugin-socket PATH]

`exec`: a script wrapping with AES-KW under a 0600 file (base64 on stdin/stdout, the exec: protocol).
`pkcs11`: a SoftHSM2 token made for the run (softhsm2-util) holding an AES-256 key made with OpenSC's
pkcs11-tool, copied for each member (its own HSM holding the same key, as the cluster's KEK must be), each
member pointed at its copy through SOFTHSM2_CONF.
`aws-kms`: a KMS key made in a `moto_server` (pip moto[server]) started on 127.0.0.1 for the run; the members
get test credentials through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
`kms-plugin`: a Kubernetes KMS v2 plugin already serving on --kms-plugin-socket (the Swift test that runs this
script hosts it).

Every member gets `--kek <uri>` and nothing else; the cluster turns both envelopes on, takes writes, rotates
the storage DEK, takes more writes, is stopped and started again as a whole, and every value is read back
through every member; with `aws-kms` the KMS server is then SIGSTOPped while a client writes (writes go on,
`encryption status` shows the provider down) and continued (it shows up again). Prints
`ok: <provider> KEK cluster` on success; every process is stopped at the end, also on failure.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encryption_test import FOUNDERS, wait_until  # noqa: E402
from harness import check, run_main, stop_processes  # noqa: E402
from kek_providers_test import MultiKEKCluster, check_reads, write_values  # noqa: E402


class ProviderCluster(MultiKEKCluster):
    """MultiKEKCluster whose members may each get extra environment variables (their own HSM)."""

    def __init__(self, bin_dir, workdir):
        super().__init__(bin_dir, workdir)
        self.environment = {}

    def start(self, name, **flags):
        saved = dict(os.environ)
        os.environ.update(self.environment.get(name, {}))
        try:
            return super().start(name, **flags)
        finally:
            os.environ.clear()
            os.environ.update(saved)

PIN = "20261207"
SOFTHSM_MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


def exec_provider(cluster):
    kek = cluster.write_kek("exec-kek", os.urandom(32))
    path = os.path.join(cluster.workdir, "aes-kw-kek")
    with open(path, "w") as script:
        script.write(f"""#!{sys.executable}
import base64, sys
from cryptography.hazmat.primitives.keywrap import aes_key_wrap, aes_key_unwrap, InvalidUnwrap
kek = open({kek!r}, "rb").read()
data = base64.b64decode(sys.stdin.buffer.read().strip())
try:
    out = aes_key_wrap(kek, data) if sys.argv[1] == "wrap" else aes_key_unwrap(kek, data)
except InvalidUnwrap:
    sys.exit(65)
sys.stdout.buffer.write(base64.b64encode(out) + b"\\n")
""")
    os.chmod(path, 0o700)
    return f"exec:{path}"


def pkcs11_provider(cluster):
    module = next((path for path in SOFTHSM_MODULES if os.path.exists(path)), None)
    check(module is not None, "SoftHSM2 is not installed (Debian package softhsm2; scripts/test.sh installs it)")
    check(shutil.which("pkcs11-tool") is not None, "pkcs11-tool is missing (Debian package opensc)")
    def config(owner):
        path = os.path.join(cluster.workdir, f"softhsm2-{owner}.conf")
        tokens = os.path.join(cluster.workdir, f"tokens-{owner}")
        with open(path, "w") as file:
            file.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        return path, tokens
    setup, tokens = config("setup")
    os.makedirs(tokens, mode=0o700)
    environment = {**os.environ, "SOFTHSM2_CONF": setup}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "ekv", "--pin", PIN, "--so-pin", "5678"],
                   check=True, capture_output=True, timeout=60, env=environment)
    subprocess.run(["pkcs11-tool", "--module", module, "--token-label", "ekv", "--login", "--pin", PIN, "--keygen",
                    "--key-type", "AES:32", "--label", "ekv-kek", "--usage-wrap", "--sensitive"],
                   check=True, capture_output=True, timeout=60, env=environment)
    for name in FOUNDERS:
        path, copy = config(name)
        shutil.copytree(tokens, copy)
        cluster.environment[name] = {"SOFTHSM2_CONF": path}
    pin_file = os.path.join(cluster.workdir, "pin")
    descriptor = os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(descriptor, PIN.encode() + b"\n")
    os.close(descriptor)
    return f"pkcs11:token=ekv;object=ekv-kek?module-path={module}&pin-source=file:{pin_file}"


def aws_kms_provider(cluster, processes):
    import boto3  # moto[server] brings it
    from ports import free_ports
    server = shutil.which("moto_server") or os.path.join(os.path.dirname(sys.executable), "moto_server")
    check(os.path.exists(server), "moto_server is missing (pip install 'moto[server]'; scripts/test.sh installs it)")
    port = free_ports(1)[0]
    log = open(os.path.join(cluster.workdir, "moto.log"), "ab")
    processes.append(subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                                      stderr=subprocess.STDOUT))
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"AWS_ACCESS_KEY_ID": "AKIDELASTICKVTEST", "AWS_SECRET_ACCESS_KEY": "elastickv-test-secret",
                   "AWS_REGION": "us-east-1"}
    kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"])

    def key():
        try:
            return kms.create_key(Description="elastickv test KEK")["KeyMetadata"]["Arn"]
        except Exception:
            return None
    arn = wait_until(key, "moto_server to create a KMS key", seconds=30)
    kms.create_alias(AliasName="alias/elastickv-test", TargetKeyId=arn)
    for name in FOUNDERS:
        cluster.environment[name] = credentials
    return f"aws-kms:alias/elastickv-test?region=us-east-1&endpoint={endpoint}"


def outage(cluster, kms):
    """SIGSTOPs the KMS server while a client writes: writes go on, status shows the provider down, then up once
    the server is continued."""
    import signal
    name = cluster.leader()

    def state():
        status = cluster.admin_json(name, "encryption", "status") or {}
        return next((p["state"] for p in status.get("kek_providers", [])), None)
    wait_until(lambda: state() == "up", "the KMS provider to be up")
    kms.send_signal(signal.SIGSTOP)
    try:
        client = cluster.client(name)
        written = 0
        deadline = time.monotonic() + 60
        while state() not in ("down", "circuit-open"):
            check(time.monotonic() < deadline, "status never showed the stopped KMS server down")
            check(client.set(f"kms-outage-{written}", "v"), "a write failed while the KMS server was stopped")
            written += 1
        check(written > 0 and client.get(f"kms-outage-{written - 1}") == b"v", "no write was read back during the outage")
    finally:
        kms.send_signal(signal.SIGCONT)
    wait_until(lambda: state() == "up", "the KMS provider to recover", seconds=60)
    print(f"ok: aws-kms outage: {written} writes went on while the KMS server was stopped; status showed it down, "
          "then up once it answered again", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--provider", required=True, choices=["exec", "pkcs11", "kms-plugin", "aws-kms"])
    parser.add_argument("--kms-plugin-socket")
    arguments = parser.parse_args()
    cluster = ProviderCluster(arguments.bin, arguments.workdir)
    services = []
    if arguments.provider == "aws-kms":
        try:
            uri = aws_kms_provider(cluster, services)
        except BaseException:
            stop_processes(services)
            raise
    elif arguments.provider == "exec":
        uri = exec_provider(cluster)
    elif arguments.provider == "pkcs11":
        uri = pkcs11_provider(cluster)
    else:
        check(arguments.kms_plugin_socket, "--kms-plugin-socket is required with --provider kms-plugin")
        uri = f"kms-plugin:unix://{arguments.kms_plugin_socket}"
    try:
        for name in FOUNDERS:
            cluster.keks[name] = [uri]
            cluster.start(name)
        cluster.leader()
        cluster.on_leader("encryption", "enable-storage-envelope")
        cluster.on_leader("encryption", "enable-raft-envelope")
        values = write_values(cluster, "before")
        cluster.on_leader("encryption", "rotate-dek", "--purpose", "storage")
        values.update(write_values(cluster, "rotated"))
        status = cluster.encryption_status(cluster.leader())
        providers = status["kek_providers"]
        check(len(providers) == 1 and providers[0]["scheme"] == arguments.provider and providers[0]["state"] == "up",
              f"encryption status does not show the {arguments.provider} provider up: {providers}")
        wait_until(lambda: all(len(cluster.sidecar(n)["keys"]) >= 4 for n in FOUNDERS), "every sidecar's keys")
        for name in list(cluster.processes):
            cluster.stop(name)
        for name in FOUNDERS:
            cluster.start(name)
        cluster.leader()
        for name in FOUNDERS:
            check_reads(cluster, name, values)
        if arguments.provider == "aws-kms":
            outage(cluster, services[0])
        secrets = [PIN, "elastickv-test-secret"]
        for log in os.listdir(cluster.workdir):
            if log.endswith(".log") and log != "moto.log":
                with open(os.path.join(cluster.workdir, log), errors="replace") as file:
                    text = file.read()
                leaked = [secret for secret in secrets if secret in text]
                check(not leaked, f"{log} contains a provider secret (PIN or AWS secret key)")
        print(f"ok: {arguments.provider} KEK cluster: bootstrap, both envelopes, a rotation and a full restart with "
              f"{len(values)} values read back through every member", flush=True)
    finally:
        cluster.stop_all()
        stop_processes(services)


if __name__ == "__main__":
    run_main(main)
