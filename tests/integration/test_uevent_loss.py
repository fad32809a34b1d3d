#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lost uevents (issue 9, failure 4): the kernel changes sysfs and the daemon never hears of it
(fakekernel-ctl --no-uevent), then the daemon's uevent socket reports an overflow
(fakekernel-ctl overflow: the datagram "ENOBUFS", handled like ENOBUFS on the udev monitor).
A controller whose device is gone is reconnected; a device name the kernel gave to another
controller is not taken for the old one; an AEN lost with the rest is made up for.
Run one test: python3 test_uevent_loss.py <substring of the test name> (with the meson env)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import test_stacd as S  # noqa: E402
from harness import dc, dlpe, entry, stafd_conf  # noqa: E402

A = "192.0.2.10"
IO1, IO2 = "192.0.2.101", "192.0.2.102"
NQN1, NQN2 = "nqn.2024-01.io.stas.test:sub1", "nqn.2024-01.io.stas.test:sub2"
OTHER, OTHER_NQN = "192.0.2.150", "nqn.2024-01.io.stas.test:someone-else"
LOST = r"uevents were lost \(test socket: receive buffer overflow\)"


def dc_entry(d):
    return d.find_controller(traddr=A)


def foreign_connect(w, socket=None):
    """Another controller, connected behind the daemons' back: the kernel gives it the lowest
    free name. With socket, its add uevent reaches that daemon; without, it is lost."""
    args = ("connect", f"nqn={OTHER_NQN},transport=tcp,traddr={OTHER},trsvcid=4420")
    out = w.fk.ctl(*args, socket=socket) if socket else w.fk.ctl("--no-uevent", *args)
    return "nvme" + out.split(",")[0].split("=")[1]


def stafd_with_dc(t, ents=(dlpe(IO1, NQN1),)):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, list(ents))]})
    d = w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009")]))
    t.wait(lambda: dc_entry(d) and len(d.get_log_pages(dc_entry(d))) == len(ents),
           f"stafd connects the DC and publishes {len(ents)} log page entries")
    return d, dc_entry(d)["device"]


def wait_dc_reconnected(t, d, n0, old_dev=None):
    w = t.w
    t.wait(lambda: len(w.fk.connects(traddr=A)) > n0, "stafd connects the DC again")
    t.wait(lambda: w.fk.find(traddr=A) and dc_entry(d)["device"] == w.fk.find(traddr=A)[0],
           "list_controllers shows the DC on its new device")
    if old_dev:  # else the kernel may well give the new connection the old name
        t.check(dc_entry(d)["device"] != old_dev, f"the DC is not on {old_dev} any more")


def test_stafd_lost_remove_dc(t):
    w = t.w
    d, dev = stafd_with_dc(t)
    n0 = len(w.fk.connects(traddr=A))
    w.fk.ctl("--no-uevent", "remove", dev)
    t.check(not w.fk.find(traddr=A), f"the kernel dropped {dev}, and stafd was not told")
    w.fk.ctl("overflow", socket=d.socket)
    wait_dc_reconnected(t, d, n0)
    t.eq(d.log_count(LOST), 1, "one warning for the overflow")
    t.wait(lambda: len(d.get_log_pages(dc_entry(d))) == 1, "the log pages are still served")
    t.stop_clean(d)


def test_stafd_overflow_rereads_log_page(t):
    """An AEN lost with the rest: after the overflow stafd reads the log page again."""
    w = t.w
    d, dev = stafd_with_dc(t)
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1), dlpe(IO2, NQN2)])]})
    reads = len(w.fk.get_log_reads(dev))
    w.fk.ctl("overflow", socket=d.socket)
    t.wait(lambda: len(d.get_log_pages(dc_entry(d))) == 2, "the entry added meanwhile is published")
    t.check(len(w.fk.get_log_reads(dev)) > reads, "the log page was read again")
    t.eq(dc_entry(d)["device"], dev, "the DC keeps its device (it is still there)")
    t.eq(len(w.fk.connects(traddr=A)), 1, "and is not connected again")


def test_stafd_reused_name_not_adopted(t):
    w = t.w
    d, dev = stafd_with_dc(t)
    n0 = len(w.fk.connects(traddr=A))
    w.fk.ctl("--no-uevent", "remove", dev)
    other = foreign_connect(w)
    t.eq(other, dev, "the kernel gave the DC's name to another controller")
    w.fk.ctl("overflow", socket=d.socket)
    wait_dc_reconnected(t, d, n0, dev)
    t.eq(w.fk.find(traddr=OTHER), [dev], f"the other controller keeps {dev}, untouched")


def stacd_with_iocs(t):
    s = S.Setup(t, n=2)
    devs = s.wait_iocs((0, 1))
    t.wait(lambda: len(s.stacd.list_controllers()) == 2, "stacd lists 2 controllers")
    return s, devs


def ioc_entry(s, i):
    return next((c for c in s.stacd.list_controllers() if c["subsysnqn"] == S.NQNS[i]), {})


def wait_ioc_reconnected(t, s, n0, old_dev=None):
    w = t.w
    t.wait(lambda: len(w.fk.connects(traddr=S.IOS[0])) > n0, "stacd connects the IOC again")
    t.wait(lambda: s.iocs(0) and ioc_entry(s, 0).get("device") == s.iocs(0)[0],
           "list_controllers shows the IOC on its new device")
    if old_dev:
        t.check(ioc_entry(s, 0).get("device") != old_dev, f"the IOC is not on {old_dev} any more")


def test_stacd_lost_remove_ioc(t):
    w = t.w
    s, devs = stacd_with_iocs(t)
    n0 = len(w.fk.connects(traddr=S.IOS[0]))
    w.fk.ctl("--no-uevent", "remove", devs[0])
    w.fk.ctl("overflow", socket=s.stacd.socket)
    wait_ioc_reconnected(t, s, n0)
    t.eq(s.stacd.log_count(LOST), 1, "one warning for the overflow")
    t.eq(s.iocs(1), [devs[1]], "the other IOC keeps its device")
    t.eq(len(w.fk.connects(traddr=S.IOS[1])), 1, "and is not connected again")
    t.stop_clean(s.stacd)


def test_stacd_reused_name_not_adopted(t):
    w = t.w
    s, devs = stacd_with_iocs(t)
    n0 = len(w.fk.connects(traddr=S.IOS[0]))
    w.fk.ctl("--no-uevent", "remove", devs[0])
    t.eq(foreign_connect(w), devs[0], "the kernel gave the IOC's name to another controller")
    w.fk.ctl("overflow", socket=s.stacd.socket)
    wait_ioc_reconnected(t, s, n0, devs[0])
    t.eq(w.fk.find(traddr=OTHER), [devs[0]], f"the other controller keeps {devs[0]}, untouched")


def test_stacd_add_under_reused_name(t):
    """No overflow: the add uevent of the controller that got the name tells stacd that its own
    device is gone (its remove event was lost)."""
    w = t.w
    s, devs = stacd_with_iocs(t)
    n0 = len(w.fk.connects(traddr=S.IOS[0]))
    w.fk.ctl("--no-uevent", "remove", devs[0])
    t.eq(foreign_connect(w, socket=s.stacd.socket), devs[0], "the kernel gave the IOC's name to another controller")
    wait_ioc_reconnected(t, s, n0, devs[0])
    t.eq(s.stacd.log_count(LOST), 0, "no overflow was needed")


def test_stacd_overflow_audits(t):
    """disconnect-scope=all-connections-matching-disconnect-trtypes: a foreign connection whose
    add event was lost is audited after the overflow, as after its add event."""
    w = t.w
    iocm = [("disconnect-scope", "all-connections-matching-disconnect-trtypes"), ("disconnect-trtypes", "tcp")]
    s = S.Setup(t, n=1, iocm=iocm, host_iface=None)
    dev = s.wait_iocs((0,))[0]
    hn = s.dc["host-nqn"]
    # fence: the audits due to the add events so far (the IOC's own, this one's) have run
    w.fk.ctl("connect", f"nqn={OTHER_NQN}:1,transport=tcp,traddr=192.0.2.151,trsvcid=4420,hostnqn={hn}",
             socket=s.stacd.socket)
    t.wait(lambda: not w.fk.find(traddr="192.0.2.151"), "a foreign connection announced by its add event is audited")
    w.fk.ctl("--no-uevent", "connect", f"nqn={OTHER_NQN},transport=tcp,traddr={OTHER},trsvcid=4420,hostnqn={hn}")
    t.check(w.fk.find(traddr=OTHER), "a foreign connection appears, its add event lost")
    w.fk.ctl("overflow", socket=s.stacd.socket)
    t.wait(lambda: not w.fk.find(traddr=OTHER), "the audit after the overflow removes it")
    t.eq(s.iocs(0), [dev], "the discovered IOC keeps its device")


TESTS = [test_stafd_lost_remove_dc, test_stafd_overflow_rereads_log_page, test_stafd_reused_name_not_adopted,
         test_stacd_lost_remove_ioc, test_stacd_reused_name_not_adopted, test_stacd_add_under_reused_name,
         test_stacd_overflow_audits]

if __name__ == "__main__":
    H.main(TESTS)
