"""Ports for test clusters whose members must know each other's addresses before they start.

A port handed out by binding port 0 comes from Linux's ephemeral range, where every outgoing connection
(a redis-py client, a node's gRPC channel) also takes its local port: between the test releasing the port
and a node binding it — or while a node is stopped for a restart — a connection can land on it and the
node's bind fails with EADDRINUSE. So ports are drawn at random from below the ephemeral range and
checked by binding them.
"""

import random
import socket

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


def free_ports(count, address="127.0.0.1", attempts=1000):
    """`count` distinct ports on `address`, each free now and outside the ephemeral range."""
    ceiling = max(ephemeral_floor(), LOWEST + 1000)
    chosen = []
    for _ in range(attempts):
        if len(chosen) == count:
            return chosen
        port = random.randrange(LOWEST, ceiling)
        if port not in chosen and bindable(port, address):
            chosen.append(port)
    if len(chosen) == count:
        return chosen
    raise AssertionError(f"found only {len(chosen)} of {count} free ports below {ceiling} on {address}")
