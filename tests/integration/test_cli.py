#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stafctl and stacctl against live daemons on the fake kernel: every command's table and typed
JSON compared with the golden files in tests/integration/golden/ (after the values that change
from run to run are masked), plus the types of the JSON schema (stafctl(1), stacctl(1)) and the
one-line errors. STAS_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
Run one test: python3 test_cli.py <substring of the test name> (with the meson env)."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import dc, dlpe, entry, stacd_conf, stafd_conf  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
A = "192.0.2.10"
IOS = ["192.0.2.101", "192.0.2.102", "192.0.2.103"]
NQNS = [f"nqn.2024-01.io.stas.test:sub{i}" for i in range(1, 4)]

# What differs between runs: masked before the comparison (pattern, replacement).
MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<TIME>"),
    (re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"), "<TIME>"),
    (re.compile(r"\[\d+(\.\d+)?s\]"), "[<LEFT>s]"),
    (re.compile(r"(\"remaining_s\": )\d+(\.\d+)?"), r"\1<LEFT>"),
    (re.compile(r"retrying in \d+s"), "retrying in <N>s"),
    (re.compile(r"(\"retry_in\": )\d+"), r"\1<N>"),
    (re.compile(r"('?retry in'?[\":]*\s+)\d+"), r"\1<N>"),
    (re.compile(r"/tmp/stas-itest-[^/\s\"]+"), "<DIR>"),
    # the refusing IOC: its backoff has jitter, and a retry may come before the CLI runs
    (re.compile(r"\b\d+\.\d{3,}s \["), "<P>s ["),
    (re.compile(r"(\"period_s\": )\d+\.\d{3,}"), r"\1<P>"),
    (re.compile(r"(connect attempts\s+)\d+"), r"\g<1><N>"),
    (re.compile(r"(\"connect_attempts\": )\d+"), r"\1<N>"),
    (re.compile(r"('fail count': )\d+"), r"\1<N>"),
    (re.compile(r"(\"fail_count\": )\d+"), r"\1<N>"),
    (re.compile(r"nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f-]{36}"), "<HOSTNQN>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<UUID>"),
    (re.compile(r"(\"?(uptime_s|pid|uptime)\"?[:=]\s*)\d+(\.\d+)?"), r"\1<N>"),
]


def mask(text, world, table=False):
    text = text.replace(world.dir, "<DIR>")
    for pat, rep in MASKS:
        text = pat.sub(rep, text)
    # which IOC gets which device depends on the order the connects complete
    text = re.sub(r"\bnvme[1-9]\d*\b", "nvmeN", text)
    if table:  # column widths follow masked values (test-cli checks the alignment itself)
        text = re.sub(r"  +", "  ", text)
    return text


def golden(t, name, text):
    path = os.path.join(GOLDEN, name)
    text = mask(text, t.w, table=name.endswith(".txt"))
    if os.environ.get("STAS_UPDATE_GOLDEN"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        t.check(True, f"{name}: golden file written")
        return
    try:
        with open(path) as f:
            want = f.read()
    except FileNotFoundError:
        t.check(False, f"{name}: no golden file {path} (STAS_UPDATE_GOLDEN=1 makes it)")
        return
    if text != want:
        import difflib
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "golden", "now"))
        t.check(False, f"{name}: output differs from the golden file:\n{diff}")
    else:
        t.check(True, f"{name}: matches the golden file")


def run(t, cli, *args, rc=0):
    got_rc, out, err = t.w.cli(cli, *args)
    t.eq(got_rc, rc, f"{cli} {' '.join(args)} exits {rc} ({err.strip()})")
    return out, err


class Setup:
    """stafd with one DC (host-iface lo) listing three IOCs, the third refusing connections;
    stacd connecting them."""

    def __init__(self, t):
        self.t, self.w = t, t.w
        ents = [dlpe(IOS[i], NQNS[i], portid=i + 1) for i in range(3)]
        refuse = {"transport": "tcp", "traddr": IOS[2], "trsvcid": "4420", "subsysnqn": NQNS[2],
                  "connect_error": "ECONNREFUSED"}
        self.w.fk.set_scenario({"controllers": [dc(A, ents), refuse]})
        self.stafd = self.w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009", host_iface="lo")]))
        t.wait(lambda: len(self.pages()) == 3, "stafd publishes 3 IOCs")
        self.dc = self.stafd.find_controller(traddr=A)
        self.stacd = self.w.stacd(stacd_conf())
        for i in range(2):
            t.wait(lambda: self.w.fk.find(traddr=IOS[i], subsysnqn=NQNS[i]), f"IOC {NQNS[i]} connected")
        t.wait(lambda: sum(c.get("device") not in (None, "nvme?") for c in self.stacd.list_controllers()) == 2,
               "stacd lists two IOCs with devices")
        t.wait(lambda: any(int(c.get("connect attempts", "0") or 0) >= 1 and c.get("device") == "nvme?"
                           for c in self.stacd.list_controllers(True)),
               "stacd tried the refusing IOC")

    def pages(self):
        for e in self.stafd.get_all_log_pages(False):
            if e["discovery-controller"].get("traddr") == A:
                return e["log-pages"]
        return []


def check_version(t, doc, key, what):
    t.check(isinstance(doc, dict) and doc.get("version") == 1, f"{what}: an object with \"version\": 1")
    t.check(isinstance(doc.get(key), list), f"{what}: \"{key}\" is a list")
    return doc.get(key) or []


def check_ctrl_types(t, c, what):
    for k in ("transport", "traddr", "trsvcid", "subsysnqn", "host_traddr", "host_iface", "host_nqn"):
        t.check(k in c and (c[k] is None or isinstance(c[k], str)), f"{what}: {k} is a string or null")
    t.check(c.get("device") is None or re.fullmatch(r"nvme\d+", c["device"]), f"{what}: device nvmeN or null")
    t.check(not any(" " in k or "-" in k or "." in k for k in c), f"{what}: snake_case keys ({sorted(c)})")


def check_detailed_types(t, c, what):
    t.check(isinstance(c.get("connected"), bool), f"{what}: connected is a boolean")
    t.check(isinstance(c.get("connect_attempts"), int), f"{what}: connect_attempts is a number")
    tm = c.get("retry_connect_timer")
    t.check(isinstance(tm, dict) and isinstance(tm.get("period_s"), (int, float)),
            f"{what}: retry_connect_timer is an object with a number period_s ({tm})")


def test_stafctl_golden(t):
    s = Setup(t)
    hostnqn = s.dc["host-nqn"]
    golden(t, "stafctl-ls.txt", run(t, "stafctl", "ls")[0])
    golden(t, "stafctl-ls-d.txt", run(t, "stafctl", "ls", "-d")[0])
    out = run(t, "stafctl", "--json", "ls")[0]
    golden(t, "stafctl-ls.json", out)
    for c in check_version(t, json.loads(out), "controllers", "stafctl --json ls"):
        check_ctrl_types(t, c, "stafctl --json ls")
    out = run(t, "stafctl", "-j", "ls", "-d")[0]
    golden(t, "stafctl-ls-d.json", out)
    for c in check_version(t, json.loads(out), "controllers", "stafctl -j ls -d"):
        check_ctrl_types(t, c, "stafctl -j ls -d")
        check_detailed_types(t, c, "stafctl -j ls -d")
        t.eq(c.get("origin"), "configured", "stafctl -j ls -d: origin")

    dlp_args = ("-a", A, "-s", "8009", "-f", "lo", "-q", hostnqn)
    golden(t, "stafctl-dlp.txt", run(t, "stafctl", "dlp", *dlp_args)[0])
    out = run(t, "stafctl", "--json", "dlp", *dlp_args)[0]
    golden(t, "stafctl-dlp.json", out)
    pages = check_version(t, json.loads(out), "log_pages", "stafctl --json dlp")
    t.eq(sorted(p.get("portid") for p in pages), [1, 2, 3], "stafctl --json dlp: portid is a number")
    t.check(all(isinstance(p.get("eflags"), int) and isinstance(p.get("trsvcid"), str) for p in pages),
            "stafctl --json dlp: eflags a number, trsvcid a string")

    golden(t, "stafctl-adlp.txt", run(t, "stafctl", "adlp")[0])
    golden(t, "stafctl-adlp-d.txt", run(t, "stafctl", "adlp", "-d")[0])
    out = run(t, "stafctl", "--json", "adlp", "-d")[0]
    golden(t, "stafctl-adlp-d.json", out)
    dcs = check_version(t, json.loads(out), "discovery_controllers", "stafctl --json adlp -d")
    t.eq(len(dcs), 1, "stafctl --json adlp -d: one DC")
    if dcs:
        check_ctrl_types(t, dcs[0].get("controller") or {}, "stafctl --json adlp -d")
        t.eq(len(dcs[0].get("log_pages") or []), 3, "stafctl --json adlp -d: its three entries")

    golden(t, "stafctl-status.txt", run(t, "stafctl", "status")[0])
    out = run(t, "stafctl", "--json", "status")[0]
    golden(t, "stafctl-status.json", out)
    doc = json.loads(out)
    for c in check_version(t, doc, "controllers", "stafctl --json status"):
        check_detailed_types(t, c, "stafctl --json status")
        t.eq(len(c.get("log_pages") or []), 3, "stafctl --json status: the DC's log pages are merged in")
    t.check(isinstance(doc.get("tron"), bool), "stafctl --json status: tron is a boolean")
    ks = doc.get("kernel_support") or {}
    t.check(isinstance(ks.get("tp8013"), bool) and isinstance(ks.get("host_iface"), bool),
            f"stafctl --json status: kernel_support.tp8013/host_iface are booleans ({ks})")

    out = run(t, "stafctl", "--json", "tron")[0]
    t.eq(json.loads(out), {"version": 1, "tron": True}, "stafctl --json tron")
    t.eq(run(t, "stafctl", "troff")[0], "tron = False\n", "stafctl troff")


def test_stacctl_golden(t):
    s = Setup(t)
    out = run(t, "stacctl", "ls")[0]
    golden(t, "stacctl-ls.txt", out)
    lines = {ln.split()[-1]: ln for ln in out.splitlines()[1:]}
    t.check(NQNS[2] in lines and lines[NQNS[2]].startswith("-  "),
            f"stacctl ls: the refusing IOC has no device: '-' ({lines.get(NQNS[2])})")
    golden(t, "stacctl-ls-d.txt", run(t, "stacctl", "ls", "-d")[0])
    out = run(t, "stacctl", "--json", "ls")[0]
    golden(t, "stacctl-ls.json", out)
    ctrls = check_version(t, json.loads(out), "controllers", "stacctl --json ls")
    t.eq(sorted(c.get("subsysnqn") for c in ctrls), NQNS, "stacctl --json ls lists the three IOCs")
    for c in ctrls:
        check_ctrl_types(t, c, "stacctl --json ls")
    out = run(t, "stacctl", "--json", "ls", "-d")[0]
    golden(t, "stacctl-ls-d.json", out)
    for c in check_version(t, json.loads(out), "controllers", "stacctl --json ls -d"):
        check_detailed_types(t, c, "stacctl --json ls -d")
        d = c.get("dlpe")
        t.check(isinstance(d, dict) and isinstance(d.get("portid"), int),
                f"stacctl --json ls -d: dlpe is an object with a number portid ({d})")
        t.check(isinstance(c.get("dlpe_eflags_ncc"), bool), "stacctl --json ls -d: dlpe_eflags_ncc is a boolean")
        if c.get("subsysnqn") == NQNS[2]:
            op = c.get("connect_operation")
            t.check(isinstance(op, dict) and isinstance(op.get("fail_count"), int)
                    and isinstance(op.get("alive"), bool),
                    f"stacctl --json ls -d: connect_operation of the refusing IOC is typed ({op})")
    golden(t, "stacctl-status.txt", run(t, "stacctl", "status")[0])
    out = run(t, "stacctl", "--json", "status")[0]
    golden(t, "stacctl-status.json", out)
    t.eq(len(check_version(t, json.loads(out), "controllers", "stacctl --json status")), 3,
         "stacctl --json status: three controllers")


def test_errors_are_one_line(t):
    w = t.w
    rc, out, err = w.cli("stafctl", "ls")
    t.eq((rc, err), (1, "stafctl: stafd is not running (no org.nvmexpress.staf on the system bus)\n"),
         "stafctl without stafd: one line naming the daemon and the cause")
    rc, out, err = w.cli("stacctl", "-j", "status")
    t.eq((rc, err), (1, "stacctl: stacd is not running (no org.nvmexpress.stac on the system bus)\n"),
         "stacctl without stacd: one line naming the daemon and the cause")
    rc, out, err = w.cli("stafctl", "frobnicate")
    t.eq((rc, err), (2, "stafctl: unknown command 'frobnicate'\nTry 'stafctl --help'.\n"),
         "a usage error is one line plus the pointer to --help")
    rc, out, err = w.cli("stacctl", "--frobnicate", "ls")
    t.eq(rc, 2, "an unknown option exits 2")
    t.eq(err.splitlines()[-1:], ["Try 'stacctl --help'."], f"an unknown option ends with the --help pointer ({err})")
    t.eq(len(err.splitlines()), 2, "an unknown option: getopt's line plus the pointer")


def test_dlp_host_nqn_from_sys_conf(t):
    """stafctl dlp without -q uses sys.conf's hostnqn, as the daemons do (not /etc/nvme/hostnqn)."""
    s = Setup(t)
    nqn = s.dc["host-nqn"]
    sysconf = t.w.path("cli-sys.conf")
    with open(sysconf, "w") as f:
        f.write(f"[Host]\nnqn = {nqn}\n")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update({"DBUS_SYSTEM_BUS_ADDRESS": t.w.bus.address, "STAS_SYS_CONF": sysconf})
    p = subprocess.run([os.environ["STAFCTL"], "-j", "dlp", "-a", A, "-s", "8009", "-f", "lo"],
                       env=env, capture_output=True, text=True, timeout=60)
    t.eq(p.returncode, 0, f"stafctl dlp without -q exits 0 ({p.stderr.strip()})")
    t.eq(len(json.loads(p.stdout or "{}").get("log_pages") or []), 3,
         "stafctl dlp without -q finds the DC with sys.conf's host NQN")
    with open(sysconf, "w") as f:
        f.write("[Host]\nnqn = nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001\n")
    p = subprocess.run([os.environ["STAFCTL"], "-j", "dlp", "-a", A, "-s", "8009", "-f", "lo"],
                       env=env, capture_output=True, text=True, timeout=60)
    t.eq(json.loads(p.stdout or "{}").get("log_pages"), [],
         "with another hostnqn in sys.conf, stafctl dlp asks for that host's DC (none)")


TESTS = [test_stafctl_golden, test_stacctl_golden, test_errors_are_one_line, test_dlp_host_nqn_from_sys_conf]

if __name__ == "__main__":
    H.main(TESTS)
