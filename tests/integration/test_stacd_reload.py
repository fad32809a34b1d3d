#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stacd reload tests (SIGHUP), kept apart from test_stacd.py.
Run one test: python3 test_stacd_reload.py <substring of the test name> (with the meson env)."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import entry, stacd_conf  # noqa: E402

IO1, IO2 = "192.0.2.101", "192.0.2.102"
NQN1, NQN2 = "nqn.2024-01.io.stas.test:sub1", "nqn.2024-01.io.stas.test:sub2"


def ioc_cfg(traddr, nqn):
    return entry(transport="tcp", traddr=traddr, trsvcid="4420", nqn=nqn)


def test_sighup_missing_conf_keeps_running(t):
    """A stacd.conf missing at SIGHUP keeps the running configuration: the configured IOC stays."""
    w = t.w
    d = w.stacd(stacd_conf([ioc_cfg(IO1, NQN1)]))
    devs = t.wait(lambda: w.fk.find(traddr=IO1, subsysnqn=NQN1), "the configured IOC is connected")
    os.unlink(d.conf)
    d.send_signal(signal.SIGHUP)
    t.wait(lambda: d.log_count(r"stacd\.conf is missing; keeping the running configuration") == 1,
           "a missing stacd.conf at SIGHUP is reported as a warning")
    d.reload(stacd_conf([ioc_cfg(IO1, NQN1), ioc_cfg(IO2, NQN2)]))
    t.wait(lambda: w.fk.find(traddr=IO2, subsysnqn=NQN2), "fence: the next reload with the file back is applied")
    t.eq(w.fk.find(traddr=IO1, subsysnqn=NQN1), devs, "the configured IOC stayed connected")
    t.eq(len(w.fk.connects(traddr=IO1)), 1, "and was not reconnected")


TESTS = [test_sighup_missing_conf_keeps_running]

if __name__ == "__main__":
    H.main(TESTS)
