#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Worker pools: connects to dead targets never hold up the short operations (issue 9, failure 3).

A connect write to /dev/nvme-fabrics can block for the transport's connect timeout. Here 20
targets take 30 s to answer a connect (fake kernel scenario "connect_delay_ms") while one DC is
healthy. Every check that something happened "in time" is fenced: when it is seen, none of the
hung connects has returned yet (the fake kernel's connect-done.log lists every connect write that
returned), so it cannot have waited for them. The waits have a bound below the hang only because a
later success could no longer pass the fence; no check depends on how fast the machine is.
Run one test: python3 test_workers.py <substring of the test name> (with the meson env)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import WKNQN, dc, dlpe, entry, stacd_conf, stafd_conf  # noqa: E402

A = "192.0.2.10"  # the healthy DC
IOC = [("192.0.2.101", "nqn.2024-01.io.stas.test:sub1"), ("192.0.2.102", "nqn.2024-01.io.stas.test:sub2")]
HUNG = [f"192.0.2.{120 + i}" for i in range(20)]  # each answers connects after HANG_MS
HUNG_NQN = [f"nqn.2024-01.io.stas.test:hung{i}" for i in range(20)]
HANG_MS = 30000
BOUND = 20  # seconds: less than the hang (see the module comment)
# Before the split, stafd had 4 workers and stacd 8, in one queue each: once that many hung
# connects have reached the kernel, every worker of the old design is stuck.
OLD_STAFD_WORKERS, OLD_STACD_WORKERS = 4, 8


def scenario(w, ioc_entries, hang_ms=HANG_MS):
    hung = [{"transport": "tcp", "traddr": h, "connect_delay_ms": hang_ms} for h in HUNG]
    w.fk.set_scenario({"controllers": [dc(A, ioc_entries)] + hung})


def ioc_cfg(traddr, nqn):
    return entry(transport="tcp", traddr=traddr, trsvcid="4420", nqn=nqn)


def hung_dcs():
    return [entry(transport="tcp", traddr=h, trsvcid="8009") for h in HUNG]


def hung_iocs():
    return [ioc_cfg(h, n) for h, n in zip(HUNG, HUNG_NQN)]


def started(w, nqn_pred):
    """Connect writes to the hung targets that reached the kernel, by NQN."""
    return [c for c in w.fk.connect_log() if c.get("traddr") in HUNG and nqn_pred(c.get("nqn", ""))]


def returned(w):
    """Connect writes to the hung targets that have returned."""
    return [c for c in w.fk.connects_done() if c.get("traddr") in HUNG]


def fence(t, what):
    t.eq(returned(t.w), [], f"{what}, and none of the hung connects has returned yet")


def stacd_has(d, nqn):
    c = d.find_controller(subsysnqn=nqn)
    return c is not None and c.get("device", "nvme?") != "nvme?"


def release(t, ioc_entries, n_dc, n_ioc):
    """Let the hung connects go; every one of them then completes (and the daemons stop cleanly)."""
    scenario(t.w, ioc_entries, hang_ms=0)
    t.wait(lambda: len([c for c in returned(t.w) if c.get("nqn") == WKNQN]) == n_dc
           and len([c for c in returned(t.w) if c.get("nqn") in HUNG_NQN]) == n_ioc,
           f"released: the {n_dc} hung DC and {n_ioc} hung IOC connects complete")


def test_aen_behind_hung_connects(t):
    """20 DCs (stafd) and 20 IOCs (stacd) hang in connect. An AEN of the healthy DC is still read
    at once, and stacd connects the IOC it adds and disconnects the IOC it drops."""
    w = t.w
    scenario(w, [dlpe(*IOC[0])])
    sf = w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009")]))
    t.wait(lambda: sf.find_controller(traddr=A) and sf.find_controller(traddr=A).get("device", "nvme?") != "nvme?",
           "stafd connects the healthy DC")
    dev = sf.find_controller(traddr=A)["device"]
    sc = w.stacd(stacd_conf([]))
    t.wait(lambda: w.fk.find(traddr=IOC[0][0], subsysnqn=IOC[0][1]), "stacd connects the IOC the DC lists")

    sf.reload(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009")] + hung_dcs()))
    sc.reload(stacd_conf(hung_iocs()))
    t.wait(lambda: len(started(w, lambda n: n == WKNQN)) >= OLD_STAFD_WORKERS,
           f"at least {OLD_STAFD_WORKERS} hung DC connects are in the kernel")
    t.wait(lambda: len(started(w, lambda n: n in HUNG_NQN)) >= OLD_STACD_WORKERS,
           f"at least {OLD_STACD_WORKERS} hung IOC connects are in the kernel")
    fence(t, "the hung connects are in flight")

    reads = len(w.fk.get_log_reads(dev))
    scenario(w, [dlpe(*IOC[1])])
    w.fk.ctl("aen", dev, socket=sf.socket)
    t.wait(lambda: len(w.fk.get_log_reads(dev)) > reads, "the AEN leads to a log page read", timeout=BOUND)
    t.wait(lambda: [e.get("subnqn") for e in sf.get_log_pages(sf.find_controller(traddr=A))] == [IOC[1][1]],
           "stafd publishes the new log page", timeout=BOUND)
    t.wait(lambda: w.fk.connects_done(traddr=IOC[1][0], nqn=IOC[1][1]) and stacd_has(sc, IOC[1][1]),
           "stacd connects the new IOC", timeout=BOUND)
    t.wait(lambda: not w.fk.find(traddr=IOC[0][0], subsysnqn=IOC[0][1]),
           "stacd disconnects the IOC no longer listed", timeout=BOUND)
    fence(t, "log read, connect and disconnect done")
    t.eq(len(w.fk.connects(nqn=IOC[1][1])), 1, "the new IOC was connected with one attempt")

    release(t, [dlpe(*IOC[1])], len(HUNG), len(HUNG))


def test_name_lookup_behind_hung_connects(t):
    """20 IOCs hang in connect; a configured IOC whose traddr is a host name is still looked up
    (on the short operations' workers) and connected."""
    w = t.w
    scenario(w, [])
    sc = w.stacd(stacd_conf(hung_iocs(), glob=[("ip-family", "ipv4")]))
    t.wait(lambda: len(started(w, lambda n: n in HUNG_NQN)) >= OLD_STACD_WORKERS,
           f"at least {OLD_STACD_WORKERS} hung IOC connects are in the kernel")
    fence(t, "the hung connects are in flight")

    sc.reload(stacd_conf(hung_iocs() + [ioc_cfg("localhost", IOC[0][1])], glob=[("ip-family", "ipv4")]))
    t.wait(lambda: w.fk.connects_done(traddr="127.0.0.1", nqn=IOC[0][1]) and stacd_has(sc, IOC[0][1]),
           "localhost is resolved and the IOC connected", timeout=BOUND)
    fence(t, "name lookup and connect done")
    t.eq(w.fk.connects(traddr="localhost"), [], "the host name itself never reaches the kernel")

    release(t, [], 0, len(HUNG))


def lkc_entries(d, key):
    with open(os.path.join(d.runtime, "last-known-config.json")) as f:
        return json.load(f)["data"][key]


def test_stop_is_bounded(t):
    """SIGTERM while connects hang in the kernel (issue 9, failure 6): both daemons stop with
    status 0 while those connects are still hung (fenced: none has returned), saying what they
    left behind, and their state files keep the controllers whose connects were pending. stafd
    first waits its 10 s for the DC it keeps (persistent connections), then both give the
    running connects 2 s."""
    w = t.w
    scenario(w, [])
    sf = w.stafd(stafd_conf(hung_dcs()))
    sc = w.stacd(stacd_conf(hung_iocs()))
    t.wait(lambda: len(started(w, lambda n: n == WKNQN)) >= 1, "hung DC connects are in the kernel")
    t.wait(lambda: len(started(w, lambda n: n in HUNG_NQN)) >= 1, "hung IOC connects are in the kernel")
    fence(t, "the hung connects are in flight")

    t.eq(sc.stop(timeout=BOUND), 0, f"stacd exits with status 0 within {BOUND} s")
    t.eq(sf.stop(timeout=BOUND), 0, f"stafd exits with status 0 within {BOUND} s")
    fence(t, "both stopped")
    for d in (sc, sf):
        t.eq(d.log_count(r"^<4>.*operation\(s\) still blocked in the kernel after 2\.0 s; exiting without waiting"), 1,
             f"{d.name} warns once that it leaves the blocked connects")
    t.eq(sf.log_count(r"^<4>.*disconnect\(s\) or deregistration\(s\) still pending after 10 s"), 1,
         "stafd warns once that it leaves the DCs still waiting on their connects")
    t.eq(len(lkc_entries(sc, "iocs")), len(HUNG), "stacd's state file keeps the IOCs being connected")
    t.eq(len(lkc_entries(sf, "dcs")), len(HUNG), "stafd's state file keeps the DCs being connected")
    t.check_logs(sc)
    t.check_logs(sf)


TESTS = [test_aen_behind_hung_connects, test_name_lookup_behind_hung_connects, test_stop_is_bounded]

if __name__ == "__main__":
    H.main(TESTS)
