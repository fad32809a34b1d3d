# SPDX-License-Identifier: Apache-2.0
"""Checks of a daemon whose state file path holds something else than a regular file, shared by
test_stafd.py and test_stacd.py (the same LkcStatus code serves both daemons)."""

import json
import os


def state_warnings(d):
    """Warning (or worse) lines of the current run that name the state file."""
    return d.log_lines(r"^<[0-4]>.*last-known-config\.json")


def state_file_fifo(t, d):
    """d (not started) has a FIFO at its state file path: it starts, answers, warns once."""
    p = os.path.join(d.runtime, "last-known-config.json")
    os.mkfifo(p)
    d.start()  # owns its bus name: not stuck in open()
    t.check(isinstance(d.process_info(), dict), f"{d.name} answers on D-Bus with a FIFO at {p}")
    t.wait(lambda: os.path.isfile(p) and not os.path.islink(p), "the first save replaces the FIFO by a regular file")
    with open(p) as f:
        t.eq(json.load(f).get("daemon"), d.name, "and it holds the daemon's state")
    w = state_warnings(d)
    t.eq(len(w), 1, f"exactly one warning about the state file ({w})")
    t.check("a FIFO, not a regular file" in w[0], "it says what is there (a FIFO)")
    t.eq(d.process_info().get("last known config error"), "", "process_info: no state file error after the save")


def state_file_directory(t, d):
    """d (not started, tron on) has a directory at its state file path: it starts clean, warns
    once although every save fails, shows the problem in process_info; once the directory is
    gone the next save works and clears it."""
    p = os.path.join(d.runtime, "last-known-config.json")
    os.mkdir(p)
    d.start()
    err = t.wait(lambda: (lambda e: e if "cannot write" in e else None)(
        d.process_info().get("last known config error", "")), "process_info shows the failing save")
    t.check(p in err and "Is a directory" in err, f"naming the file and the reason ({err})")
    n = len(d.log_lines(r"^<7>.*Cannot write the last known configuration"))
    d.reload()
    t.wait(lambda: len(d.log_lines(r"^<7>.*Cannot write the last known configuration")) > n,
           "a save after SIGHUP fails again (logged at debug level only)")
    w = state_warnings(d)
    t.eq(len(w), 1, f"exactly one warning about the state file ({w})")
    t.check("a directory, not a regular file" in w[0], "it says what is there (a directory)")
    os.rmdir(p)
    d.reload()
    t.wait(lambda: d.process_info().get("last known config error") == "", "the next save clears the error")
    t.check(os.path.isfile(p), "the state file is written")
    t.eq(len(d.log_lines(r"^<6>.*Wrote the last known configuration .* again")), 1, "the recovery is logged once")
    t.eq(len(state_warnings(d)), 1, "still one warning")
