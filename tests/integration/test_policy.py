#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The shipped D-Bus policy (dbus/org.nvmexpress.staf.conf, dbus/org.nvmexpress.stac.conf) on a
system-bus-like private bus: deny-by-default as Debian's system.conf, the two files read with
<includedir>. Contract: upstream-nvme-stas.md §4.5 (only root owns the names; any user calls the
methods and reads properties; only root sets tron) and the daemon's own check on setting tron.
Needs root (the daemons own their names as root; the other side runs as nobody via setpriv).
Run one test: python3 test_policy.py <substring of the test name> (with the meson env)."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import dc, dlpe, entry, stacd_conf, stafd_conf  # noqa: E402

A = "192.0.2.10"
IOS = ["192.0.2.101", "192.0.2.102"]
NQNS = ["nqn.2024-01.io.stas.test:sub1", "nqn.2024-01.io.stas.test:sub2"]
DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
# dbus-daemon's own refusal (policy) starts its message like this; the daemons' refusal does not
POLICY_REJECT = "Rejected send message"


def need_root(t):
    t.check(os.geteuid() == 0, "running as root (needed to run the daemons as root and a client as nobody)")


def start_both(t):
    """stafd with one DC listing two IOCs, stacd connecting them; wait until all is connected."""
    w = t.w
    ents = [dlpe(IOS[i], NQNS[i], portid=i + 1) for i in range(2)]
    w.fk.set_scenario({"controllers": [dc(A, ents)]})
    f = w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009")]))
    c = w.stacd(stacd_conf())
    t.wait(lambda: len(c.list_controllers()) == 2, "stacd connects the 2 IOCs of the DC's log page")
    return f, c


def nobody_call(w, svc, member, sig="", *args, iface=None):
    a = ["call", svc[0], svc[1], iface or svc[2], member]
    if sig:
        a += [sig] + list(args)
    out = w.bus.busctl(*a, unprivileged=True)
    return out["data"] if out else []


def nobody_send(w, dest, path, method, *args):
    """dbus-send as nobody (busctl only prints strerror; dbus-send prints the D-Bus error name and
    message, which tells the bus's refusal from the daemon's). Returns the error text, or None
    if the call succeeded."""
    cmd = w.as_nobody(["dbus-send", "--bus=" + w.bus.address, "--print-reply", "--dest=" + dest, path, method]
                      + list(args))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=H.TIMEOUT)
    return None if p.returncode == 0 else (p.stderr.strip() or f"dbus-send exit {p.returncode}")


def nobody_set_tron(w, svc, value):
    return nobody_send(w, svc[0], svc[1], "org.freedesktop.DBus.Properties.Set", "string:" + svc[2] + ".debug",
                       "string:tron", "variant:boolean:" + ("true" if value else "false"))


@H.system_bus
def test_policy_owners_and_readers(t):
    need_root(t)
    w = t.w
    f, c = start_both(t)
    for svc in (H.STAF, H.STAC):
        owner = w.bus.call(DBUS, "GetNameOwner", "s", svc[0])[0]
        t.eq(w.bus.call(DBUS, "GetConnectionUnixUser", "s", owner)[0], 0, f"{svc[0]} is owned by root")

    # positive control: the policy lets root own more names under the prefix (own_prefix)
    t.eq(w.bus.call(DBUS, "RequestName", "su", H.STAF[0] + ".itest", 0)[0], 1,
         "root may own org.nvmexpress.staf.itest (own_prefix)")

    for name in (H.STAF[0], H.STAC[0], H.STAF[0] + ".itest", H.STAC[0] + ".itest"):
        err = nobody_send(w, DBUS[0], DBUS[1], "org.freedesktop.DBus.RequestName", "string:" + name, "uint32:0")
        t.check(err is not None and "AccessDenied" in err and "not allowed to own" in err,
                f"nobody may not own {name} ({err})")

    # nobody may call the read-only members and read properties
    dbg = ".debug"
    t.eq(nobody_call(w, H.STAF, "list_controllers", "b", "false")[0], f.list_controllers(),
         "nobody calls stafd list_controllers (same answer as root)")
    pages = json.loads(nobody_call(w, H.STAF, "get_all_log_pages", "b", "false")[0])
    t.eq(sorted(p.get("subnqn") for e in pages if e["discovery-controller"].get("traddr") == A
                for p in e["log-pages"]), NQNS, "nobody calls stafd get_all_log_pages")
    t.eq(len(nobody_call(w, H.STAF, "get_log_pages", "sssssss", *H.tid_args(f.find_controller(traddr=A)))[0]),
         2, "nobody calls stafd get_log_pages")
    t.eq(nobody_call(w, H.STAC, "list_controllers", "b", "false")[0], c.list_controllers(),
         "nobody calls stacd list_controllers (same answer as root)")
    for svc, d in ((H.STAF, f), (H.STAC, c)):
        info = json.loads(nobody_call(w, svc, "process_info", iface=svc[2] + dbg)[0])
        t.check(isinstance(info, dict) and info, f"nobody calls {svc[0]}.debug process_info")
        t.eq(w.bus.busctl("get-property", svc[0], svc[1], svc[2] + dbg, "tron", unprivileged=True)["data"],
             True, f"nobody reads {svc[0]}.debug tron")

    for cli, want in (("stafctl", [A]), ("stacctl", IOS)):
        if not os.environ.get(cli.upper()):
            t.check(False, f"{cli.upper()} is not set ({cli} not built)")
        rc, out, err = w.cli(cli, "--json", "ls", unprivileged=True)
        t.eq(rc, 0, f"{cli} --json ls as nobody exits 0 {err.strip()}")
        t.eq(sorted(x.get("traddr") for x in json.loads(out)["controllers"]), want, f"{cli} --json ls as nobody lists them")


@H.system_bus
def test_policy_tron_root_only(t):
    need_root(t)
    w = t.w
    start_both(t)
    for svc, cli in ((H.STAF, "stafctl"), (H.STAC, "stacctl")):
        dbg = svc[2] + ".debug"
        err = nobody_set_tron(w, svc, False)
        t.check(err is not None and "AccessDenied" in err and POLICY_REJECT in err,
                f"nobody setting {svc[0]} tron is rejected by the bus policy ({err})")
        t.eq(w.bus.get_property(svc, dbg, "tron"), True, f"{svc[0]} tron unchanged")
        rc, out, err = w.cli(cli, "troff", unprivileged=True)
        t.eq(rc, 1, f"{cli} troff as nobody exits 1")
        t.check("Permission denied" in err, f"{cli} troff as nobody says permission denied ({err.strip()})")
        t.eq(w.bus.get_property(svc, dbg, "tron"), True, f"{svc[0]} tron still unchanged")
        # positive control: the policy lets root set it
        w.bus.busctl("set-property", svc[0], svc[1], dbg, "tron", "b", "false")
        t.eq(w.bus.get_property(svc, dbg, "tron"), False, f"root sets {svc[0]} tron")


def test_daemon_refuses_tron_from_nobody(t):
    """On a bus that allows everything, the daemons themselves refuse a Set of tron by nobody
    (a second line of defence when the policy files are missing or too open)."""
    need_root(t)
    w = t.w
    start_both(t)
    for svc in (H.STAF, H.STAC):
        dbg = svc[2] + ".debug"
        err = nobody_set_tron(w, svc, False)
        t.check(err is not None and "AccessDenied" in err and POLICY_REJECT not in err,
                f"nobody setting {svc[0]} tron is refused by the daemon, not the bus ({err})")
        t.eq(w.bus.get_property(svc, dbg, "tron"), True, f"{svc[0]} tron unchanged")
        t.eq(w.bus.busctl("get-property", svc[0], svc[1], dbg, "tron", unprivileged=True)["data"], True,
             f"nobody still reads {svc[0]} tron")


TESTS = [test_policy_owners_and_readers, test_policy_tron_root_only, test_daemon_refuses_tron_from_nobody]

if __name__ == "__main__":
    H.main(TESTS)
