#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile or broken discovery controller, black-box: real stafd (and stacd) over the fake kernel.
Every case: stafd stays up, logs one warning that names the DC, and keeps the entries it last read
correctly; no field of a log page entry can add options to the kernel's connect string.
Run one test: python3 test_hostile.py <substring of the test name> (with the meson env)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import dc, dlpe, entry, stacd_conf, stafd_conf  # noqa: E402

A = "192.0.2.10"
IO = [f"192.0.2.{101 + i}" for i in range(6)]
NQN = [f"nqn.2024-01.io.stas.test:sub{i + 1}" for i in range(6)]
GOOD = [dlpe(IO[0], NQN[0]), dlpe(IO[1], NQN[1], portid=2)]
MAX_ENTRIES = 4096
PASSES = 6  # STAS_DLP_MAX_RETRIES


def cfg(traddr, **kw):
    return entry(transport="tcp", traddr=traddr, trsvcid="8009", **kw)


def pages(d):
    for e in d.get_all_log_pages(False):
        if e.get("discovery-controller", {}).get("traddr") == A:
            return sorted((p["traddr"], p["subnqn"]) for p in e.get("log-pages", []))
    return None


GOOD_PAGES = sorted((e["traddr"], e["subnqn"]) for e in GOOD)


def rae(line):
    """The Retain Asynchronous Event bit of a logged Get Log Page command."""
    return bool(int(re.search(r"cdw10=(0x[0-9a-f]+)", line).group(1), 16) & 0x8000)


def warnings_about_dc(d):
    """Warning lines of the current run that name the DC."""
    return d.log_count(r"^<4>.*" + re.escape(A))


class Dc:
    """stafd with one configured DC that first serves GOOD."""

    def __init__(self, t):
        self.t, self.w = t, t.w
        self.w.fk.set_scenario({"controllers": [dc(A, GOOD)]})
        self.d = self.w.stafd(stafd_conf([cfg(A)]))
        t.wait(lambda: pages(self.d) == GOOD_PAGES, "stafd publishes the good log page")
        self.dev = self.d.find_controller(traddr=A)["device"]
        self.warned = warnings_about_dc(self.d)

    def serve(self, **ctrl):
        c = dc(A, GOOD)
        c.update(ctrl)
        self.w.fk.set_scenario({"controllers": [c]})

    def read_after_aen(self, header_reads, what):
        """Send an AEN and wait until stafd sent header_reads more Get Log Page commands at offset 0."""
        before = len(self.w.fk.get_log_reads(self.dev))
        self.w.fk.ctl("aen", self.dev, socket=self.d.socket)
        self.t.wait(lambda: len(self.w.fk.get_log_reads(self.dev)) >= before + header_reads, what)

    def check_survived(self, want_pages, case, warnings=1):
        t, d = self.t, self.d
        t.check(d.alive() and d.list_controllers() is not None, f"{case}: stafd is up and answers")
        t.eq(pages(d), want_pages, f"{case}: published entries")
        t.wait(lambda: warnings_about_dc(d) >= self.warned + warnings, f"{case}: a warning names the DC")
        t.eq(warnings_about_dc(d) - self.warned, warnings, f"{case}: exactly {warnings} warning(s) naming the DC")
        self.warned = warnings_about_dc(d)


def test_numrec_beyond_the_cap(t):
    s = Dc(t)
    for numrec in (2**22 - 1, 2**22 + 1, 2**32 - 1):
        case = f"numrec {numrec}"
        s.serve(dlp={"genctr": 1, "numrec": numrec, "entries": GOOD})
        s.read_after_aen(2, f"{case}: the log page is read")
        s.check_survived(GOOD_PAGES, case)
        # bounded: the header, at most 4096 entries in 4 KiB commands, the header again
        offs = [int(m.group(1)) for m in (re.search(r" off=(\d+) len=(\d+)", l) for l in s.w.fk.get_log_reads_all(s.dev))
                if m]
        t.check(max(offs) < 1024 + MAX_ENTRIES * 1024, f"{case}: nothing past entry {MAX_ENTRIES} is read")
        t.check(not rae(s.w.fk.get_log_reads_all(s.dev)[-1]), f"{case}: the last command clears RAE")
        # the same page again: no second warning
        s.read_after_aen(2, f"{case}: re-read")
        t.eq(warnings_about_dc(s.d) - s.warned, 0, f"{case}: the same page is not warned about twice")
    t.stop_clean(s.d)


def test_numrec_zero_with_entries(t):
    s = Dc(t)
    s.serve(dlp={"genctr": 2, "numrec": 0, "entries": GOOD})
    before = len(s.w.fk.get_log_reads_all(s.dev))
    s.read_after_aen(2, "numrec 0: the log page is read")
    t.wait(lambda: pages(s.d) == [], "numrec 0: the page is empty, as the DC says")
    new = s.w.fk.get_log_reads_all(s.dev)[before:]
    t.check(all(" off=0 len=1024" in l for l in new), "numrec 0: only the header is read, never the entries")
    t.check(new and not rae(new[-1]), "numrec 0: the read ends with RAE cleared (libnvme 1.3 left it set)")
    t.check(s.d.alive(), "numrec 0: stafd is up")
    t.stop_clean(s.d)


def test_numrec_larger_than_served(t):
    s = Dc(t)
    s.serve(dlp={"genctr": 1, "numrec": 5, "entries": GOOD})
    s.read_after_aen(2, "numrec 5 with 2 entries: the log page is read")
    s.check_survived(GOOD_PAGES, "numrec larger than the entries served")
    lines = [l for _, text in s.d.logs() for l in text.splitlines() if l.startswith("<4>") and A in l]
    t.check(any("skipped 3 of 5 entries" in l and "subnqn" in l for l in lines),
            "the warning counts the refused entries and names the field")
    t.stop_clean(s.d)


def test_genctr_changes_on_every_read(t):
    s = Dc(t)
    s.serve(dlp={"genctr": 10, "genctr_changes": 100000, "entries": GOOD[:1]})
    s.read_after_aen(2 * PASSES, "a page that never holds still is read 6 times")
    s.check_survived(GOOD_PAGES, "genctr changing on every read")
    s.read_after_aen(2 * PASSES, "and again after another AEN")
    t.eq(warnings_about_dc(s.d) - s.warned, 0, "no second warning for the same streak")
    t.stop_clean(s.d)


def test_page_shrinks_between_header_and_entries(t):
    s = Dc(t)
    five = {"genctr": 5, "entries": [dlpe(IO[i], NQN[i], portid=i + 1) for i in range(5)]}
    three = {"genctr": 5, "entries": [dlpe(IO[i], NQN[i], portid=i + 1) for i in range(3)]}
    # every pass: the header says 5, the entries and the closing header come from a 3-entry page
    # (the same genctr: a DC that does not bump it); 4 commands per pass
    s.serve(dlp_sequence=[five, three, three, three] * PASSES + [five])
    s.read_after_aen(2 * PASSES, "a shrinking page is read 6 times")
    s.check_survived(GOOD_PAGES, "a page that shrinks on every read")

    # once: the second pass is consistent and wins, nothing stale is kept, nothing to warn about
    s.serve(dlp_sequence=[five, three])
    s.read_after_aen(4, "a page that shrank once is read twice")
    t.wait(lambda: pages(s.d) == sorted((IO[i], NQN[i]) for i in range(3)), "the 3-entry page is published")
    t.eq(warnings_about_dc(s.d) - s.warned, 0, "a page that changed once is no warning")
    t.stop_clean(s.d)


def test_entries_cannot_inject_connect_options(t):
    w = t.w
    evil = [
        dlpe(IO[2], "nqn.2024-01.io.evil:a", trsvcid="4420,host_iface=evil0"),
        dlpe(IO[3], "nqn.2024-01.io.evil:x,host_traddr=203.0.113.9,nr_io_queues=1"),
        dlpe(IO[4] + ",host_iface=evil0", "nqn.2024-01.io.evil:c"),
    ]
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO[0], NQN[0])] + evil)]})
    d = w.stafd(stafd_conf([cfg(A, **{"host-iface": "lo"})]))
    t.wait(lambda: pages(d) == [(IO[0], NQN[0])], "stafd publishes only the valid entry")
    t.wait(lambda: d.log_count(r"^<4>.*" + re.escape(A) + r".*skipped 3 of 4 entries") == 1,
           "one warning names the DC, the count and the first bad field")
    t.check(d.log_count(r"trsvcid '4420,host_iface=evil0'") == 1, "the warning names the field and its value")
    c = w.stacd(stacd_conf([entry(transport="tcp", traddr="192.0.2.201", trsvcid="4420",
                                  nqn="nqn.2024-01.io.stas.test:fence")]))
    t.wait(lambda: w.fk.find(traddr=IO[0], subsysnqn=NQN[0]), "stacd connects the valid IOC")
    t.wait(lambda: w.fk.find(traddr="192.0.2.201"), "and the configured one (fence: a full reconcile)")

    allowed = {"transport", "traddr", "trsvcid", "nqn", "hostnqn", "hostid", "host_iface",
               "discovery", "keep_alive_tmo", "ctrl_loss_tmo", "reconnect_delay"}
    log = w.fk.connect_log()
    t.eq(len(log), 3, "three connects: the DC, the valid IOC, the configured IOC")
    for o in log:
        t.check(set(o) <= allowed, f"connect to {o.get('traddr')}: only expected options ({sorted(o)})")
        t.check(o.get("host_iface") in (None, "lo"), f"connect to {o.get('traddr')}: host_iface from the config only")
    raw = "\n".join(w.fk._log("connect.log"))
    for bad in ("evil", "203.0.113.9", "nr_io_queues", "duplicate_connect"):
        t.check(bad not in raw, f"'{bad}' never reaches the kernel")
    t.stop_clean(c)
    t.stop_clean(d)


TESTS = [test_numrec_beyond_the_cap, test_numrec_zero_with_entries, test_numrec_larger_than_served,
         test_genctr_changes_on_every_read, test_page_shrinks_between_header_and_entries,
         test_entries_cannot_inject_connect_options]

if __name__ == "__main__":
    H.main(TESTS)
