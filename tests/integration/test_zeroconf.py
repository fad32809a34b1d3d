#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stafd's zeroconf DCs against the avahi-daemon stand-in (fake-avahi), with stacd behind them.
Issue "Never block, never drop": a DC kept for any reason keeps its referrals (failure 1); a
service on an interface that cannot be named is skipped with a warning, never connected with the
interface number as host-iface (failure 10); a hung avahi-daemon does not freeze stafd's loop
(failure 2: avahi-client runs on its own thread).
Run one test: python3 test_zeroconf.py <substring of the test name> (with the meson env)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import dc, dlpe, referral, stacd_conf  # noqa: E402

MDNS = "127.0.0.1"
B = "192.0.2.20"  # the referral DC
IOS = ["192.0.2.101", "192.0.2.102"]
NQNS = [f"nqn.2024-01.io.stas.test:sub{i + 1}" for i in range(2)]
FENCE = ("192.0.2.103", "nqn.2024-01.io.stas.test:fence")
STAF_SIGNALS = "type='signal',interface='org.nvmexpress.staf'"


class Fabric:
    """An mDNS-announced DC (a real TCP listener on 127.0.0.1 for stafd's probe) whose log refers
    to DC B, whose log lists two IOCs; stafd with zeroconf and stacd."""

    def __init__(self, t):
        self.t, self.w = t, t.w
        self.av = self.w.avahi()
        self.port = self.w.tcp_listener()
        self.ents_b = [dlpe(IOS[i], NQNS[i], portid=i + 1) for i in range(2)]
        self.set_scenario(self.ents_b)
        self.mon = self.w.bus.monitor(STAF_SIGNALS)
        self.d = self.w.stafd(H.stafd_conf(zeroconf=True))
        self.av.publish(port=self.port)
        self.s = self.w.stacd(stacd_conf([]))
        self.devs = self.wait_all("the mDNS DC, the referral DC and both IOCs are connected")

    def set_scenario(self, ents_b):
        self.w.fk.set_scenario({"controllers": [
            dc(MDNS, [referral(B)], trsvcid=str(self.port)),
            dc(B, ents_b),
        ]})

    def kernel(self):
        """{name: [devices]} of the four controllers."""
        f = self.w.fk.find
        return {"mdns": f(traddr=MDNS, trsvcid=str(self.port)), "B": f(traddr=B, trsvcid="8009"),
                "io1": f(traddr=IOS[0], subsysnqn=NQNS[0]), "io2": f(traddr=IOS[1], subsysnqn=NQNS[1])}

    def wait_all(self, what):
        return self.t.wait(lambda: (lambda k: k if all(len(v) == 1 for v in k.values()) else None)(self.kernel()),
                           what)

    def fence(self, what):
        """A change of B's log page (one more IOC): once stacd connects it, every signal and
        reconcile caused by what came before has run."""
        self.set_scenario(self.ents_b + [dlpe(*FENCE, portid=3)])
        b = self.kernel()["B"]
        self.t.check(b, f"{what}: the referral DC is still connected", fatal=True)
        self.w.fk.ctl("aen", b[0], socket=self.d.socket)
        self.t.wait(lambda: self.w.fk.find(traddr=FENCE[0], subsysnqn=FENCE[1]), f"fence after {what}: IOC connected")
        self.set_scenario(self.ents_b)

    def check_nothing_dropped(self, what):
        t = self.t
        t.eq(self.kernel(), self.devs, f"{what}: the same kernel controllers (none removed or replaced)")
        t.eq(len(self.mon.signals("dc_removed")), 0, f"{what}: no dc_removed signal")
        for i in range(2):
            t.eq(len(self.w.fk.connects(traddr=IOS[i], nqn=NQNS[i])), 1, f"{what}: {NQNS[i]} connected once")
        t.eq(len(self.w.fk.connects(traddr=B)), 1, f"{what}: the referral DC connected once")
        t.check(not any(self.w.fk.find(traddr=a) == [] for a in IOS), f"{what}: stacd kept both IOCs")


def test_referrals_survive_avahi_flap(t):
    f = Fabric(t)
    pid = f.d.proc.pid
    resolves = len(f.av.calls("ServiceResolverNew", pid=pid))
    f.av.flap(gap_ms=1500)
    t.wait(lambda: len(f.av.calls("ServiceResolverNew", pid=pid)) > resolves,
           "stafd saw the flap (it resolves the service again)")
    f.fence("the flap")
    f.check_nothing_dropped("avahi flap")
    t.stop_clean(f.s)
    t.stop_clean(f.d)


def test_referrals_survive_stafd_restart(t):
    """A restart while avahi does not (yet) list the mDNS DC: its restored referral is kept."""
    f = Fabric(t)
    f.d.stop()
    f.av.withdraw()
    f.d.start()
    t.wait(lambda: f.d.find_controller(traddr=B), "the restarted stafd lists the referral DC")
    f.fence("the restart")
    f.av.publish(port=f.port)
    f.fence("the announcement again")
    f.check_nothing_dropped("stafd restart")
    t.stop_clean(f.s)
    t.stop_clean(f.d)


def test_unnamed_interface_is_skipped(t):
    """avahi reports a service on an interface index the host cannot name (it went away, or a
    hostile avahi-daemon): stafd skips that service with one warning and connects nothing for
    it; a service on a real interface next to it is discovered as usual."""
    w = t.w
    av = w.avahi()
    bad_port, good_port = w.tcp_listener(), w.tcp_listener()
    w.fk.set_scenario({"controllers": [dc(MDNS, [], trsvcid=str(bad_port)), dc(MDNS, [], trsvcid=str(good_port))]})
    d = w.stafd(H.stafd_conf(zeroconf=True))
    bogus = 2147480000  # no interface has this index
    av.publish(name="BOGUS", port=bad_port, ifindex=bogus)
    warning = r"cannot name interface 2147480000"
    t.wait(lambda: d.log_count(warning) > 0, "stafd warns that it cannot name the interface")
    av.publish(name="GOOD", port=good_port)
    t.wait(lambda: w.fk.find(traddr=MDNS, trsvcid=str(good_port)), "the service on lo is connected")
    t.eq(d.log_count(warning), 1, "one warning for the unnamed interface")
    t.eq(w.fk.connects(trsvcid=str(bad_port)), [], "nothing is connected for the service on the unnamed interface")
    t.eq(d.find_controller(traddr=MDNS, trsvcid=str(bad_port)), None, "stafd lists no DC for it")
    t.check(not any(str(bogus) in k for k in d.process_info().get("avahi", {}).get("services", {})),
            "process_info's avahi services do not show it")
    t.eq([c.get("host_iface") for c in w.fk.connects(trsvcid=str(good_port))], ["lo"],
         "the service on lo is connected once, with host_iface=lo")
    t.stop_clean(d)


def test_hung_avahi_does_not_block_the_loop(t):
    """avahi-daemon stops answering method calls while stafd's avahi-client is in one (a new
    service makes it call ServiceResolverNew, which blocks for avahi's 25 s D-Bus timeout): stafd
    still answers on D-Bus, still re-reads a DC's log page on an AEN, reloads on SIGHUP, and stops
    cleanly (zc_free() leaves the stuck avahi thread behind after a bounded wait)."""
    w = t.w
    av = w.avahi()
    port, port2 = w.tcp_listener(), w.tcp_listener()
    w.fk.set_scenario({"controllers": [dc(MDNS, [], trsvcid=str(port))]})
    d = w.stafd(H.stafd_conf(zeroconf=True))
    pid = d.proc.pid
    av.publish(port=port)
    dev = t.wait(lambda: w.fk.find(traddr=MDNS, trsvcid=str(port)), "the mDNS DC is connected")[0]
    t.wait(lambda: w.fk.get_log_reads(dev), "and its log page read")

    args = ["--timeout=2", "call", d.svc[0], d.svc[1], d.svc[2], "list_controllers", "b", "false"]
    start = time.monotonic()
    w.bus.busctl(*args)
    t.note(f"list_controllers before the hang: {(time.monotonic() - start) * 1000:.1f} ms (busctl included)")

    av.hang()
    av.publish(name="SFSS2", port=port2)
    t.wait(lambda: av.calls("ServiceResolverNew", pid=pid, swallowed=True),
           "a new service makes stafd's avahi-client call ServiceResolverNew, which gets no reply")
    start = time.monotonic()
    try:
        ctrls = w.bus.busctl(*args)["data"][0]
    except H.BusError as e:
        ctrls = None
        t.check(False, f"stafd answers list_controllers within 2 s while avahi hangs ({e})")
    t.note(f"list_controllers while avahi hangs: {(time.monotonic() - start) * 1000:.1f} ms (busctl included)")
    t.check([c for c in ctrls if c.get("trsvcid") == str(port)],
            "stafd answers list_controllers within 2 s while avahi hangs, with the mDNS DC")

    reads = len(w.fk.get_log_reads(dev))
    w.fk.ctl("aen", dev, socket=d.socket)
    t.wait(lambda: len(w.fk.get_log_reads(dev)) > reads, "an AEN on the DC re-reads its log page", timeout=10)
    d.reload()  # SIGHUP: zc_kick() and the service types again, never an avahi call on the loop
    t.wait(lambda: d.log_count(r"Configuration reloaded") >= 1, "stafd reloads on SIGHUP", timeout=10)
    w.bus.busctl(*args)

    av.resume()  # the swallowed call stays unanswered: stafd's avahi thread is still stuck in it
    start = time.monotonic()
    t.stop_clean(d)
    t.note(f"stafd stopped in {time.monotonic() - start:.2f} s with its avahi thread stuck")
    t.eq(d.log_count(r"avahi thread did not stop within \d+ ms, leaving it behind"), 1,
         "it left the stuck avahi thread behind instead of waiting for it")


TESTS = [test_referrals_survive_avahi_flap, test_referrals_survive_stafd_restart, test_unnamed_interface_is_skipped,
         test_hung_avahi_does_not_block_the_loop]

if __name__ == "__main__":
    H.main(TESTS)
