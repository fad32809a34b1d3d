#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Losing the D-Bus connection: the private dbus-daemon is killed under running daemons.
Neither may run on deaf (stacd would silently stop following stafd, stafd would publish to
no one): each exits with status 1 and a clear error line, so that Restart=on-failure starts it
again on the new bus, and every kernel connection (I/O and discovery) stays in place.
Run one test: python3 test_bus_loss.py <substring of the test name> (with the meson env)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import test_stacd as S  # noqa: E402

LOST = r"lost the connection to the D-Bus system bus"


def test_stacd_exits_on_bus_loss(t):
    s = S.Setup(t, n=2)
    devs = s.wait_iocs((0, 1))
    t.wait(lambda: len(s.stacd.list_controllers()) == 2, "stacd lists 2 controllers")
    n_connects = len(t.w.fk.connect_log())

    t.w.bus.kill()
    t.wait(lambda: not s.stacd.alive(), "stacd exits after the bus is gone")
    rc = s.stacd.stop()
    t.eq(rc, 1, "stacd exits with status 1 (Restart=on-failure restarts it)")
    t.eq(s.stacd.log_count(LOST), 1, "stacd logs the lost bus once")
    t.check_logs(s.stacd)
    t.eq((s.iocs(0), s.iocs(1)), ([devs[0]], [devs[1]]), "no I/O controller was disconnected")
    t.eq(len(t.w.fk.connect_log()), n_connects, "and nothing was connected again")
    t.wait(lambda: not s.stafd.alive(), "stafd exits after the bus is gone")
    t.eq(s.stafd.stop(), 1, "stafd exits with status 1")
    t.eq(s.stafd.log_count(LOST), 1, "stafd logs the lost bus once")
    t.check_logs(s.stafd)
    t.check(t.w.fk.find(trsvcid="8009"), "the discovery controller connection is kept")


TESTS = [test_stacd_exits_on_bus_loss]

if __name__ == "__main__":
    H.main(TESTS)
