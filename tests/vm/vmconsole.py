"""The vm tier's console protocol, shared by run-vm (busybox guest) and run-sysvm (systemd guest).

The guest prints "VMCHECK <name> PASS|FAIL <detail>" per check, "VMCHECK-DONE" when the check
program finished and "VMCHECK-EXIT <status>" once it exited; "VMCHECK-REBOOT" instead of "VMCHECK-DONE" asks for
another boot of the same image, whose verdicts add to the first's. boot() runs QEMU, copies its serial
console to a log file (and to stdout with live), and collects the verdicts; judge() says what
is wrong with a run; finish() prints the outcome and exits.
"""

import os
import re
import select
import subprocess
import sys
import time

_CHECK = re.compile(r"VMCHECK (\S+) (PASS|FAIL)\b ?(.*)$")
_EXIT = re.compile(r"VMCHECK-EXIT (\d+)")


def fail(prog, msg):
    print(f"{prog}: FAIL: {msg}", flush=True)
    sys.exit(1)


def skip(prog, msg):
    """What the host lacks: exit 77 (meson's skip; tests/run counts it as a failure)."""
    print(f"{prog}: SKIP: {msg}", flush=True)
    sys.exit(77)


class Run:
    """What one boot showed: the verdicts in order, the end markers, and when marks were seen."""

    def __init__(self):
        self.results = {}
        self.order = []
        self.done = False
        self.exit_status = None
        self.timed_out = False
        self.lines = []
        self.marks = {}
        self.elapsed = 0.0
        self.reboot = False  # the last boot asked for another one
        self.boots = 0

    def passed(self):
        return sum(1 for v in self.results.values() if v == "PASS")

    def _line(self, line, now, live, marks):
        self.lines.append(line)
        for text in marks:
            if text not in self.marks and text in line:
                self.marks[text] = now
        m = _CHECK.search(line)
        if m:
            name, verdict, detail = m.groups()
            if not live:
                print(f"  [{now:6.1f} s] {name}: {verdict} {detail}", flush=True)
            if name not in self.results:
                self.order.append(name)
            # a FAIL is never overwritten by a later PASS of the same name
            if self.results.get(name) != "FAIL":
                self.results[name] = verdict
        elif "VMCHECK-DONE" in line:
            self.done = True
        elif "VMCHECK-REBOOT" in line:
            self.reboot = True
        else:
            m = _EXIT.search(line)
            if m:
                self.exit_status = int(m.group(1))


def boot(prog, qcmd, log_path, timeout, live=False, stamp=False, marks=(), run=None):
    """Run @qcmd until it exits or @timeout seconds pass; each console line goes to @log_path
    (with its time since the start when @stamp). @marks: texts whose first appearance is timed
    (Run.marks). With @run (a later boot), its verdicts add to that Run and the log is appended
    to. Returns the Run."""
    print(f"{prog}: " + " ".join(qcmd), flush=True)
    again = run is not None
    run = run or Run()
    run.reboot = False
    run.boots += 1
    t1 = time.monotonic() - run.elapsed
    try:
        proc = subprocess.Popen(qcmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        fail(prog, f"cannot start {qcmd[0]}: {e}")
    buf = b""
    with open(log_path, "a" if again else "w", encoding="utf-8", errors="replace") as log:
        deadline = t1 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                run.timed_out = True
                break
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").replace("\r", "")
                now = time.monotonic() - t1
                shown = f"[{now:7.1f}] {line}" if stamp else line
                log.write(shown + "\n")
                log.flush()
                if live:
                    print(shown, flush=True)
                run._line(line, now, live, marks)
        if buf:
            log.write(buf.decode("utf-8", "replace"))
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    run.elapsed = time.monotonic() - t1
    return run


def judge(run, expect, timeout):
    """What is wrong with @run, as a list of problems (empty: it passed)."""
    problems = []
    if run.timed_out:
        problems.append(f"timed out after {timeout:.0f} s")
    if not run.lines:
        problems.append("no console output (qemu failed or the kernel did not boot)")
    for name in run.order:
        if run.results[name] == "FAIL":
            problems.append(f"check {name} FAILED")
    for name in expect:
        if name not in run.results:
            problems.append(f"expected check {name} never reported")
    if not run.done:
        problems.append("VMCHECK-DONE not seen")
    if run.exit_status is None:
        problems.append("check exit status not seen")
    elif run.exit_status != 0:
        problems.append(f"check program exited {run.exit_status}")
    return problems


def finish(prog, run, problems, live, tail=60):
    """Print the outcome (the last @tail console lines on failure unless @live) and exit."""
    if problems:
        if not live:
            print(f"{prog}: last console lines:")
            for line in run.lines[-tail:]:
                print("  | " + line)
        for p in problems:
            print(f"{prog}: FAIL: {p}")
        sys.exit(1)
    print(f"{prog}: PASS", flush=True)
    sys.exit(0)
