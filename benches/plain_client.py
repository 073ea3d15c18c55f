#!/usr/bin/env python3
"""The baseline of the inventory benchmark: a plain libvirt client reading one domain.

One connection shared by THREADS threads, libvirt's default event loop running on a
thread of its own with a lifecycle callback registered (as an agent's connection has),
and the same five reads a domain read takes: lookup, info, state, persistence and
autostart. Prints `calls=N seconds=S` for the measured window.

Usage: plain_client.py URI DOMAIN SECONDS [THREADS]
"""

import sys
import threading
import time

import libvirt


def main():
    uri, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4

    libvirt.virEventRegisterDefaultImpl()

    def run_events():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run_events, daemon=True).start()
    conn = libvirt.open(uri)
    conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *args: None, None
    )

    def read_once():
        dom = conn.lookupByName(name)
        dom.info()
        dom.state()
        dom.isPersistent()
        dom.autostart()

    # Warm up, then count calls completed inside the window.
    for _ in range(50):
        read_once()
    counts = [0] * threads
    stop_at = [0.0]
    start = threading.Barrier(threads + 1)

    def worker(i):
        start.wait()
        while time.monotonic() < stop_at[0]:
            read_once()
            counts[i] += 1

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    start.wait()
    for w in workers:
        w.join()
    print(f"calls={sum(counts)} seconds={time.monotonic() - began:.3f}")


if __name__ == "__main__":
    main()
