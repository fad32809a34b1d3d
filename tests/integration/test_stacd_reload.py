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


def test_sighup_is_atomic_for_both_files(t):
    """A reload applies sys.conf and stacd.conf together or not at all (issue 9, failure 7): a new
    host NQN with a broken stacd.conf is not used, a new IOC with a broken sys.conf is not
    connected; once both files are good, both changes apply."""
    w = t.w
    sysconf = w.path("sys.conf")
    nqn_a = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-1111-1111-1111-111111111111"
    nqn_b = "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-2222-2222-2222-222222222222"

    def write_sys(text):
        with open(sysconf + ".new", "w") as f:
            f.write(text)
        os.rename(sysconf + ".new", sysconf)

    def host(nqn):
        return f"[Host]\nnqn = {nqn}\nid = 11111111-1111-1111-1111-111111111111\n"
    write_sys(host(nqn_a))
    d = w.stacd(stacd_conf([ioc_cfg(IO1, NQN1)]), start=False)
    base_env = d.env
    d.env = lambda: dict(base_env(), STAS_SYS_CONF=sysconf)
    d.start()
    devs = t.wait(lambda: w.fk.find(traddr=IO1, subsysnqn=NQN1), "the configured IOC is connected")
    t.eq(w.fk.connects(traddr=IO1)[0].get("hostnqn"), nqn_a, "with sys.conf's host NQN")

    # a new sys.conf with a broken stacd.conf: neither applies
    write_sys(host(nqn_b))
    d.reload("[Global\n")
    t.wait(lambda: d.log_count(r"Cannot reload .*stacd\.conf, keeping the running configuration") == 1,
           "the broken stacd.conf is reported")
    w.fk.ctl("remove", devs[0], socket=d.socket)
    t.wait(lambda: len(w.fk.connects_done(traddr=IO1)) == 2, "the lost IOC is connected again")
    t.eq(w.fk.connects(traddr=IO1)[1].get("hostnqn"), nqn_a,
         "still with the running host NQN, not the new sys.conf's")

    # a new stacd.conf with a broken sys.conf: neither applies
    write_sys("[Host\n")
    d.reload(stacd_conf([ioc_cfg(IO1, NQN1), ioc_cfg(IO2, NQN2)]))
    t.wait(lambda: d.log_count(r"Cannot reload .*sys\.conf, keeping the running configuration of both files") == 1,
           "the broken sys.conf is reported")

    # both good: both apply (and this fences the previous reload: SIGHUPs are handled in order)
    write_sys(host(nqn_b))
    d.send_signal(signal.SIGHUP)
    t.wait(lambda: w.fk.find(traddr=IO2, subsysnqn=NQN2), "with both files good, the new IOC is connected")
    t.eq([c.get("hostnqn") for c in w.fk.connects(traddr=IO2)], [nqn_b],
         "once, with the new host NQN: the reload with the broken sys.conf did not connect it")
    t.check(d.alive(), "stacd kept running through both bad reloads")


TESTS = [test_sighup_missing_conf_keeps_running, test_sighup_is_atomic_for_both_files]

if __name__ == "__main__":
    H.main(TESTS)
