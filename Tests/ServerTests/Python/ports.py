"""Ports for test clusters whose members must know each other's addresses before they start.

A port handed out by binding port 0 comes from Linux's ephemeral range, where every outgoing connection
(a redis-py client, a node's gRPC channel) also takes its local port: between the test releasing the port
and a node binding it — or while a node is stopped for a restart — a connection can land on it and the
node's bind fails with EADDRINUSE. So ports are drawn at random from below the ephemeral range and
checked by binding them.

Test scripts run in parallel and draw from the same range, so two of them can draw the same port and both
find it free before either node binds it (a fault test once lost a member that way). Every port handed out
is therefore also reserved: an exclusive lock on a file named after it in a directory shared by every test
process on the machine, held until this process exits (the kernel drops the lock even on SIGKILL). A port
another live test process reserved is never handed out again while it lives.
"""

import fcntl
import os
import random
import socket
import tempfile

RESERVATIONS = os.path.join(tempfile.gettempdir(), "elastickv-test-ports")
_held = {}

LOWEST = 10000


def ephemeral_floor():
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def bindable(port, address="127.0.0.1"):
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
            return True
        except OSError:
            return False


def reserve(port):
    """Takes this process's reservation of `port`; False when another live process holds it."""
    if port in _held:
        return False
    os.makedirs(RESERVATIONS, mode=0o777, exist_ok=True)
    descriptor = os.open(os.path.join(RESERVATIONS, str(port)), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return False
    _held[port] = descriptor
    return True


def free_ports(count, address="127.0.0.1", attempts=1000):
    """`count` distinct ports on `address`, each free now, outside the ephemeral range and reserved for this
    process."""
    ceiling = max(ephemeral_floor(), LOWEST + 1000)
    chosen = []
    for _ in range(attempts):
        if len(chosen) == count:
            return chosen
        port = random.randrange(LOWEST, ceiling)
        if port not in chosen and bindable(port, address) and reserve(port):
            chosen.append(port)
    if len(chosen) == count:
        return chosen
    raise AssertionError(f"found only {len(chosen)} of {count} free ports below {ceiling} on {address}")
