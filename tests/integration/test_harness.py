#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of the integration harness: private bus, signal monitor, fake kernel, cleanup.
Needs no daemon, so it runs before stafd/stacd exist."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def test_private_bus(t):
    bus = t.w.bus
    t.check(bus.address.startswith("unix:path=" + t.w.dir), "dbus-daemon listens inside the temp dir")
    t.eq(bus.has_owner("org.freedesktop.DBus"), True, "the bus answers NameHasOwner")
    t.eq(bus.has_owner("org.nvmexpress.staf"), False, "nobody owns org.nvmexpress.staf")
    mon = bus.monitor("type='signal',interface='org.nvmexpress.staf'")
    for i in range(3):
        bus.busctl("emit", "/org/nvmexpress/staf", "org.nvmexpress.staf", "log_pages_changed",
                   "ssssssss", "tcp", "192.0.2.1", "8009", H.WKNQN, "", "", "nqn.x", f"nvme{i}")
    bus.busctl("emit", "/other", "org.other", "noise")
    sigs = t.wait(lambda: len(mon.signals("log_pages_changed")) == 3 and mon.signals("log_pages_changed"),
                  "monitor records the three signals")
    t.eq([s[7] for s in sigs], ["nvme0", "nvme1", "nvme2"], "signal arguments decoded in order")
    t.eq(mon.signals("noise"), [], "signals outside the match rule are not recorded")
    try:
        bus.call(("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus"), "NoSuch")
        t.check(False, "an unknown method raises BusError")
    except H.BusError:
        t.check(True, "an unknown method raises BusError")


def test_fake_kernel(t):
    fk = t.w.fk
    fk.set_scenario({"controllers": [H.dc("192.0.2.10", [H.dlpe("192.0.2.100", "nqn.io:a")])]})
    out = fk.ctl("connect", "nqn=nqn.io:a,transport=tcp,traddr=192.0.2.100,trsvcid=4420,"
                 "hostnqn=nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001")
    t.check(out.startswith("instance=0"), f"fakekernel-ctl connect creates nvme0 ({out})")
    t.eq(fk.find(traddr="192.0.2.100", subsysnqn="nqn.io:a"), ["nvme0"], "the controller shows in sysfs")
    t.eq(fk.controllers()["nvme0"].get("cntrltype"), "io", "an I/O controller by default")
    t.eq(len(fk.connects(traddr="192.0.2.100", nqn="nqn.io:a")), 1, "the connect log has the option string")

    path = t.w.path("hook.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind(path)
        s.settimeout(H.TIMEOUT)
        fk.ctl("aen", "nvme0", socket=path)
        kv = dict(x.split("=", 1) for x in s.recv(8192).decode().split("\0") if "=" in x)
        t.eq((kv.get("ACTION"), kv.get("NVME_AEN")), ("change", "0x70f002"), "an AEN uevent reaches the hook")
        fk.ctl("remove", "nvme0", socket=path)
        kv = dict(x.split("=", 1) for x in s.recv(8192).decode().split("\0") if "=" in x)
        t.eq(kv.get("ACTION"), "remove", "a remove uevent reaches the hook")
    finally:
        s.close()
    t.eq(fk.controllers(), {}, "the removed controller is gone")


def test_cleanup(t):
    w = H.World("inner")
    procs = list(w.procs)
    d = w.dir
    w.close()
    w.remove()
    t.check(procs and all(p.poll() is not None for p in procs), "every process of a world is stopped")
    t.check(not os.path.exists(d), "the temp dir is removed")


if __name__ == "__main__":
    H.main([test_private_bus, test_fake_kernel, test_cleanup])
