#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stafd black-box tests: the real daemon on a private bus over the fake kernel.
Contract: upstream-nvme-stas.md §2.1, §4.2-4.3, §5.3, §5.5-5.7, §5.11-5.13; DESIGN.md 1, 2, 4, 5, 9.
Run one test: python3 test_stafd.py <substring of the test name> (with the meson env)."""

import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from state_file_checks import state_file_directory, state_file_fifo  # noqa: E402
from harness import dc, dlpe, entry, referral, stafd_conf  # noqa: E402


def typed_back(entries):
    """The typed JSON of stafctl (numbers as numbers) back in the wire's strings."""
    return [{k: str(v) for k, v in e.items()} for e in entries]


A, B, C, D = "192.0.2.10", "192.0.2.20", "192.0.2.30", "192.0.2.40"
IO1, IO2, IO3, IO4 = "192.0.2.101", "192.0.2.102", "192.0.2.103", "192.0.2.104"
NQN1, NQN2, NQN3, NQN4 = (f"nqn.2024-01.io.stas.test:sub{i}" for i in range(1, 5))
STAF_SIGNALS = "type='signal',interface='org.nvmexpress.staf'"


def cfg(traddr, **kw):
    return entry(transport="tcp", traddr=traddr, trsvcid="8009", **kw)


def dc_entry(d, traddr):
    """stafd's list_controllers() entry for the DC at traddr (or None)."""
    return d.find_controller(traddr=traddr)


def pages_of(d, traddr):
    """(discovery-controller dict, log pages) of traddr from get_all_log_pages(false), or None."""
    for e in d.get_all_log_pages(False):
        if e.get("discovery-controller", {}).get("traddr") == traddr:
            return e["discovery-controller"], e.get("log-pages", [])
    return None


def wait_pages(t, d, traddr, n, what=None):
    return t.wait(lambda: (lambda r: r if r and len(r[1]) == n else None)(pages_of(d, traddr)),
                  what or f"{n} log page entries of {traddr} published")


def by_nqn(pages):
    return sorted(pages, key=lambda p: (p.get("subnqn", ""), p.get("traddr", "")))


def changed_for(mon, traddr):
    return [s for s in mon.signals("log_pages_changed") if len(s) == 8 and s[1] == traddr]


def test_configured_dc_dlp(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1), dlpe(IO2, NQN2, eflags=4, portid=2)])]})
    mon = w.bus.monitor(STAF_SIGNALS)
    d = w.stafd(stafd_conf([cfg(A)]))
    ctrl, pages = wait_pages(t, d, A, 2)

    devs = w.fk.find(traddr=A, trsvcid="8009")
    t.eq(len(devs), 1, "one kernel connection to the configured DC")
    t.eq(w.fk.controllers()[devs[0]].get("cntrltype"), "discovery", "it is a discovery controller")
    opts = w.fk.connects(traddr=A)
    t.eq(opts[0].get("nqn"), H.WKNQN, "DC connected with the well-known discovery NQN")
    t.eq(opts[0].get("keep_alive_tmo"), "30", "DC kato defaults to 30 s (§3.3)")

    lc = dc_entry(d, A)
    t.check(lc is not None, "list_controllers(false) lists the DC")
    t.eq({k: lc.get(k) for k in ("transport", "trsvcid", "subsysnqn", "host-traddr", "host-iface", "device")},
         {"transport": "tcp", "trsvcid": "8009", "subsysnqn": H.WKNQN, "host-traddr": "", "host-iface": "",
          "device": devs[0]}, "list_controllers entry has the TID keys and the kernel device")
    t.check(lc.get("host-nqn", "").startswith("nqn."), f"the DC has a host NQN ({lc.get('host-nqn')})")
    t.eq(H.tid_args(ctrl), H.tid_args(lc), "get_all_log_pages names the DC by the same TID")

    want1 = {"trtype": "tcp", "adrfam": "ipv4", "traddr": IO1, "trsvcid": "4420", "subnqn": NQN1,
             "subtype": "nvme", "treq": "not specified", "portid": "1", "cntlid": "65535", "asqsz": "32",
             "eflags": "0"}
    got = by_nqn(pages)
    t.eq({k: got[0].get(k) for k in want1}, want1, "DLPE dict keys and stringified values (§4.2)")
    t.eq((got[1].get("traddr"), got[1].get("eflags"), got[1].get("portid")), (IO2, "4", "2"),
         "second DLPE (NCC eflags=4) published")

    t.eq(by_nqn(d.get_log_pages(lc)), got, "get_log_pages(TID) returns the same entries")
    other = dict(lc, traddr="192.0.2.250")
    t.eq(d.get_log_pages(other), [], "get_log_pages of an unknown DC is an empty list")

    detailed = d.get_all_log_pages(True)
    t.check(any(e.get("discovery-controller", {}).get("traddr") == A and len(e.get("log-pages", [])) == 2
                for e in detailed), "get_all_log_pages(true) has the DC and its entries")
    t.check(dc_entry(d, A) and len(d.list_controllers(True)) == 1, "list_controllers(true) answers")

    if os.environ.get("STAFCTL"):
        rc, out, err = w.cli("stafctl", "--json", "adlp")
        t.eq(rc, 0, f"stafctl --json adlp exits 0 {err.strip()}")
        adlp = json.loads(out)["discovery_controllers"]
        t.eq([by_nqn(typed_back(e["log_pages"])) for e in adlp if e["controller"].get("traddr") == A], [got],
             "stafctl --json adlp shows the same log pages (typed)")

    sigs = t.wait(lambda: changed_for(mon, A), "log_pages_changed emitted for the DC")
    t.eq(sigs[0], H.tid_args(lc) + [devs[0]], "log_pages_changed carries the TID and the device")
    t.eq(w.fk.dim_log(), [], "no DIM sent to a DC whose dctype is unknown (§5.5)")

    rule = os.path.join(d.rules, "70-nvmf-autoconnect.rules")
    t.check(os.path.exists(rule), "udev rule masking nvme-cli's autoconnect installed while running (§5.11)")
    t.stop_clean(d)
    t.check(not os.path.exists(rule), "udev rule removed at exit")
    t.eq(w.fk.find(traddr=A), devs, "persistent-connections (default true) keeps the DC connected at exit")


def test_operator_state_keys(t):
    """Issue 11: state, counters and the last error of each DC in list_controllers and controller_info."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)]),
                                       {"transport": "tcp", "traddr": B, "trsvcid": "8009",
                                        "connect_error": "ECONNREFUSED"}]})
    d = w.stafd(stafd_conf([cfg(A), cfg(B)]))
    wait_pages(t, d, A, 1)
    t.wait(lambda: (dc_entry(d, B) or {}).get("state") == "retrying", "the refused DC is shown retrying")
    t.eq(dc_entry(d, A).get("state"), "live", "the connected DC's short entry has the kernel state")
    full = {c["traddr"]: c for c in d.list_controllers(True)}
    a, b = full[A], full[B]
    t.eq((a["state"], a["state reason"], a["retry in"], a["last error"]), ("live", "", "", ""),
         "connected DC: live, no reason, no retry, no error")
    t.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["connected since"]),
            f"connected since is RFC 3339 UTC ({a['connected since']})")
    t.eq((a["connect attempts total"], a["connect failures total"]), ("1", "0"), "connected DC counters")
    t.eq((b["state reason"], b["last error name"], b["connected since"]), ("ECONNREFUSED", "ECONNREFUSED", ""),
         "refused DC: the reason and the error name")
    t.check(int(b["retry in"]) >= 1 and int(b["connect failures total"]) >= 1
            and int(b["connect attempts total"]) >= int(b["connect failures total"]),
            f"refused DC: retry in {b['retry in']}, totals {b['connect attempts total']}/{b['connect failures total']}")
    t.check(b["last error"] != "" and b["last error time"].endswith("Z"), "refused DC: last error text and time")
    t.eq((a["log page entries"], a["aen count"], b["log page entries"], b["log page read time"], b["dim state"]),
         ("1", "0", "", "", ""), "log page entries and AEN count of the DC read, nothing for the refused one")
    t.check(a["log page genctr"].isdigit() and a["log page read time"].endswith("Z"),
            f"log page genctr {a['log page genctr']} and read time {a['log page read time']}")
    t.eq(a["dim state"], "not supported", "DIM state of a DC whose dctype is unknown")
    fams = {f["name"]: f for f in d.process_info()["metrics"]}
    t.eq(fams["stas_controllers"]["type"], "gauge", "process_info metrics: stas_controllers is a gauge")
    t.check(any(s["labels"] == {"state": "retrying", "transport": "tcp"} and s["value"] == 1
                for s in fams["stas_controllers"]["samples"]), "one tcp controller retrying")
    t.check(any(s["labels"] == {"reason": "ECONNREFUSED"} and s["value"] >= 1
                for s in fams["stas_connect_failures_total"]["samples"]), "connect failures ECONNREFUSED counted")
    t.check(fams["stas_log_page_bytes_total"]["samples"][0]["value"] > 0, "log page bytes counted")
    info = d.controller_info(b)
    t.eq((info.get("state"), info.get("last error name")), ("retrying", "ECONNREFUSED"),
         "controller_info has the state keys too")
    t.stop_clean(d)


def test_supported_log_pages_rejected(t):
    """A DC that answers Supported Log Pages with an error status (as Linux nvmet does) still has
    its discovery log read, without PLEO, and is not retried forever."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)], pleo=True,
                                          status={"supported_log_pages": 0x2})]})
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 1, "log pages published although Supported Log Pages failed")
    cdw10 = [int(m.group(1), 16) for m in (re.search(r"opc=0x02 cdw10=(0x\w{6}70) ", x) for x in w.fk.admin_log())
             if m]
    t.check(cdw10, "the discovery log was read")
    t.check(all(((v >> 8) & 0x7f) == 0 for v in cdw10), "without the PLEO LSP bit")


def test_aen_changed_once(t):
    w = t.w
    e1, e2, e3, e4 = dlpe(IO1, NQN1), dlpe(IO2, NQN2), dlpe(IO3, NQN3), dlpe(IO4, NQN4)
    w.fk.set_scenario({"controllers": [dc(A, [e1, e2])]})
    mon = w.bus.monitor(STAF_SIGNALS)
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 2)
    dev = dc_entry(d, A)["device"]
    t.wait(lambda: len(changed_for(mon, A)) >= 1, "log_pages_changed for the first log page")

    w.fk.set_scenario({"controllers": [dc(A, [e1, e2, e3])]})
    w.fk.ctl("aen", dev, socket=d.socket)
    wait_pages(t, d, A, 3, "AEN 0x70f002: the new entry is published")
    t.eq(d.controller_info(dc_entry(d, A)).get("aen count"), "1", "the DC's aen count counts the AEN")
    t.eq(d.controller_info(dc_entry(d, A)).get("log page entries"), "3", "log page entries of the last read")
    t.wait(lambda: len(changed_for(mon, A)) >= 2, "log_pages_changed emitted for the change")

    # Same content again: the daemon re-reads (admin log) but must not signal (DESIGN 4).
    reads = len(w.fk.get_log_reads(dev))
    w.fk.ctl("aen", dev, socket=d.socket)
    t.wait(lambda: len(w.fk.get_log_reads(dev)) > reads, "an AEN with unchanged content re-reads the log page")

    # Fence: a further change; its signal is ordered after any signal of the unchanged re-read.
    w.fk.set_scenario({"controllers": [dc(A, [e1, e2, e3, e4])]})

    def fenced():
        if len(pages_of(d, A)[1]) == 4 and len(changed_for(mon, A)) >= 3:
            return True
        fenced.n += 1
        if fenced.n % 30 == 0:  # an AEN lost while a read was in flight is re-sent (not a timing check)
            w.fk.ctl("aen", dev, socket=d.socket)
        return False

    fenced.n = 0
    w.fk.ctl("aen", dev, socket=d.socket)
    t.wait(fenced, "fence change published and signalled")
    t.eq(len(changed_for(mon, A)), 3,
         "log_pages_changed emitted exactly once per change, never for an unchanged re-read")


def test_referral_added_removed(t):
    w = t.w
    base = dc(A, [dlpe(IO1, NQN1)])
    dcb = dc(B, [dlpe(IO2, NQN2)])
    w.fk.set_scenario({"controllers": [base, dcb]})
    mon = w.bus.monitor(STAF_SIGNALS)
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 1)
    a = dc_entry(d, A)
    t.eq(w.fk.find(traddr=B), [], "referred DC not connected before the referral exists")

    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1), referral(B)]), dcb]})
    w.fk.ctl("aen", a["device"], socket=d.socket)
    t.wait(lambda: w.fk.find(traddr=B, trsvcid="8009"), "referral added: the referred DC is connected")
    wait_pages(t, d, B, 1, "the referred DC's log page is published")
    b = dc_entry(d, B)
    t.eq((b["subsysnqn"], b["host-nqn"], b["host-iface"], b["host-traddr"]),
         (H.WKNQN, a["host-nqn"], a["host-iface"], a["host-traddr"]),
         "the referral inherits the referring DC's host identity (§5.3)")

    w.fk.set_scenario({"controllers": [base, dcb]})
    w.fk.ctl("aen", a["device"], socket=d.socket)
    t.wait(lambda: dc_entry(d, B) is None, "referral removed: the referred DC is dropped from stafd")
    t.wait(lambda: not w.fk.find(traddr=B), "the referred DC is disconnected (despite persistent-connections)")
    t.wait(lambda: mon.signals("dc_removed"), "dc_removed emitted")
    t.check(w.fk.find(traddr=A) and d.alive(), "the referring DC stays connected")


def test_exclusion(t):
    w = t.w
    w.fk.set_scenario({"controllers": [
        dc(A, [dlpe(IO1, NQN1), referral(B), referral(D)]), dc(B, [dlpe(IO2, NQN2)]),
        dc(C, [dlpe(IO3, NQN3)]), dc(D, [dlpe(IO4, NQN4)])]})
    d = w.stafd(stafd_conf([cfg(A), cfg(C)],
                           excludes=[entry(transport="tcp", traddr=B), entry(traddr=C)]))
    wait_pages(t, d, A, 3)
    # Fence: D is referred by the same log page as B; once D's log page is in, B was decided.
    wait_pages(t, d, D, 1, "the non-excluded referral is connected and read")
    t.eq(w.fk.connects(traddr=B), [], "an excluded referral is never connected")
    t.eq(w.fk.connects(traddr=C), [], "an excluded configured DC is never connected")
    t.eq(sorted(c["traddr"] for c in d.list_controllers()), [A, D], "stafd tracks only non-excluded DCs")


def test_remove_event_reconnect(t):
    w = t.w
    good = {"controllers": [dc(A, [dlpe(IO1, NQN1), dlpe(IO2, NQN2)])]}
    w.fk.set_scenario(good)
    d = w.stafd(stafd_conf([cfg(A)]))
    _, pages = wait_pages(t, d, A, 2)
    a = dc_entry(d, A)
    n0 = len(w.fk.connects(traddr=A))

    w.fk.set_scenario({"controllers": [dc(A, [], connect_error="ECONNREFUSED")]})
    w.fk.ctl("remove", a["device"], socket=d.socket)
    t.wait(lambda: len(w.fk.connects(traddr=A)) > n0, "after a remove uevent stafd tries to reconnect (§5.6)")
    t.eq(by_nqn(d.get_log_pages(a)), by_nqn(pages), "the cached log pages are still served meanwhile")
    t.check(dc_entry(d, A) is not None, "the DC object is kept while it reconnects")

    w.fk.set_scenario(good)
    t.wait(lambda: w.fk.find(traddr=A), "the DC is reconnected once reachable again", timeout=150)
    t.wait(lambda: dc_entry(d, A) and dc_entry(d, A)["device"] == w.fk.find(traddr=A)[0],
           "list_controllers shows the new device")
    t.eq(by_nqn(d.get_log_pages(a)), by_nqn(pages), "log pages still served after the reconnect")


def test_dim_register_deregister(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)], dctype="cdc"), dc(B, [dlpe(IO2, NQN2)])]})
    d = w.stafd(stafd_conf([cfg(A), cfg(B)]))
    wait_pages(t, d, A, 1)
    wait_pages(t, d, B, 1)
    a, b = dc_entry(d, A), dc_entry(d, B)
    regs = t.wait(lambda: [x for x in w.fk.dim_log() if x["device"] == a["device"] and x.get("tas") == "register"],
                  "TP8010 DIM register sent to the CDC on connect")
    t.eq(regs[0].get("nqn"), a["host-nqn"], "the registration carries the host NQN")
    t.eq([x for x in w.fk.dim_log() if x["device"] == b["device"]], [], "no DIM to a DC of unknown dctype")

    d.reload(stafd_conf([cfg(B)]))
    t.wait(lambda: [x for x in w.fk.dim_log() if x["device"] == a["device"] and x.get("tas") == "deregister"],
           "DIM deregister sent when the CDC is removed from the config + SIGHUP (DESIGN 5)")
    t.wait(lambda: not w.fk.find(traddr=A), "the removed CDC is disconnected")
    t.wait(lambda: dc_entry(d, A) is None, "and dropped from list_controllers")
    t.check(w.fk.find(traddr=B) and dc_entry(d, B), "the remaining DC is untouched")


def test_sighup_broken_config(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)]), dc(B, [dlpe(IO2, NQN2)]),
                                       dc(C, [dlpe(IO3, NQN3)])]})
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 1)
    dev = dc_entry(d, A)["device"]
    errs = d.log_count(r":\d+: syntax error")
    d.reload("controller = " + cfg(C) + "\n[Controllers]\n")
    t.wait(lambda: d.log_count(r":\d+: syntax error") > errs, "the broken config is reported with file:line")
    # Fence: a valid reload after the broken one; once B is in, the broken one was handled.
    d.reload(stafd_conf([cfg(A), cfg(B)]))
    wait_pages(t, d, B, 1, "a valid reload after the broken one is applied")
    t.check(d.alive(), "stafd survives a SIGHUP with a syntax error in its config")
    t.eq(w.fk.connects(traddr=C), [], "nothing from the broken config is applied")
    t.eq((w.fk.find(traddr=A), len(w.fk.connects(traddr=A))), ([dev], 1),
         "the running configuration is kept: the DC stays connected, no reconnect")

    errs = d.log_count(r":\d+: syntax error")
    d.reload("[Controllers]\ncontroller = " + cfg(C) + "\n=oops\n")
    t.wait(lambda: d.log_count(r":\d+: syntax error") > errs, "a second broken config is reported")
    t.check(d.alive(), "stafd survives it")
    d.reload(stafd_conf([cfg(A), cfg(B)], glob=[("tron", "false")]))
    t.wait(lambda: w.bus.get_property(H.STAF, "org.nvmexpress.staf.debug", "log_level") == "INFO",
           "the next valid reload is applied (tron=false -> log_level INFO)")
    t.eq(sorted(c["traddr"] for c in d.list_controllers()), [A, B], "the DC set is unchanged")
    t.eq(w.fk.connects(traddr=C), [], "C is never connected")


def test_restart_restores_cache(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1), dlpe(IO2, NQN2)])]})
    text = stafd_conf([cfg(A)], dccm=[("persistent-connections", "false")])
    d = w.stafd(text)
    _, pages = wait_pages(t, d, A, 2)
    a = dc_entry(d, A)
    t.stop_clean(d)
    t.eq(w.fk.find(traddr=A), [], "persistent-connections=false disconnects the DC at exit (§5.12)")
    lkc = os.listdir(d.runtime)
    t.check(lkc, f"last known config written in $RUNTIME_DIRECTORY ({lkc})")

    w.fk.set_scenario({"controllers": [dc(A, [], connect_error="ECONNREFUSED")]})
    n0 = len(w.fk.connects(traddr=A))
    d.start()
    t.eq(by_nqn(d.get_log_pages(a)), by_nqn(pages),
         "after a restart the cached log pages are served as soon as the bus name is up (§5.13)")
    t.wait(lambda: len(w.fk.connects(traddr=A)) > n0, "the unreachable DC is retried")
    t.eq(by_nqn(d.get_log_pages(a)), by_nqn(pages), "the cached pages survive the failed connect")
    ad = pages_of(d, A)
    t.check(ad and len(ad[1]) == 2, "get_all_log_pages also serves the cached pages")


def test_restart_adopts_connection(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)])]})
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 1)
    dev = dc_entry(d, A)["device"]
    t.stop_clean(d)
    t.eq(w.fk.find(traddr=A), [dev], "the DC connection is kept at exit")
    reads = len(w.fk.get_log_reads(dev))
    d.start()
    t.wait(lambda: len(w.fk.get_log_reads(dev)) > reads, "the restarted stafd reads the log page again")
    t.wait(lambda: (dc_entry(d, A) or {}).get("device") == dev, "it adopts the existing device")
    t.eq(len(w.fk.connects(traddr=A)), 1, "no second connect to the same DC (adopt before connect, §5.5)")


def test_secrets_not_on_dbus(t):
    w = t.w
    hkey, ckey = H.dhchap(48, 1), H.dhchap(32, 2)
    t.check(hkey.endswith("==:"), "test host secret has base64 '=' padding")
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)])]})
    mon = w.bus.monitor(STAF_SIGNALS)
    d = w.stafd(stafd_conf([cfg(A, dhchap_secret=hkey, dhchap_ctrl_secret=ckey)]))
    wait_pages(t, d, A, 1)
    # libnvme 1.3 sends DH-HMAC-CHAP secrets only for I/O controllers: the kernel side is checked
    # in test_stacd.py (test_secrets_ioc).
    a = dc_entry(d, A)
    t.eq((a.get("dhchap-secret"), a.get("dhchap-ctrl-secret")), ("(set)", "(set)"),
         "list_controllers shows secrets as (set) (DESIGN 2)")
    replies = {
        "list_controllers(false)": json.dumps(d.list_controllers(False)),
        "list_controllers(true)": json.dumps(d.list_controllers(True)),
        "get_all_log_pages(false)": json.dumps(d.get_all_log_pages(False)),
        "get_all_log_pages(true)": json.dumps(d.get_all_log_pages(True)),
        "controller_info": json.dumps(d.controller_info(a)),
        "process_info": json.dumps(d.process_info()),
        "signals": json.dumps(mon.messages()),
    }
    for what, text in replies.items():
        t.check(hkey not in text and ckey not in text and hkey[10:40] not in text,
                f"no secret in {what}", fatal=False)
    t.stop_clean(d)
    logs = "".join(x for _, x in d.logs())
    t.check(hkey[10:40] not in logs and ckey[10:40] not in logs, "no secret in stafd's log (tron on)")


def test_bad_dbus_args(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)])]})
    d = w.stafd(stafd_conf([cfg(A)]))
    wait_pages(t, d, A, 1)
    dbg = "org.nvmexpress.staf.debug"
    bad = [
        ("get_log_pages with one argument", lambda: d.call("get_log_pages", "s", "tcp")),
        ("get_log_pages with an int", lambda: d.call("get_log_pages", "sssssi", "a", "b", "c", "d", "e", 1)),
        ("list_controllers with a string", lambda: d.call("list_controllers", "s", "yes")),
        ("list_controllers without argument", lambda: d.call("list_controllers")),
        ("get_all_log_pages with a string", lambda: d.call("get_all_log_pages", "s", "true")),
        ("controller_info with three arguments", lambda: d.call("controller_info", "sss", "a", "b", "c", iface=dbg)),
        ("an unknown method", lambda: d.call("no_such_method")),
        ("setting tron to a string",
         lambda: w.bus.busctl("set-property", *H.STAF[:2], dbg, "tron", "s", "yes")),
        ("setting the read-only log_level",
         lambda: w.bus.busctl("set-property", *H.STAF[:2], dbg, "log_level", "s", "DEBUG")),
    ]
    for what, fn in bad:
        try:
            fn()
            t.check(False, f"{what}: D-Bus error expected", fatal=False)
        except H.BusError as e:
            t.check(True, f"{what}: D-Bus error ({str(e)[:60]})")
        t.check(d.alive(), f"stafd still running after {what}")

    huge = ["x" * 100000, "\t;=%s%n", "", "../../etc", "ü" * 300, "\\", "nqn."]
    t.eq(d.get_log_pages(dict(zip(H.TID_KEYS, huge))), [], "get_log_pages with hostile strings: empty list")
    t.eq(d.controller_info(dict(zip(H.TID_KEYS, huge))), {}, "controller_info of an unknown TID: {}")
    w.bus.busctl("set-property", *H.STAF[:2], dbg, "tron", "b", "false")
    t.eq(w.bus.get_property(H.STAF, dbg, "log_level"), "INFO", "tron=false gives log_level INFO (§4.3)")
    w.bus.busctl("set-property", *H.STAF[:2], dbg, "tron", "b", "true")
    t.eq(w.bus.get_property(H.STAF, dbg, "tron"), True, "tron reads back true")
    t.eq(w.bus.get_property(H.STAF, dbg, "log_level"), "DEBUG", "tron=true gives log_level DEBUG")
    t.check(dc_entry(d, A) and d.alive(), "stafd keeps serving after bad calls")
    if os.environ.get("STAFCTL") and os.geteuid() == 0:
        rc, out, err = w.cli("stafctl", "tron", unprivileged=True)
        t.eq(rc, 1, "stafctl tron as nobody exits 1")
        t.check("Permission denied" in err and "Is stafd running" not in err,
                f"stafctl tron as nobody says permission denied, not 'is stafd running' ({err.strip()})")
        rc, out, err = w.cli("stafctl", "--json", "ls", unprivileged=True)
        t.eq(rc, 0, f"stafctl ls works for nobody (read-only members are unprivileged) {err.strip()}")


def test_zeroconf_service_types_follow_config(t):
    """[Service Discovery] zeroconf= picks the browsed DNS-SD types, at start and on SIGHUP (§5.2).
    The browsing itself needs avahi-daemon: the vm suite covers it."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)])]})
    enabled = stafd_conf([cfg(A)]).replace("zeroconf = disabled", "zeroconf = enabled")
    d = w.stafd(enabled)
    wait_pages(t, d, A, 1)

    def stypes():
        return d.process_info().get("avahi", {}).get("service types")

    t.eq(sorted(stypes() or []), ["_nvme-disc._tcp", "_nvme-disc._udp"],
         "process_info's avahi member lists both nvme-disc types with zeroconf=enabled")
    d.reload(stafd_conf([cfg(A)]))
    t.wait(lambda: stypes() == [], "SIGHUP with zeroconf=disabled stops browsing")
    d.reload(enabled)
    t.wait(lambda: sorted(stypes() or []) == ["_nvme-disc._tcp", "_nvme-disc._udp"],
           "SIGHUP with zeroconf=enabled browses again")
    t.check(dc_entry(d, A) and d.alive(), "the configured DC is unaffected")


def test_host_name_traddr(t):
    """A configured DC whose traddr is a host name: resolved on a worker, first IPv4 (§5.1)."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc("127.0.0.1", [dlpe(IO1, NQN1)])]})
    d = w.stafd(stafd_conf([cfg("localhost")], glob=[("ip-family", "ipv4")]))
    wait_pages(t, d, "127.0.0.1", 1, "localhost is resolved to 127.0.0.1 and its log page read")
    t.eq(w.fk.connects(traddr="localhost"), [], "the host name itself never reaches the kernel")
    d.reload(stafd_conf([cfg("localhost")], excludes=["traddr=127.0.0.1"], glob=[("ip-family", "ipv4")]))
    t.wait(lambda: dc_entry(d, "127.0.0.1") is None, "an exclusion of the address applies after resolution")


def test_sighup_missing_conf_keeps_running(t):
    """A stafd.conf missing at SIGHUP keeps the running configuration (nothing is disconnected)."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)], dctype="cdc"), dc(B, [dlpe(IO2, NQN2)])]})
    d = w.stafd(stafd_conf([cfg(A)], dccm=[("persistent-connections", "false")]))
    wait_pages(t, d, A, 1)
    dev = dc_entry(d, A)["device"]
    os.unlink(d.conf)
    d.send_signal(signal.SIGHUP)
    t.wait(lambda: d.log_count(r"stafd\.conf is missing; keeping the running configuration") == 1,
           "a missing stafd.conf at SIGHUP is reported as a warning")
    d.reload(stafd_conf([cfg(A), cfg(B)], dccm=[("persistent-connections", "false")]))
    wait_pages(t, d, B, 1, "fence: the next reload with the file back is applied")
    t.eq(w.fk.find(traddr=A), [dev], "the configured DC stayed connected")
    t.eq([x for x in w.fk.dim_log() if x.get("tas") == "deregister"], [], "and was not deregistered")
    t.eq(len(w.fk.connects(traddr=A)), 1, "nor reconnected")

    d.reload(stafd_conf([cfg(B)], dccm=[("persistent-connections", "false")]))
    t.wait(lambda: not w.fk.find(traddr=A), "A removed from the config is disconnected")
    pi = d.process_info()
    t.check("terminator.audit timer" not in pi, "process_info has no made-up audit timer")
    t.eq(pi.get("terminator.disposing"), "0", "process_info counts the controllers being disposed")


def test_udev_rule_left_by_crash(t):
    """An override rule with the template's content (left by a crashed stafd) is taken over and
    removed at exit; a different file is left alone."""
    w = t.w
    tpl = os.environ.get("STAS_UDEV_RULE_TEMPLATE")
    t.check(tpl and os.path.exists(tpl), f"the rule template exists ({tpl})")
    with open(tpl) as f:
        content = f.read()
    d = w.stafd(stafd_conf([]), start=False)
    rule = os.path.join(d.rules, "70-nvmf-autoconnect.rules")
    with open(rule, "w") as f:
        f.write(content)
    d.start()
    t.stop_clean(d)
    t.check(not os.path.exists(rule), "a leftover rule equal to the template is removed at exit")
    with open(rule, "w") as f:
        f.write("# someone else's rule\n")
    d.start()
    t.wait(lambda: d.log_count(r"exists and differs from") == 1, "a different rule is reported")
    t.stop_clean(d)
    with open(rule) as f:
        t.eq(f.read(), "# someone else's rule\n", "and left alone")


def test_foreign_dc_nvme_cli_interop(t):
    """A change event (AEN 0x70f002, NVME_EVENT=rediscover) from a DC stafd does not manage
    restarts nvme-cli's nvmf-connect@ unit (§5.11), with no signal blocked in systemctl."""
    w = t.w
    rec = w.path("systemctl.log")
    script = w.path("systemctl.sh")
    with open(script, "w") as f:
        # python, not sh: dash clears the signal mask at start and would hide an inherited one
        f.write(f"#!{sys.executable}\nimport sys\n"
                "blk = [l for l in open('/proc/self/status') if l.startswith('SigBlk')][0]\n"
                f"with open({rec!r}, 'a') as f:\n"
                "    f.write('ARGS ' + ' '.join(sys.argv[1:]) + '\\n' + blk + 'END\\n')\n")
    os.chmod(script, 0o755)
    d = w.stafd(stafd_conf([cfg(A)]), start=False)
    base_env = d.env
    d.env = lambda: dict(base_env(), STAS_SYSTEMCTL=script)
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)])]})
    d.start()
    wait_pages(t, d, A, 1)
    reply = w.fk.ctl("connect", f"nqn={H.WKNQN},transport=tcp,traddr={C},trsvcid=8009,host_traddr=192.0.2.99")
    dev = "nvme" + re.search(r"instance=(\d+)", reply).group(1)

    def records():
        try:
            with open(rec) as f:
                return [b.strip().splitlines() for b in f.read().split("END") if b.strip()]
        except FileNotFoundError:
            return []
    unit = f"nvmf-connect@--device\\x3d{dev}\\x09--host-traddr\\x3d192.0.2.99.service"
    w.fk.ctl("aen", dev, socket=d.socket)
    r = t.wait(lambda: records() if len(records()) >= 1 else None, "AEN from a foreign DC runs systemctl")
    t.eq(r[0][0], f"ARGS --quiet --no-block restart {unit}", "systemctl restart of the escaped nvmf-connect@ unit")
    t.eq(r[0][1].split(), ["SigBlk:", "0000000000000000"], "systemctl runs with no blocked signal")
    w.fk.ctl("event", dev, "rediscover", socket=d.socket)
    r = t.wait(lambda: records() if len(records()) >= 2 else None, "NVME_EVENT=rediscover runs it too")
    t.eq(r[1][0], f"ARGS --quiet --no-block restart {unit}", "the same unit")
    own = dc_entry(d, A)["device"]
    w.fk.ctl("aen", own, socket=d.socket)
    # fence: one more foreign event; only it may add a record
    w.fk.ctl("aen", dev, socket=d.socket)
    t.wait(lambda: len(records()) >= 3, "fence event handled")
    t.eq(len(records()), 3, "an AEN of a DC stafd manages does not run systemctl")


def test_sd_notify(t):
    """READY=1 once the bus name is owned, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1."""
    import socket as so
    w = t.w
    path = w.path("notify.sock")
    sk = so.socket(so.AF_UNIX, so.SOCK_DGRAM)
    sk.bind(path)
    sk.settimeout(H.TIMEOUT)
    try:
        d = w.stafd(stafd_conf([]), start=False)
        base_env = d.env
        d.env = lambda: dict(base_env(), NOTIFY_SOCKET=path)
        d.start(wait=False)

        statuses = []

        def recv():
            """The next notification that changes the state; STATUS= alone (what the daemon does,
            ctrl_set_notify_status()) is collected in statuses."""
            while True:
                m = [x for x in sk.recv(4096).decode().split("\n") if x]
                if all(x.startswith("STATUS=") for x in m):
                    statuses.extend(m)
                    continue
                return m
        m = recv()
        t.check("READY=1" in m, f"first notification is READY=1 ({m})")
        t.check(w.bus.has_owner(H.STAF[0]), "sent after the bus name was acquired")
        d.send_signal(signal.SIGHUP)
        m1, m2 = recv(), recv()
        t.check("RELOADING=1" in m1, f"SIGHUP: RELOADING=1 first ({m1})")
        t.check("READY=1" in m2, f"then READY=1 ({m2})")
        t.check("STATUS=0 DCs connected" in statuses, f"STATUS= says what stafd does ({statuses})")
        d.send_signal(signal.SIGTERM)
        m = recv()
        t.check("STOPPING=1" in m, f"SIGTERM: STOPPING=1 ({m})")
        t.stop_clean(d)
    finally:
        sk.close()


def test_sighup_sys_conf(t):
    """SIGHUP re-reads sys.conf: a new symname sends DIM update to a CDC, a new host NQN reaches
    new connections."""
    w = t.w
    sysconf = w.path("sys.conf")
    nqn1 = "nqn.2014-08.org.nvmexpress:uuid:11111111-1111-1111-1111-111111111111"
    nqn2 = "nqn.2014-08.org.nvmexpress:uuid:22222222-2222-2222-2222-222222222222"
    hostid = "11111111-1111-1111-1111-111111111111"

    def write_sys(nqn, sym):
        with open(sysconf + ".new", "w") as f:
            f.write(f"[Host]\nnqn = {nqn}\nid = {hostid}\nsymname = {sym}\n")
        os.rename(sysconf + ".new", sysconf)
    write_sys(nqn1, "host-a")
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)], dctype="cdc"), dc(B, [dlpe(IO2, NQN2)])]})
    d = w.stafd(stafd_conf([cfg(A)]), start=False)
    base_env = d.env
    d.env = lambda: dict(base_env(), STAS_SYS_CONF=sysconf)
    d.start()
    wait_pages(t, d, A, 1)
    dev = dc_entry(d, A)["device"]
    reg = t.wait(lambda: [x for x in w.fk.dim_log() if x["device"] == dev and x.get("tas") == "register"],
                 "DIM register sent to the CDC")
    t.eq((reg[0].get("nqn"), reg[0].get("symname")), (nqn1, "host-a"), "with the host NQN and symname")
    t.eq(w.fk.connects(traddr=A)[0].get("hostnqn"), nqn1, "the DC is connected with sys.conf's host NQN")

    write_sys(nqn2, "host-b")
    d.reload(stafd_conf([cfg(A), cfg(B)]))
    upd = t.wait(lambda: [x for x in w.fk.dim_log() if x["device"] == dev and x.get("tas") == "update"],
                 "SIGHUP with a new symname sends DIM update to the CDC (DESIGN 5)")
    t.eq(upd[0].get("symname"), "host-b", "carrying the new symname")
    wait_pages(t, d, B, 1)
    t.eq(w.fk.connects(traddr=B)[0].get("hostnqn"), nqn2, "a new connection uses the new host NQN")


def test_read_only_calls_never_read_sysfs(t):
    """list_controllers, get_log_pages, get_all_log_pages, controller_info and process_info are
    answered from memory: the fake kernel logs every sysfs path stafd touches and sees none while
    a client calls them again and again; the detailed entry still shows the sysfs attributes."""
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1), dlpe(IO2, NQN2, portid=2)])]})
    d = w.stafd(stafd_conf([cfg(A)]), start=False)
    d.trace_sysfs = True
    d.start()
    wait_pages(t, d, A, 2)
    lc = t.wait(lambda: (lambda c: c if c and c.get("connected") == "True" else None)(
        next(iter(d.list_controllers(True)), None)), "the DC is listed, connected")
    before = d.sysfs_reads()
    t.check(before, f"the fake kernel logs stafd's sysfs reads ({len(before)} so far)")
    for _ in range(10):
        det = d.list_controllers(True)
        d.list_controllers(False)
        d.get_log_pages(lc)
        d.get_all_log_pages(True)
        d.get_all_log_pages(False)
        d.controller_info(lc)
        d.process_info()
    new = d.sysfs_reads()[len(before):]
    t.check(not new, "no sysfs access during 10 rounds of list_controllers(true/false), get_log_pages, "
            f"get_all_log_pages(true/false), controller_info, process_info ({len(new)} seen: {new[:3]})")
    t.eq((det[0].get("model"), det[0].get("serial"), det[0].get("cntrltype")),
         ("Fake NVMe Controller", "FAKE0001", "discovery"), "the detailed entry carries the sysfs attributes")


def lkc_path(d):
    return os.path.join(d.runtime, "last-known-config.json")


def test_state_file_cannot_forge_log_lines(t):
    """A restored field with a newline (a hostile or corrupt state file) is logged escaped: no
    forged journal line, in particular no "<1>" (alert) line; the escaped text is there."""
    w = t.w
    d = w.stafd(stafd_conf([]), start=False)
    tid = {"transport": "tcp", "traddr": "1.2.3.4\n<1>forged", "trsvcid": "8009", "subsysnqn": H.WKNQN,
           "host-traddr": "", "host-iface": "", "host-nqn": "nqn.2024-01.io.stas.test:host"}
    with open(lkc_path(d), "w") as f:
        json.dump({"format": "stas-last-known-config", "version": 1, "daemon": "stafd",
                   "data": {"dcs": [{"tid": tid, "origin": "configured", "log-pages": []}]}}, f)
    d.start()
    t.wait(lambda: d.log_lines(r"^<4>.*last-known-config\.json: skipped 1 discovery controller.*traddr"),
           "stafd skips the restored DC (its traddr is no address) and logs it")
    t.eq(d.list_controllers(), [], "stafd answers on D-Bus, with no DC")
    raw = "".join(text for _, text in d.logs())
    t.eq([l for l in raw.splitlines() if l.startswith("<1>") or l.startswith("forged")], [],
         "no log line starts with <1> or 'forged'")
    t.check("1.2.3.4\\n<1>forged" in raw, "the traddr is logged escaped: 1.2.3.4\\n<1>forged")


def test_state_file_fifo(t):
    state_file_fifo(t, t.w.stafd(stafd_conf([cfg(A)]), start=False))


def test_state_file_directory(t):
    state_file_directory(t, t.w.stafd(stafd_conf([cfg(A)]), start=False))


TESTS = [test_state_file_fifo, test_state_file_directory, test_state_file_cannot_forge_log_lines, test_read_only_calls_never_read_sysfs, test_configured_dc_dlp, test_operator_state_keys, test_supported_log_pages_rejected, test_aen_changed_once,
         test_referral_added_removed, test_exclusion,
         test_remove_event_reconnect, test_dim_register_deregister, test_sighup_broken_config,
         test_restart_restores_cache, test_restart_adopts_connection, test_secrets_not_on_dbus,
         test_bad_dbus_args, test_zeroconf_service_types_follow_config,
         test_host_name_traddr, test_sighup_missing_conf_keeps_running, test_udev_rule_left_by_crash,
         test_foreign_dc_nvme_cli_interop, test_sd_notify, test_sighup_sys_conf]

if __name__ == "__main__":
    H.main(TESTS)
