#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stacd black-box tests: real stafd + real stacd on a private bus over the fake kernel.
Contract: upstream-nvme-stas.md §4.4, §5.8-5.10, §5.12-5.13; DESIGN.md 3.
Run one test: python3 test_stacd.py <substring of the test name> (with the meson env)."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from state_file_checks import state_file_directory, state_file_fifo  # noqa: E402
from harness import dc, dlpe, entry, stacd_conf, stafd_conf  # noqa: E402

A = "192.0.2.10"
IOS = ["192.0.2.101", "192.0.2.102", "192.0.2.103"]
NQNS = [f"nqn.2024-01.io.stas.test:sub{i}" for i in range(1, 4)]
FENCE = [("192.0.2.201", "nqn.2024-01.io.stas.test:fence1"), ("192.0.2.202", "nqn.2024-01.io.stas.test:fence2")]


def entries(n=3, eflags=0):
    return [dlpe(IOS[i], NQNS[i], eflags=eflags, portid=i + 1) for i in range(n)]


def ioc_cfg(traddr, nqn):
    return entry(transport="tcp", traddr=traddr, trsvcid="4420", nqn=nqn)


class Setup:
    """stafd with one DC (host-iface lo) whose log page lists IOCs, and stacd."""

    def __init__(self, t, n=3, iocm=(), host_iface="lo", start_stacd=True, ents=None, extra_sc=(), published=None):
        self.t, self.w = t, t.w
        self.iocm = list(iocm)
        self.extra = []
        ents = entries(n) if ents is None else ents
        n = len(ents) if published is None else published
        self.set_dlp(ents, extra_sc)
        kw = {"host_iface": host_iface} if host_iface else {}
        self.stafd = self.w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009", **kw)]))
        t.wait(lambda: self.dc_pages() is not None and len(self.dc_pages()) == n, f"stafd publishes {n} IOCs")
        self.dc = self.stafd.find_controller(traddr=A)
        self.stacd = self.w.stacd(self.stacd_text(), start=start_stacd)

    def set_dlp(self, ents, extra_sc=()):
        self.w.fk.set_scenario({"controllers": [dc(A, ents)] + list(extra_sc)})

    def stacd_text(self, ctrls=()):
        return stacd_conf(list(ctrls) + self.extra, iocm=self.iocm)

    def dc_pages(self):
        for e in self.stafd.get_all_log_pages(False):
            if e["discovery-controller"].get("traddr") == A:
                return e["log-pages"]
        return None

    def aen(self):
        self.w.fk.ctl("aen", self.dc["device"], socket=self.stafd.socket)

    def iocs(self, i):
        return self.w.fk.find(traddr=IOS[i], subsysnqn=NQNS[i])

    def wait_iocs(self, idx=(0, 1, 2)):
        for i in idx:
            self.t.wait(lambda: self.iocs(i), f"IOC {NQNS[i]} connected")
        return {i: self.iocs(i)[0] for i in idx}

    def fence(self, k, ctrls=()):
        """SIGHUP stacd with one more configured IOC; wait until it is connected (a full reconcile)."""
        traddr, nqn = FENCE[k]
        cs = list(ctrls) + [ioc_cfg(*FENCE[j]) for j in range(k + 1)]
        self.stacd.reload(self.stacd_text(cs))
        self.t.wait(lambda: self.w.fk.find(traddr=traddr, subsysnqn=nqn), f"fence IOC {nqn} connected after SIGHUP")


def test_three_iocs_host_iface(t):
    s = Setup(t)
    devs = s.wait_iocs()
    w = t.w
    for i in range(3):
        c = w.fk.connects(traddr=IOS[i], nqn=NQNS[i])
        t.eq(len(c), 1, f"{NQNS[i]}: exactly one connect")
        t.eq((c[0].get("transport"), c[0].get("trsvcid"), c[0].get("host_iface"), c[0].get("hostnqn")),
             ("tcp", "4420", "lo", s.dc["host-nqn"]),
             f"{NQNS[i]}: connected with the DC's host-iface and host NQN (§5.8)")
        t.check("discovery" not in c[0], f"{NQNS[i]}: no discovery flag on an I/O controller")
    # the kernel has the devices before stacd has the connects' results: wait for those too
    t.wait(lambda: len(s.stacd.list_controllers()) == 3
           and all(c.get("device") != "nvme?" for c in s.stacd.list_controllers()),
           "stacd lists 3 controllers, connected")
    lc = {c["subsysnqn"]: c for c in s.stacd.list_controllers()}
    for i in range(3):
        c = lc.get(NQNS[i], {})
        t.eq((c.get("traddr"), c.get("host-iface"), c.get("device")), (IOS[i], "lo", devs[i]),
             f"stacd list_controllers entry of {NQNS[i]}")
    det = s.stacd.list_controllers(True)
    t.eq(len(det), 3, "list_controllers(true) answers")
    if os.environ.get("STACCTL"):
        rc, out, err = w.cli("stacctl", "--json", "ls")
        t.eq(rc, 0, f"stacctl --json ls exits 0 {err.strip()}")
        t.eq(sorted(c.get("subsysnqn") for c in json.loads(out)["controllers"]), NQNS, "stacctl --json ls lists them")


def removal(t, iocm, expect_disconnect):
    s = Setup(t, iocm=iocm)
    devs = s.wait_iocs()
    s.set_dlp(entries(2))
    s.aen()
    t.wait(lambda: len(s.dc_pages()) == 2, "stafd publishes the shorter log page")
    t.wait(lambda: not any(c["subsysnqn"] == NQNS[2] for c in s.stacd.list_controllers()),
           "stacd drops the removed IOC")
    if expect_disconnect:
        t.wait(lambda: not s.iocs(2), "the removed IOC is disconnected")
    else:
        s.fence(0)
        t.eq(s.iocs(2), [devs[2]], "the removed IOC's kernel connection is kept")
    t.eq((s.iocs(0), s.iocs(1)), ([devs[0]], [devs[1]]), "the other IOCs are untouched")
    t.eq([len(t.w.fk.connects(nqn=n)) for n in NQNS], [1, 1, 1], "no reconnects")


def test_removed_only_stas_connections(t):
    removal(t, [], True)


def test_removed_no_disconnect(t):
    removal(t, [("disconnect-scope", "no-disconnect")], False)


def test_removed_trtype_not_listed(t):
    removal(t, [("disconnect-scope", "all-connections-matching-disconnect-trtypes"),
                ("disconnect-trtypes", "rdma")], False)


def test_removed_trtype_listed(t):
    removal(t, [("disconnect-scope", "all-connections-matching-disconnect-trtypes"),
                ("disconnect-trtypes", "rdma+tcp")], True)


def test_stafd_killed_no_disconnect(t):
    s = Setup(t)
    devs = s.wait_iocs()
    t.wait(lambda: len(s.stacd.list_controllers()) == 3, "stacd tracks the 3 IOCs")
    s.stafd.stop(signal.SIGKILL)
    t.wait(lambda: not t.w.bus.has_owner("org.nvmexpress.staf"), "stafd is gone from the bus")
    s.fence(0)
    t.eq([s.iocs(i) for i in range(3)], [[devs[i]] for i in range(3)],
         "stafd absent: zero disconnects after a full stacd reconcile (DESIGN 3)")
    t.check(s.stacd.alive(), "stacd keeps running without stafd")

    s.stafd.start()
    t.wait(lambda: s.dc_pages() is not None and len(s.dc_pages()) == 3, "stafd is back with the same pages")
    s.fence(1)
    t.eq([s.iocs(i) for i in range(3)], [[devs[i]] for i in range(3)],
         "stafd back with the same pages: still zero disconnects")
    t.eq([len(t.w.fk.connects(nqn=n)) for n in NQNS], [1, 1, 1], "and no reconnects")


def test_ncc_connect_attempts(t):
    w = t.w
    # IOC 0 has NCC set, IOC 1 not; both refuse connections.
    ents = [dlpe(IOS[0], NQNS[0], eflags=4), dlpe(IOS[1], NQNS[1], portid=2)]
    refuse = [{"transport": "tcp", "traddr": IOS[i], "trsvcid": "4420", "connect_error": "ECONNREFUSED"}
              for i in range(2)]
    s = Setup(t, iocm=[("connect-attempts-on-ncc", "2")], ents=ents, extra_sc=refuse)
    t.wait(lambda: len(w.fk.connects(nqn=NQNS[0])) >= 2, "the NCC IOC is tried")
    # Control: the non-NCC IOC retries on the same backoff schedule (3 s doubling, +-25% jitter); by
    # its 4th attempt the NCC one would have made its 3rd if it were not limited.
    t.wait(lambda: len(w.fk.connects(nqn=NQNS[1])) >= 4, "the non-NCC IOC keeps retrying", timeout=240)
    t.eq(len(w.fk.connects(nqn=NQNS[0])), 2, "connect-attempts-on-ncc=2: the NCC IOC stops after 2 attempts")

    s.set_dlp([dlpe(IOS[0], NQNS[0], eflags=0), dlpe(IOS[1], NQNS[1], portid=2)], refuse[1:])
    s.aen()
    t.wait(lambda: s.iocs(0), "NCC cleared: the IOC is connected right away (§5.9)")


def test_audit_foreign_connections(t):
    w = t.w
    iocm = [("disconnect-scope", "all-connections-matching-disconnect-trtypes"), ("disconnect-trtypes", "tcp")]
    s = Setup(t, n=2, iocm=iocm, host_iface=None, start_stacd=False)
    hn = s.dc["host-nqn"]

    def foreign(traddr, nqn, transport="tcp", socket=None):
        w.fk.ctl("connect", f"nqn={nqn},transport={transport},traddr={traddr},trsvcid=4420,hostnqn={hn}",
                 socket=socket)
        return w.fk.find(traddr=traddr, subsysnqn=nqn)[0]

    foreign("192.0.2.150", "nqn.2024-01.io.stas.test:foreign")
    f_known = foreign(IOS[0], NQNS[0])
    f_rdma = foreign("192.0.2.160", "nqn.2024-01.io.stas.test:rdma", transport="rdma")
    s.stacd.start()
    t.wait(lambda: s.iocs(1), "the discovered IOC without a connection is connected")
    t.wait(lambda: not w.fk.find(traddr="192.0.2.150"),
           "audit: a foreign tcp connection neither configured nor discovered is removed")
    t.eq(s.iocs(0), [f_known], "a foreign connection that is in the log page is adopted and kept")
    t.eq(len(w.fk.connects(nqn=NQNS[0])), 1, "the adopted IOC is not connected a second time")
    t.eq(w.fk.find(traddr="192.0.2.160"), [f_rdma], "a foreign rdma connection (not in disconnect-trtypes) is kept")

    foreign("192.0.2.151", "nqn.2024-01.io.stas.test:late", socket=s.stacd.socket)
    t.wait(lambda: not w.fk.find(traddr="192.0.2.151"), "audit on a udev add event removes a new foreign connection")


def test_stacd_restart_no_reconnect(t):
    s = Setup(t)
    devs = s.wait_iocs()
    t.wait(lambda: len(s.stacd.list_controllers()) == 3, "stacd tracks the 3 IOCs")
    t.stop_clean(s.stacd)
    t.eq([s.iocs(i) for i in range(3)], [[devs[i]] for i in range(3)], "IOCs stay connected when stacd exits")
    s.stacd.start()
    t.wait(lambda: sorted((c["subsysnqn"], c["device"]) for c in s.stacd.list_controllers())
           == sorted((NQNS[i], devs[i]) for i in range(3)), "restarted stacd adopts the same kernel devices")
    s.fence(0)
    t.eq([len(t.w.fk.connects(nqn=n)) for n in NQNS], [1, 1, 1], "no reconnect after a stacd restart")
    t.eq([s.iocs(i) for i in range(3)], [[devs[i]] for i in range(3)], "same kernel instances")


def test_secrets_ioc(t):
    """A configured IOC with DH-HMAC-CHAP secrets; stacd alone (no stafd: DESIGN 3)."""
    w = t.w
    hkey, ckey = H.dhchap(48, 3), H.dhchap(64, 4)
    t.check(hkey.endswith("==:"), "test host secret has base64 '=' padding")
    d = w.stacd(stacd_conf([ioc_cfg(IOS[0], NQNS[0]) + f";dhchap-secret={hkey};dhchap-ctrl-secret={ckey}"]))
    t.wait(lambda: w.fk.find(traddr=IOS[0], subsysnqn=NQNS[0]), "the configured IOC is connected without stafd")
    opts = w.fk.connects(nqn=NQNS[0])[0]
    t.eq(opts.get("dhchap_secret"), hkey, "the host secret reaches the kernel intact, '=' padding included (DESIGN 1)")
    t.eq(opts.get("dhchap_ctrl_secret"), ckey, "the controller secret reaches the kernel")
    c = t.wait(lambda: d.find_controller(subsysnqn=NQNS[0]), "stacd lists the IOC")
    t.eq((c.get("dhchap-secret"), c.get("dhchap-ctrl-secret")), ("(set)", "(set)"),
         "list_controllers shows secrets as (set) (DESIGN 2)")
    replies = {
        "list_controllers(false)": json.dumps(d.list_controllers(False)),
        "list_controllers(true)": json.dumps(d.list_controllers(True)),
        "controller_info": json.dumps(d.controller_info(c)),
        "process_info": json.dumps(d.process_info()),
    }
    for what, text in replies.items():
        t.check(hkey[10:40] not in text and ckey[10:40] not in text, f"no secret in {what}", fatal=False)
    t.stop_clean(d)
    logs = "".join(x for _, x in d.logs())
    t.check(hkey[10:40] not in logs and ckey[10:40] not in logs, "no secret in stacd's log (tron on)")


def test_host_name_traddr(t):
    """A configured IOC whose traddr is a host name is connected to its address (§5.1)."""
    w = t.w
    d = w.stacd(stacd_conf([ioc_cfg("localhost", NQNS[0])], glob=[("ip-family", "ipv4")]))
    t.wait(lambda: w.fk.find(traddr="127.0.0.1", subsysnqn=NQNS[0]), "localhost is resolved to 127.0.0.1 and connected")
    t.eq(w.fk.connects(traddr="localhost"), [], "the host name itself never reaches the kernel")
    t.check(d.find_controller(traddr="127.0.0.1"), "stacd lists the IOC by address")
    t.stop_clean(d)


def test_hostile_entry_does_not_blind_stacd(t):
    """A referral whose subnqn fills its 256 bytes (no NQN can) next to a valid IOC: the referral
    is dropped by stafd (never connected, never published) and stacd connects the valid IOC."""
    hostile = dlpe("192.0.2.66", "nqn." + "x" * 252, trsvcid="8009", subtype="referral")
    not_nqn = dlpe("192.0.2.67", "iqn.2024-01.not-nvme", trsvcid="4420")
    s = Setup(t, ents=[hostile, not_nqn] + entries(1), extra_sc=[dc("192.0.2.66", entries(1))], published=1)
    t.eq([p.get("traddr") for p in s.dc_pages()], [IOS[0]], "stafd publishes only the plausible entry")
    s.wait_iocs((0,))
    t.eq(t.w.fk.connects(traddr="192.0.2.66"), [], "the hostile referral is never connected")
    t.eq(t.w.fk.connects(traddr="192.0.2.67"), [], "the entry without an NQN is never connected")
    t.eq(len(s.stacd.list_controllers()), 1, "stacd lists the valid IOC only")


def test_stop_waits_for_pending_disconnect(t):
    """An IOC dropped from the configuration while its connect is still in flight, then SIGTERM:
    stacd waits for the connect, disconnects it, and only then exits (not abandoning it)."""
    w = t.w
    slow = "192.0.2.150"
    w.fk.set_scenario({"controllers": [{"transport": "tcp", "traddr": slow, "trsvcid": "4420",
                                        "subsysnqn": NQNS[0], "connect_delay_ms": 4000}]})
    d = w.stacd(stacd_conf([ioc_cfg(slow, NQNS[0])]))
    # the kernel has the controller, the connect write has not returned yet
    t.wait(lambda: w.fk.find(traddr=slow), "the slow IOC exists in the kernel (connect in flight)")
    d.reload(stacd_conf([]))
    t.wait(lambda: not d.find_controller(traddr=slow), "stacd no longer wants the IOC (disconnect pending)")
    rc = d.stop()
    t.eq(rc, 0, "stacd exits with status 0")
    t.eq(d.log_count(r"Waiting up to 10 s for 1 pending disconnect"), 1, "stacd says it waits")
    t.eq(w.fk.find(traddr=slow), [], "the unwanted IOC was disconnected before stacd exited")
    t.check_logs(d)


def test_read_only_calls_never_read_sysfs(t):
    """list_controllers (both forms), controller_info and process_info are answered from memory:
    the fake kernel logs every sysfs path stacd touches, and sees none while a client calls them
    again and again. The detailed entries still show the sysfs attributes (read at connect)."""
    s = Setup(t, start_stacd=False)
    d = s.stacd
    d.trace_sysfs = True
    d.start()
    devs = s.wait_iocs()
    t.wait(lambda: sorted(c.get("device") for c in d.list_controllers(True) if c.get("connected") == "True")
           == sorted(devs.values()), "stacd lists the 3 IOCs, connected")
    before = d.sysfs_reads()
    t.check(before, f"the fake kernel logs stacd's sysfs reads ({len(before)} so far)")
    for _ in range(10):
        det = d.list_controllers(True)
        d.list_controllers(False)
        for c in det:
            d.controller_info(c)
        d.process_info()
    new = d.sysfs_reads()[len(before):]
    t.check(not new, "no sysfs access during 10 rounds of list_controllers(true/false), controller_info x3, "
            f"process_info ({len(new)} seen: {new[:3]})")
    t.eq({c["device"]: (c.get("model"), c.get("serial"), c.get("cntrltype"), c.get("hostnqn")) for c in det},
         {dev: ("Fake NVMe Controller", "FAKE0001", "io", s.dc["host-nqn"]) for dev in devs.values()},
         "the detailed entries carry the sysfs attributes")


def test_detailed_entry_follows_the_kernel(t):
    """The detailed list_controllers entry, kept between calls, follows what happens: a change
    uevent re-reads the sysfs attributes, a removed device shows as not connected, the reconnect
    shows the new device."""
    s = Setup(t)
    d, w = s.stacd, t.w
    dev = s.wait_iocs((0,))[0]

    def entry():
        return next((c for c in d.list_controllers(True) if c["subsysnqn"] == NQNS[0]), {})

    t.wait(lambda: entry().get("device") == dev and entry().get("model") == "Fake NVMe Controller",
           "detailed entry of the IOC")
    with open(os.path.join(w.fk.root, "sys", "class", "nvme", dev, "model"), "w") as f:
        f.write("Renamed Model\n")
    t.eq(entry().get("model"), "Fake NVMe Controller", "the attributes are not re-read per call")
    w.fk.ctl("uevent", "change", dev, socket=d.socket)
    t.wait(lambda: entry().get("model") == "Renamed Model", "a change uevent refreshes them")
    w.fk.ctl("remove", dev, socket=d.socket)
    t.wait(lambda: entry().get("connected") == "False" and entry().get("device") == "nvme?"
           and entry().get("model") == "", "the removed device: not connected, no attributes")
    t.wait(lambda: entry().get("connected") == "True" and s.iocs(0) and entry().get("device") == s.iocs(0)[0],
           "reconnected: the new device, connected")
    t.eq(entry().get("model"), "Fake NVMe Controller", "the new device's attributes")


def test_config_key_bytes_escaped(t):
    """An unknown stacd.conf key holding an escape sequence and a byte that is not UTF-8 is
    warned about with both escaped: the log carries no raw control or invalid byte."""
    d = t.w.stacd(stacd_conf([]), start=False)
    with open(d.conf, "wb") as f:
        f.write(b"[Global]\ntron = true\nbad\x1b[2J\xffkey = 1\n")
    d.start()
    t.wait(lambda: d.log_lines(r"bad.*key"), "stacd warns about the unknown key")
    t.stop_clean(d)
    with open(d.logpath, "rb") as f:
        raw = f.read()
    t.check(b"\x1b" not in raw and b"\xff" not in raw, "no raw ESC or 0xff byte in the log")
    t.check(b"bad\\x1b[2j\\xffkey" in raw, "the key is logged escaped (bad\\x1b[2j\\xffkey)")


def test_state_file_fifo(t):
    state_file_fifo(t, t.w.stacd(stacd_conf([]), start=False))


def test_state_file_directory(t):
    state_file_directory(t, t.w.stacd(stacd_conf([]), start=False))


def test_state_writes_coalesced(t):
    """200 IOCs connecting do not write the state file once per connect (the old stacd wrote it
    201 times), but at most once per 100 ms (issue 9, failure 5), counted from outside with
    inotify. After a SIGKILL the file is valid and complete, and a restarted stacd takes all 200
    back without reconnecting."""
    w = t.w
    n = 200
    nqns = [f"nqn.2024-01.io.stas.test:many{i}" for i in range(n)]
    d = w.stacd(stacd_conf([ioc_cfg(IOS[0], q) for q in nqns]), start=False)
    lkc = os.path.join(d.runtime, "last-known-config.json")
    renames = H.RenameCounter(d.runtime, "last-known-config.json")

    def saved():
        try:
            with open(lkc) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        return doc if len(doc["data"]["iocs"]) == n else None
    try:
        t0 = time.monotonic()
        d.start()
        t.wait(lambda: len(w.fk.connects_done()) == n, f"all {n} IOCs are connected")
        t.wait(lambda: len(d.list_controllers()) == n and saved(), f"the state file lists all {n}")
        elapsed = time.monotonic() - t0
        writes = renames.count()
        # the rule, from before the start to the last write; the old stacd wrote once per connect
        # (201 times here in 13-17 s on a loaded 2-core machine, so this failed)
        bound = 2 + int(elapsed / 0.1)
        t.check(1 <= writes <= bound, f"{writes} writes: at most one per 100 ms over {elapsed:.2f} s ({bound})")
    finally:
        renames.close()

    d.stop(signal.SIGKILL)
    doc = saved()
    t.check(doc and doc.get("format") == "stas-last-known-config", "after SIGKILL the state file is valid and complete")
    d.start()
    t.wait(lambda: len(d.list_controllers()) == n, f"a restarted stacd tracks the {n} IOCs again")
    t.eq(d.process_info().get("last known config error"), "", "it loaded the file without complaint")
    t.eq(len(w.fk.connects()), n, "and reconnected none of them")


TESTS = [test_state_file_fifo, test_state_file_directory, test_config_key_bytes_escaped, test_read_only_calls_never_read_sysfs, test_detailed_entry_follows_the_kernel,
         test_stop_waits_for_pending_disconnect, test_hostile_entry_does_not_blind_stacd, test_secrets_ioc, test_host_name_traddr, test_three_iocs_host_iface, test_removed_only_stas_connections, test_removed_no_disconnect,
         test_removed_trtype_not_listed, test_removed_trtype_listed, test_stafd_killed_no_disconnect,
         test_ncc_connect_attempts, test_audit_foreign_connections, test_stacd_restart_no_reconnect,
         test_state_writes_coalesced]

if __name__ == "__main__":
    H.main(TESTS)
