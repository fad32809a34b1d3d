#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of the avahi-daemon stand-in (tests/integration/fake-avahi.c, harness FakeAvahi).

It proves the stand-in speaks avahi-daemon's D-Bus protocol well enough for the real avahi-client
0.8 inside stafd: a published service is browsed, resolved, probed and connected as a discovered
DC; a withdraw reaches stafd (the DC is marked lost once its connection goes) and a republish
restores it; a flap, a restart of the stand-in, an update of a service and a browser failure
reach stafd; stafd may start before it; only the owner may free an object. It also checks the
protocol itself with busctl (signals go to the caller only, TXT order, Failure for an unknown
service, objects freed with their client) and that hang() makes it answer nothing. These are
tests of the stand-in, not of stafd's zeroconf fixes.
Run one test: python3 test_avahi.py <substring of the test name> (with the meson env)."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

LO = socket.if_nametoindex("lo")
ADDR = "127.0.0.1"
KEY = "(lo, IPv4, SFSS.local, _nvme-disc._tcp)"  # process_info's avahi "services" key of SFSS
BROWSER = "org.freedesktop.Avahi.ServiceBrowser"
RESOLVER = "org.freedesktop.Avahi.ServiceResolver"


def zc_conf():
    return H.stafd_conf(zeroconf=True)


def mdns_dc(d, port):
    return d.find_controller(transport="tcp", traddr=ADDR, trsvcid=str(port))


def services(d):
    return d.process_info().get("avahi", {}).get("services", {})


def reachable(d):
    return services(d).get(KEY, {}).get("reachable") == "True"


def browsers(av, pid):
    return sorted(o["what"] for o in av.objects(pid=pid) if o["interface"] == BROWSER)


def connected_dc(t, d, port):
    """Wait until stafd lists the DC of the published SFSS and the kernel holds its connection."""
    dc = t.wait(lambda: mdns_dc(d, port), f"stafd lists the published DC {ADDR}:{port}")
    devs = t.wait(lambda: t.w.fk.find(traddr=ADDR, trsvcid=str(port)), "the fake kernel holds its connection")
    return dc, devs[0]


def test_publish_withdraw_republish(t):
    w = t.w
    av = w.avahi()
    port = w.tcp_listener()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    t.wait(lambda: browsers(av, pid) == [H.NVME_DISC_TCP, H.NVME_DISC_UDP],
           "stafd's avahi-client browses both nvme-disc types on the stand-in")
    av.publish(port=port)
    dc, dev = connected_dc(t, d, port)
    t.eq((dc.get("host-iface"), dc.get("subsysnqn")), ("lo", H.WKNQN),
         "the DC is on lo (the published ifindex) with the well-known NQN (no nqn= in TXT)")
    t.eq(d.controller_info(dc).get("origin"), "discovered", "its origin is 'discovered'")
    t.check(reachable(d), "process_info's avahi member shows the service, reachable")
    t.check(w.fk.connects(traddr=ADDR, trsvcid=str(port), host_iface="lo"), "connected with host_iface=lo")
    t.eq(len(av.calls("ServiceResolverNew", pid=pid)), 1, "stafd resolved the service once")
    t.eq(d.controller_info(dc).get("unresponsive time"), "---", "a connected DC is not lost")

    av.withdraw()
    t.wait(lambda: KEY not in services(d), "a withdraw reaches stafd: the service leaves process_info")
    w.fk.set_scenario({"controllers": [{"transport": "tcp", "traddr": ADDR, "trsvcid": str(port),
                                        "connect_error": "ECONNREFUSED"}]})
    w.fk.ctl("remove", dev, socket=d.socket)
    t.wait(lambda: d.controller_info(dc).get("unresponsive time", "---") != "---",
           "with its connection gone, stafd marks the withdrawn DC lost (§5.4)")
    t.eq(d.log_count(r"is not responding\. Will be removed"), 1, "and logs it once")

    w.fk.set_scenario({"controllers": []})
    av.publish(port=port)
    t.wait(lambda: d.controller_info(dc).get("unresponsive time") == "---",
           "a republish restores it: no longer lost")
    t.wait(lambda: w.fk.find(traddr=ADDR, trsvcid=str(port)), "and it is connected again")
    t.eq(len(av.calls("ServiceResolverNew", pid=pid)), 2, "stafd resolved the republished service")

    t.stop_clean(d)
    t.wait(lambda: av.objects(pid=pid) == [], "stafd's browsers and resolvers are gone once it stops")


def test_stafd_starts_first(t):
    """avahi-client (AVAHI_CLIENT_NO_FAIL) waits for org.freedesktop.Avahi to appear."""
    w = t.w
    port = w.tcp_listener()
    d = w.stafd(zc_conf())
    t.wait(lambda: d.log_count(r"avahi-daemon not available") == 1, "stafd starts without avahi-daemon")
    av = w.avahi()
    av.publish(port=port)
    t.wait(lambda: d.log_count(r"avahi-daemon service available") == 1,
           "stafd's avahi-client connects once the stand-in owns the name")
    connected_dc(t, d, port)
    t.eq(browsers(av, d.proc.pid), [H.NVME_DISC_TCP, H.NVME_DISC_UDP], "stafd browses on the late stand-in")


def test_flap(t):
    w = t.w
    av = w.avahi()
    port = w.tcp_listener()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    av.publish(port=port)
    connected_dc(t, d, port)
    t.wait(lambda: reachable(d), "the service is reachable")

    av.flap()
    t.wait(lambda: len(av.calls("ServiceResolverNew", pid=pid)) == 2,
           "after a flap stafd resolves the service again (it saw ItemRemove, then ItemNew)")
    t.check([c for c in av.calls("Free", pid=pid) if "/ServiceResolver" in c["path"]],
            "stafd freed the resolver of the withdrawn service")
    t.wait(lambda: reachable(d), "the service is reachable again")

    av.flap(gap_ms=500)
    t.wait(lambda: len(av.calls("ServiceResolverNew", pid=pid)) == 3,
           "a flap with a gap publishes the services again when the gap ends")
    t.wait(lambda: reachable(d), "the service is reachable after the gap")
    t.check(mdns_dc(d, port), "stafd still lists the DC")


def test_restart(t):
    """An avahi-daemon restart: avahi-client sees the name's owner go and a new one come."""
    w = t.w
    av = w.avahi()
    port = w.tcp_listener()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    av.publish(port=port)
    connected_dc(t, d, port)

    av.restart()
    t.wait(lambda: d.log_count(r"avahi-daemon not available") == 1, "stafd notices the stand-in going")
    t.wait(lambda: browsers(av, pid) == [H.NVME_DISC_TCP, H.NVME_DISC_UDP],
           "stafd browses again on the restarted stand-in")
    t.wait(lambda: len(av.calls("ServiceResolverNew", pid=pid)) == 1, "and resolves the republished service")
    t.wait(lambda: reachable(d), "which is reachable")
    t.eq(d.log_count(r"avahi-daemon service available"), 2, "stafd logged avahi available twice")


def test_browser_failure(t):
    w = t.w
    av = w.avahi()
    d = w.stafd(zc_conf())
    t.wait(lambda: len(browsers(av, d.proc.pid)) == 2, "stafd browses")
    av.browser_failure("org.freedesktop.Avahi.NoNetworkError")
    t.wait(lambda: d.log_count(r"zeroconf: browsing _nvme-disc\._(tcp|udp) failed: .*[Nn]etwork") == 2,
           "each browser's Failure signal reaches stafd with its error")


def test_update(t):
    """A Publish of a published service's key is an update: its resolvers hear Found again."""
    w = t.w
    av = w.avahi()
    port, port2 = w.tcp_listener(), w.tcp_listener()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    av.publish(port=port)
    connected_dc(t, d, port)
    av.publish(port=port2)
    t.wait(lambda: services(d).get(KEY, {}).get("trsvcid") == str(port2),
           "stafd's resolver hears the new port (the service record changes in process_info)")
    connected_dc(t, d, port2)
    t.eq(len(av.calls("ServiceResolverNew", pid=pid)), 1, "through the same resolver: no ItemNew again")


def test_only_owner_frees(t):
    w = t.w
    av = w.avahi()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    objs = t.wait(lambda: len(av.objects(pid=pid)) == 2 and av.objects(pid=pid), "stafd browses")
    try:
        w.bus.busctl("call", H.AVAHI[0], objs[0]["path"], BROWSER, "Free")
        t.check(False, "another client cannot Free stafd's browser")
    except H.BusError as e:
        t.check("denied" in str(e).lower() or "not the owner" in str(e).lower(),
                f"another client cannot Free stafd's browser ({e})")
    t.eq(len(av.objects(pid=pid)), 2, "the browser is still there")


def test_protocol(t):
    """The wire protocol, seen with busctl: what avahi-daemon sends, to whom, in which order."""
    w = t.w
    av = w.avahi()
    av.publish(name="A", port=4420, txt=["p=tcp", "nqn=nqn.2024-01.io.x:dc", b"\x01raw"])
    av.publish(name="B", port=4421, protocol=1, address="::1", stype=H.NVME_DISC_UDP)
    mon = w.bus.monitor(f"type='signal',interface='{RESOLVER}'")
    bmon = w.bus.monitor(f"type='signal',interface='{BROWSER}'")

    def server(member, sig="", *args):
        a = ["--", "call", H.AVAHI[0], H.AVAHI[1], H.AVAHI[2], member]
        return w.bus.busctl(*(a + ([sig] + [str(x) for x in args] if sig else [])))["data"]

    t.eq(server("GetAPIVersion"), [0x0204], "GetAPIVersion is avahi 0.8's 0x0204")
    t.eq(server("GetVersionString"), ["avahi 0.8"], "GetVersionString")
    t.eq(server("GetState"), [2], "GetState: running")
    t.eq((server("GetHostName"), server("GetHostNameFqdn"), server("GetDomainName")),
         (["stas-fake"], ["stas-fake.local"], ["local"]), "host and domain names")

    path = server("ServiceResolverNew", "iisssiu", LO, 0, "A", H.NVME_DISC_TCP, "local", -1, 0)[0]
    t.check(path.startswith("/Client") and "/ServiceResolver" in path, f"a resolver path ({path})")
    found = t.wait(lambda: [m for m in mon.messages() if m.get("member") == "Found"], "Found is sent")
    caller = av.calls("ServiceResolverNew")[-1]["sender"]
    t.eq(found[0].get("destination"), caller, "only to the client that made the resolver")
    txt = [bytes(x) for x in found[0]["payload"]["data"][9]]
    t.eq(found[0]["payload"]["data"][:9] + [txt, found[0]["payload"]["data"][10]],
         [LO, 0, "A", H.NVME_DISC_TCP, "local", "a.local", 0, ADDR, 4420,
          [b"\x01raw", b"nqn=nqn.2024-01.io.x:dc", b"p=tcp"], 4],
         "Found carries the service, its address (protocol 0), port and TXT last string first")
    server("ServiceResolverNew", "iisssiu", -1, -1, "nosuch", H.NVME_DISC_TCP, "", -1, 0)
    t.wait(lambda: ["org.freedesktop.Avahi.TimeoutError"] in mon.signals("Failure"),
           "a resolver of an unpublished service gets Failure(TimeoutError)")
    server("ServiceResolverNew", "iisssiu", LO, 1, "B", H.NVME_DISC_UDP, "local", -1, 0)
    t.wait(lambda: [s for s in mon.signals("Found") if s[2] == "B" and s[6:9] == [1, "::1", 4421]],
           "an IPv6 service resolves with address protocol 1")

    server("ServiceBrowserNew", "iissu", -1, -1, H.NVME_DISC_TCP, "", 0)

    def browser_signals():
        return [m for m in bmon.messages() if m.get("interface") == BROWSER]
    seq = t.wait(lambda: any(m["member"] == "AllForNow" for m in browser_signals()) and browser_signals(),
                 "a new browser reports what it has, ending with AllForNow")
    t.eq([(m["member"], m.get("payload", {}).get("data")) for m in seq],
         [("ItemNew", [LO, 0, "A", H.NVME_DISC_TCP, "local", 4]), ("CacheExhausted", []), ("AllForNow", [])],
         "ItemNew for the matching service only (type, and domain '' as local), then CacheExhausted "
         "and AllForNow")
    t.wait(lambda: av.objects() == [], "objects of a client that left the bus are freed")

    for what, call in (
            ("a bad protocol", lambda: server("ServiceBrowserNew", "iissu", -1, 7, H.NVME_DISC_TCP, "", 0)),
            ("an empty type", lambda: server("ServiceBrowserNew", "iissu", -1, -1, "", "", 0)),
            ("an address that is not an IP literal", lambda: av.publish(name="C", address="host.local")),
            ("a withdraw of an unknown service", lambda: av.withdraw(name="nosuch"))):
        try:
            call()
            t.check(False, f"{what} is refused")
        except H.BusError as e:
            t.check(True, f"{what} is refused ({e})")


def test_hang(t):
    w = t.w
    av = w.avahi()
    version = ["--timeout=2", "call", H.AVAHI[0], H.AVAHI[1], H.AVAHI[2], "GetVersionString"]
    ping = ["--timeout=2", "call", H.AVAHI[0], "/", "org.freedesktop.DBus.Peer", "Ping"]
    t.eq(w.bus.busctl(*version)["data"], ["avahi 0.8"], "the stand-in answers before hang()")

    av.hang()
    for what, cmd in (("GetVersionString", version), ("Peer.Ping", ping)):
        try:
            w.bus.busctl(*cmd)
            t.check(False, f"after hang() {what} gets no reply")
        except H.BusError as e:
            t.check("timed out" in str(e), f"after hang() {what} gets no reply ({e})")
    t.eq(av.objects(), [], "the control interface still answers")
    t.eq([c["member"] for c in av.calls(swallowed=True)], ["GetVersionString", "Ping"],
         "the call log marks both calls swallowed")
    av.resume()
    t.eq(w.bus.busctl(*version)["data"], ["avahi 0.8"], "resume() answers again")

    av.restart(hang=True)
    try:
        w.bus.busctl(*version)
        t.check(False, "started with --hang, it answers nothing")
    except H.BusError as e:
        t.check("timed out" in str(e), f"started with --hang, it answers nothing ({e})")


def test_hang_swallows_stafd_calls(t):
    """What issue 9's 'avahi blocks the loop' test needs: stafd issues a call that never returns."""
    w = t.w
    av = w.avahi()
    port = w.tcp_listener()
    d = w.stafd(zc_conf())
    pid = d.proc.pid
    t.wait(lambda: len(browsers(av, pid)) == 2, "stafd browses")
    av.hang()
    av.publish(port=port)
    t.wait(lambda: av.calls("ServiceResolverNew", pid=pid, swallowed=True),
           "the ItemNew of a publish makes stafd call ServiceResolverNew, which gets no reply")
    av.resume()  # stafd's call stays unanswered (avahi-client gives up after 25 s); later ones work


TESTS = [test_publish_withdraw_republish, test_stafd_starts_first, test_flap, test_restart,
         test_browser_failure, test_update, test_only_owner_frees, test_protocol, test_hang,
         test_hang_swallows_stafd_calls]

if __name__ == "__main__":
    H.main(TESTS)
