#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""harness.py - black-box integration harness for stafd and stacd (python3 stdlib only).

Each test gets a fresh world: a private dbus-daemon (temporary config allowing everything, or a
system-bus-like one reading the shipped policy files for tests decorated with @system_bus), a
fake kernel root (FAKEKERNEL_ROOT) with a scenario file (FAKEKERNEL_SCENARIO, JSON, see
doc/testing.md), and the daemons started with LD_PRELOAD of the fake kernel and every path
pointed into the temporary directory. D-Bus is driven with `busctl --json=short`, signals are
recorded by a `busctl monitor` subprocess, kernel events are injected with fakekernel-ctl.
Everything started is stopped (SIGTERM, then SIGKILL) and every temporary file removed, even
when a test fails.

Environment (set by tests/integration/meson.build):
  STAFD, STACD, STAFCTL, STACCTL   daemon and CLI binaries (may be unset when not built)
  FAKEKERNEL_LIB, FAKEKERNEL_CTL   the LD_PRELOAD fake kernel and its control CLI
  FAKE_AVAHI                       the avahi-daemon stand-in (tests/integration/fake-avahi.c)
  STAS_UDEV_RULE_TEMPLATE          the configured udev/70-nvmf-autoconnect.rules
  STAS_DBUS_XML_DIR                the dbus/ source directory (introspection XML)
  ITEST_KEEP=1                     keep the temporary directory of failed tests
  ITEST_VERBOSE=1                  print daemon logs of every test, not only failed ones

Tests never assert on timing: they poll for a state with a generous deadline, and prove the
absence of an event with a fence (a later event that must be ordered after it).
"""

import base64
import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

WKNQN = "nqn.2014-08.org.nvmexpress.discovery"
STAF = ("org.nvmexpress.staf", "/org/nvmexpress/staf", "org.nvmexpress.staf")
STAC = ("org.nvmexpress.stac", "/org/nvmexpress/stac", "org.nvmexpress.stac")
TIMEOUT = float(os.environ.get("ITEST_TIMEOUT", "60"))  # default deadline of every wait
AVAHI = ("org.freedesktop.Avahi", "/", "org.freedesktop.Avahi.Server")
FAKE_AVAHI = ("org.freedesktop.Avahi", "/io/stas/test/FakeAvahi", "io.stas.test.FakeAvahi")
NVME_DISC_TCP = "_nvme-disc._tcp"
NVME_DISC_UDP = "_nvme-disc._udp"
TID_KEYS = ("transport", "traddr", "trsvcid", "subsysnqn", "host-traddr", "host-iface", "host-nqn")


class CheckFailed(Exception):
    """A check failed: the test stops here (the line is printed by the runner)."""


class BusError(Exception):
    """A D-Bus call returned an error (or busctl failed)."""


def wait_for(pred, what, timeout=None, interval=0.1):
    """Poll pred() until it returns a truthy value (returned); CheckFailed after the deadline."""
    deadline = time.monotonic() + (timeout or TIMEOUT)
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (BusError, OSError, ValueError) as e:
            last_exc = e
        if time.monotonic() > deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise CheckFailed(f"timed out after {timeout or TIMEOUT:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


def parse_opts(line):
    """A connect option string ('a=b,flag,...') as a dict; flags map to True."""
    d = {}
    for tok in line.strip().split(","):
        if not tok:
            continue
        k, eq, v = tok.partition("=")
        d[k] = v if eq else True
    return d


# --------------------------------------------------------------------------------------------
# private bus


BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


# A system-bus-like policy (deny by default, as Debian's /usr/share/dbus-1/system.conf): nobody
# may own a name or send a method call unless an included policy file punches a hole. The shipped
# dbus/*.conf files are copied into {policy_dir} and read with <includedir>, as the system bus
# reads /usr/share/dbus-1/system.d.
SYSTEM_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <includedir>{policy_dir}</includedir>
</busconfig>
"""
POLICY_FILES = ("org.nvmexpress.staf.conf", "org.nvmexpress.stac.conf")


class Bus:
    """A private dbus-daemon and busctl-based client helpers.
    policy: "open" (everything allowed, the default) or "system" (SYSTEM_BUS_CONF plus the shipped
    policy files from $STAS_DBUS_XML_DIR)."""

    def __init__(self, world, policy="open"):
        self.world = world
        self.policy = policy
        d = world.path("bus")
        os.makedirs(d)
        conf = os.path.join(d, "bus.conf")
        sock = os.path.join(d, "socket")
        if policy == "system":
            pdir = os.path.join(d, "system.d")
            os.makedirs(pdir)
            src = os.environ.get("STAS_DBUS_XML_DIR")
            if not src:
                raise CheckFailed("STAS_DBUS_XML_DIR is not set (the shipped policy files)")
            for f in POLICY_FILES:
                shutil.copy(os.path.join(src, f), os.path.join(pdir, f))
            text = SYSTEM_BUS_CONF.format(path=sock, policy_dir=pdir)
        elif policy == "open":
            text = BUS_CONF.format(path=sock)
        else:
            raise ValueError(f"unknown bus policy {policy!r}")
        with open(conf, "w") as f:
            f.write(text)
        self.log = open(os.path.join(d, "dbus-daemon.log"), "w")
        self.proc = world.spawn(
            ["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        r, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        line = self.proc.stdout.readline().decode().strip() if r else ""
        if not line.startswith("unix:"):
            raise CheckFailed("dbus-daemon did not print its address")
        self.address = line
        self.monitors = []

    def kill(self, sig=signal.SIGKILL):
        """Kill the private dbus-daemon (its clients see their connection drop); wait for it to end.
        Nothing on this bus works afterwards; World.close() copes with a dead bus."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(TIMEOUT)
        return self.proc.returncode

    def busctl(self, *args, check=True, timeout=None, unprivileged=False):
        """Run busctl on this bus and return its parsed JSON output (BusError on failure).
        unprivileged: run it as nobody (see World.as_nobody)."""
        cmd = ["busctl", "--address=" + self.address, "--json=short"] + [str(a) for a in args]
        if unprivileged:
            cmd = self.world.as_nobody(cmd)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout or TIMEOUT)
        if p.returncode != 0:
            raise BusError(p.stderr.strip() or f"busctl exit {p.returncode}")
        return json.loads(p.stdout) if p.stdout.strip() else None

    def call(self, svc, member, sig="", *args, iface=None):
        """Call svc=(name, path, iface) member; return the list of out values."""
        name, path, default_iface = svc
        a = ["call", name, path, iface or default_iface, member]
        if sig:
            a += [sig] + list(args)
        out = self.busctl(*a)
        return out["data"] if out else []

    def get_property(self, svc, iface, prop):
        name, path, _ = svc
        out = self.busctl("get-property", name, path, iface, prop)
        return out["data"]

    def has_owner(self, name):
        out = self.busctl(
            "call",
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            "s",
            name,
        )
        return out["data"][0]

    def monitor(self, match):
        m = Monitor(self, match)
        self.monitors.append(m)
        return m


class Monitor:
    """Records the messages matching a match rule (busctl monitor, one JSON object per line)."""

    def __init__(self, bus, match):
        n = len(bus.monitors)
        self.path = bus.world.path(f"monitor-{n}.jsonl")
        self.out = open(self.path, "w")
        fence = f"/itest/fence{n}"
        self.proc = bus.world.spawn(
            ["busctl", "--address=" + bus.address, "monitor", "--json=short", "--match=" + match,
             f"--match=type='signal',path='{fence}'"],
            stdout=self.out,
            stderr=subprocess.DEVNULL,
        )

        # Fence: once one of our own signals shows up, the monitor sees everything after it.
        def ready():
            if self.proc.poll() is not None:
                raise CheckFailed("busctl monitor exited")
            bus.busctl("emit", fence, "org.itest", "Fence")
            return any(m.get("path") == fence for m in self.messages())

        wait_for(ready, "busctl monitor to be active", interval=0.2)

    def messages(self):
        res = []
        with open(self.path) as f:
            for line in f:
                line = line.strip()
                if not line or not line.startswith("{"):
                    continue
                try:
                    res.append(json.loads(line))
                except ValueError:
                    pass  # a partially written last line
        return res

    def signals(self, member):
        """The payload data (list of args) of each recorded signal called member, in order."""
        return [m.get("payload", {}).get("data", []) for m in self.messages()
                if m.get("type") == "signal" and m.get("member") == member]


# --------------------------------------------------------------------------------------------
# fake kernel


class FakeKernel:
    def __init__(self, world):
        self.world = world
        self.root = world.path("fk")
        os.makedirs(self.root)
        self.scenario_path = world.path("scenario.json")
        self.ctl_bin = os.environ["FAKEKERNEL_CTL"]
        self.lib = os.environ["FAKEKERNEL_LIB"]
        self.set_scenario({"controllers": []})

    def set_scenario(self, sc):
        """Atomically replace the scenario (the fake re-reads it on every use)."""
        tmp = self.scenario_path + ".new"
        with open(tmp, "w") as f:
            json.dump(sc, f, indent=1)
        os.rename(tmp, self.scenario_path)
        self.scenario = sc

    def env(self):
        return {"FAKEKERNEL_ROOT": self.root, "FAKEKERNEL_SCENARIO": self.scenario_path}

    def ctl(self, *args, socket=None):
        """Run fakekernel-ctl; socket: the STAS_UEVENT_SOCKET to deliver the uevent to."""
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.update(self.env())
        if socket:
            env["STAS_UEVENT_SOCKET"] = socket
        else:
            env.pop("STAS_UEVENT_SOCKET", None)
        p = subprocess.run([self.ctl_bin] + list(args), env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        if p.returncode != 0:
            raise CheckFailed(f"fakekernel-ctl {' '.join(args)} failed: {p.stderr.strip()}")
        return p.stdout.strip()

    def _log(self, name):
        try:
            with open(os.path.join(self.root, name)) as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def connect_log(self):
        """Every connect option string written to /dev/nvme-fabrics, parsed, in order."""
        return [parse_opts(l) for l in self._log("connect.log")]

    def connects(self, **match):
        """The connect attempts whose options include all of match (keys use _ as the kernel)."""
        return [o for o in self.connect_log() if all(o.get(k) == v for k, v in match.items())]

    def connects_done(self, **match):
        """The connect writes that returned a controller, in the order they returned, as dicts of
        the controller's keys plus "device" (connect-done.log); filtered like connects()."""
        res = []
        for l in self._log("connect-done.log"):
            dev, _, opts = l.partition(" ")
            d = parse_opts(opts)
            d["device"] = dev
            if all(d.get(k) == v for k, v in match.items()):
                res.append(d)
        return res

    def dim_log(self):
        res = []
        for l in self._log("dim.log"):
            dev, _, rest = l.partition(" ")
            d = {"device": dev}
            for m in re.finditer(r"(\w+)=(\S*)", rest):
                d[m.group(1)] = m.group(2)
            res.append(d)
        return res

    def admin_log(self):
        return self._log("admin.log")

    def get_log_reads_all(self, dev):
        """Every admin Get Log Page 0x70 command sent to dev, at any offset, in order."""
        return [l for l in self.admin_log()
                if l.startswith(dev + " ") and "opc=0x02" in l and re.search(r"cdw10=0x\w{6}70 ", l)]

    def get_log_reads(self, dev):
        """Admin Get Log Page 0x70 commands at offset 0 sent to dev."""
        return [l for l in self.admin_log()
                if l.startswith(dev + " ") and "opc=0x02" in l and re.search(r"cdw10=0x\w{6}70 ", l)
                and " off=0 " in l]

    def controllers(self):
        """Live fake controllers: {nvmeN: {attr: value, address keys...}}."""
        res = {}
        d = os.path.join(self.root, "sys", "class", "nvme")
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            return res
        for n in names:
            if not re.fullmatch(r"nvme\d+", n):
                continue
            attrs = {}
            for a in ("transport", "subsysnqn", "cntrltype", "dctype", "state", "hostnqn", "address"):
                try:
                    with open(os.path.join(d, n, a)) as f:
                        attrs[a] = f.read().strip()
                except OSError:
                    pass
            for tok in attrs.get("address", "").split(","):
                k, _, v = tok.partition("=")
                if k:
                    attrs[k] = v
            res[n] = attrs
        return res

    def find(self, **match):
        """Names of live controllers whose attributes include match."""
        return sorted(n for n, a in self.controllers().items()
                      if all(a.get(k) == v for k, v in match.items()))


# --------------------------------------------------------------------------------------------
# avahi-daemon stand-in


class FakeAvahi:
    """tests/integration/fake-avahi.c on the world's bus: owns org.freedesktop.Avahi and serves what
    avahi-client 0.8 needs to browse and resolve (see the top of fake-avahi.c). Made by
    World.avahi(); start stafd after it, as on a host (stafd also copes when the stand-in comes
    later: avahi-client waits for the name). The services published through this object are
    remembered, so that restart() can publish them again as a restarted avahi-daemon would find
    them. Stopped after the daemons at the end of the test; its exit status is checked."""

    name = "fake-avahi"

    def __init__(self, world, hang=False):
        self.world = world
        self.exe = os.environ.get("FAKE_AVAHI")
        if not self.exe:
            raise CheckFailed("FAKE_AVAHI is not set (tests/integration/fake-avahi not built)")
        self.dir = world.path("avahi")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.starts = 0
        self.exit_codes = []
        self.published = {}  # key (ifindex, protocol, name, stype, domain) -> Publish arguments
        self.start(hang)

    # process ---------------------------------------------------------------------------------

    def start(self, hang=False):
        """Start the stand-in (hung from its first call with hang) and wait until it owns the name."""
        if self.alive():
            raise CheckFailed("fake-avahi already running")
        self.starts += 1
        self.logpath = os.path.join(self.dir, f"fake-avahi.{self.starts}.log")
        self.log = open(self.logpath, "w")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.world.bus.address
        self.proc = self.world.spawn([self.exe] + (["--hang"] if hang else []), env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise CheckFailed(f"fake-avahi exited with status {self.proc.returncode} at start")
            return self.world.bus.has_owner(AVAHI[0])
        wait_for(ready, "fake-avahi to own org.freedesktop.Avahi")
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stop the stand-in (avahi-client sees the name go); return its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout or TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.world.note(f"fake-avahi ignored {signal.Signals(sig).name}: killed")
        self.exit_codes.append(self.proc.returncode)
        self.log.close()
        self.world.forget(self.proc)
        rc = self.proc.returncode
        self.proc = None
        if self.world.bus.proc.poll() is None:  # the name is released once the bus has seen the exit
            wait_for(lambda: not self.world.bus.has_owner(AVAHI[0]), "org.freedesktop.Avahi to be released")
        return rc

    def restart(self, hang=False):
        """An avahi-daemon restart: stop, start (a new owner of the name, empty call log), and
        publish again every service published through this object."""
        self.stop()
        self.start(hang)
        for args in list(self.published.values()):
            self.ctl("Publish", "iisssssqaay", *args)

    def logs(self):
        out = []
        for i in range(1, self.starts + 1):
            p = os.path.join(self.dir, f"fake-avahi.{i}.log")
            try:
                with open(p, errors="replace") as f:
                    out.append((p, f.read()))
            except OSError:
                pass
        return out

    # controls --------------------------------------------------------------------------------

    def ctl(self, member, sig="", *args):
        """Call io.stas.test.FakeAvahi.<member>; returns the list of out values."""
        a = ["--", "call", FAKE_AVAHI[0], FAKE_AVAHI[1], FAKE_AVAHI[2], member]
        if sig:
            a += [sig] + [str(x) for x in args]
        out = self.world.bus.busctl(*a)
        return out["data"] if out else []

    @staticmethod
    def _txt_args(txt):
        """busctl's arguments for an aay: the TXT strings (str or bytes), in record order."""
        items = [x.encode() if isinstance(x, str) else bytes(x) for x in txt]
        out = [len(items)]
        for b in items:
            out += [len(b)] + list(b)
        return out

    def publish(self, name="SFSS", address="127.0.0.1", port=8009, txt=("p=tcp",), ifindex=None,
                protocol=0, stype=NVME_DISC_TCP, domain="local", host=None):
        """Publish (or update) a service; ifindex defaults to lo's (a real interface: stafd names it
        with if_indextoname()), protocol 0 is IPv4 and 1 IPv6 (avahi's). Returns its key."""
        if ifindex is None:
            ifindex = socket.if_nametoindex("lo")
        host = host or f"{name.lower()}.local"
        key = (ifindex, protocol, name, stype, domain)
        args = [ifindex, protocol, name, stype, domain, host, address, port] + self._txt_args(txt)
        self.ctl("Publish", "iisssssqaay", *args)
        self.published[key] = args
        return key

    def withdraw(self, name="SFSS", ifindex=None, protocol=0, stype=NVME_DISC_TCP, domain="local"):
        """Withdraw a service (ItemRemove to stafd's browser)."""
        if ifindex is None:
            ifindex = socket.if_nametoindex("lo")
        self.ctl("Withdraw", "iisss", ifindex, protocol, name, stype, domain)
        self.published.pop((ifindex, protocol, name, stype, domain), None)

    def flap(self, gap_ms=0):
        """Withdraw every service and publish it again after gap_ms (at once for 0)."""
        self.ctl("Flap", "u", gap_ms)

    def hang(self):
        """From now on no method call gets a reply (signals of publish/withdraw still go out)."""
        self.ctl("Hang")

    def resume(self):
        """Answer method calls again (the ones swallowed while hung stay unanswered)."""
        self.ctl("Resume")

    def browser_failure(self, error="org.freedesktop.Avahi.Failure"):
        """A Failure signal on every browser."""
        self.ctl("BrowserFailure", "s", error)

    def call_log(self):
        """Every method call the stand-in received (outside its control interface), in order."""
        keys = ("sender", "pid", "path", "interface", "member", "swallowed")
        return [dict(zip(keys, c)) for c in self.ctl("CallLog")[0]]

    def calls(self, member=None, pid=None, swallowed=None):
        """The call_log() entries with that member, caller pid and swallowed state (None: any)."""
        return [c for c in self.call_log()
                if (member is None or c["member"] == member) and (pid is None or c["pid"] == pid)
                and (swallowed is None or c["swallowed"] == swallowed)]

    def objects(self, pid=None):
        """Live browsers and resolvers (of the client with that pid)."""
        keys = ("owner", "pid", "path", "interface", "what")
        return [o for o in (dict(zip(keys, x)) for x in self.ctl("Objects")[0])
                if pid is None or o["pid"] == pid]


# --------------------------------------------------------------------------------------------
class RenameCounter:
    """Counts the files renamed to @name in directory @dir (inotify), i.e. the atomic
    writes of a state file, from creation on. Watched from outside the daemon: nothing in the
    daemon reports it."""
    IN_MOVED_FROM, IN_MOVED_TO = 0x40, 0x80

    def __init__(self, dir, name):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        # with IN_MOVED_FROM too, no two events in a row are alike: inotify merges those
        if self.libc.inotify_add_watch(self.fd, os.fsencode(dir), self.IN_MOVED_FROM | self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {dir}")
        self.name, self.n = os.fsencode(name), 0

    def count(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.n
            o = 0
            while o + 16 <= len(buf):
                _wd, mask, _cookie, ln = struct.unpack_from("iIII", buf, o)
                if mask & self.IN_MOVED_TO and buf[o + 16:o + 16 + ln].rstrip(b"\0") == self.name:
                    self.n += 1
                o += 16 + ln

    def close(self):
        os.close(self.fd)


# daemons


class Daemon:
    def __init__(self, world, name, exe, svc, conf_text):
        self.world, self.name, self.exe, self.svc = world, name, exe, svc
        self.dir = world.path(name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, name + ".conf")
        self.runtime = os.path.join(self.dir, "run")
        self.rules = os.path.join(self.dir, "rules.d")
        self.socket = os.path.join(self.dir, "uevent.sock")
        os.makedirs(self.runtime, exist_ok=True)
        os.makedirs(self.rules, exist_ok=True)
        self.write_conf(conf_text)
        self.proc = None
        self.starts = 0
        self.exit_codes = []
        # trace_sysfs: set before start() to have the fake kernel log every sysfs path this
        # daemon touches (FAKEKERNEL_SYSFS_LOG), read back with sysfs_reads()
        self.trace_sysfs = False
        self.sysfs_log = os.path.join(self.dir, "sysfs-reads.log")

    def write_conf(self, text):
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def env(self):
        env = dict(os.environ)
        env.update(self.world.fk.env())
        env.update({
            "LD_PRELOAD": self.world.fk.lib,
            "DBUS_SYSTEM_BUS_ADDRESS": self.world.bus.address,
            "STAS_UEVENT_SOCKET": self.socket,
            "RUNTIME_DIRECTORY": self.runtime,
            "STAS_UDEV_RULES_DIR": self.rules,
        })
        tpl = os.environ.get("STAS_UDEV_RULE_TEMPLATE")
        if tpl:
            env["STAS_UDEV_RULE_TEMPLATE"] = tpl
        if self.trace_sysfs:
            env["FAKEKERNEL_SYSFS_LOG"] = self.sysfs_log
        else:
            env.pop("FAKEKERNEL_SYSFS_LOG", None)
        env.setdefault("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return env

    def start(self, wait=True):
        if self.proc and self.proc.poll() is None:
            raise CheckFailed(f"{self.name} already running")
        self.starts += 1
        self.logpath = os.path.join(self.dir, f"{self.name}.{self.starts}.log")
        self.log = open(self.logpath, "w")
        self.proc = self.world.spawn([self.exe, "-f", self.conf], env=self.env(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        def ready():
            if self.proc.poll() is not None:
                raise CheckFailed(f"{self.name} exited with status {self.proc.returncode} at start")
            return self.world.bus.has_owner(self.svc[0])
        wait_for(ready, f"{self.name} to own {self.svc[0]}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if not self.alive():
            raise CheckFailed(f"{self.name} is not running (status {self.proc.returncode})")
        self.proc.send_signal(sig)

    def reload(self, conf_text=None):
        if conf_text is not None:
            self.write_conf(conf_text)
        self.send_signal(signal.SIGHUP)

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stop the daemon; return its exit status (negative: killed by a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout or TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.world.note(f"{self.name} ignored {signal.Signals(sig).name}: killed")
        self.exit_codes.append(self.proc.returncode)
        self.log.close()
        self.world.forget(self.proc)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def logs(self):
        out = []
        for i in range(1, self.starts + 1):
            p = os.path.join(self.dir, f"{self.name}.{i}.log")
            try:
                with open(p, errors="replace") as f:
                    out.append((p, f.read()))
            except OSError:
                pass
        return out

    def sysfs_reads(self):
        """The sysfs paths this daemon touched so far (all runs), in order; needs trace_sysfs."""
        try:
            with open(self.sysfs_log) as f:
                return [l.rstrip("\n") for l in f]
        except FileNotFoundError:
            return []

    def log_lines(self, pattern):
        """The lines of the current run's log that match the regex pattern."""
        try:
            with open(self.logpath, errors="replace") as f:
                return [l.rstrip("\n") for l in f if re.search(pattern, l)]
        except (OSError, AttributeError):
            return []

    def log_count(self, pattern):
        """How many lines of the current run's log match the regex pattern."""
        try:
            with open(self.logpath, errors="replace") as f:
                return sum(1 for l in f if re.search(pattern, l))
        except (OSError, AttributeError):
            return 0

    # D-Bus helpers -------------------------------------------------------------------------

    def call(self, member, sig="", *args, iface=None):
        return self.world.bus.call(self.svc, member, sig, *args, iface=iface)

    def list_controllers(self, detailed=False):
        return self.call("list_controllers", "b", "true" if detailed else "false")[0]

    def process_info(self):
        return json.loads(self.call("process_info", iface=self.svc[2] + ".debug")[0])

    def controller_info(self, tid):
        return json.loads(self.call("controller_info", "sssssss", *tid_args(tid),
                                    iface=self.svc[2] + ".debug")[0])

    def get_log_pages(self, tid):
        return self.call("get_log_pages", "sssssss", *tid_args(tid))[0]

    def get_all_log_pages(self, detailed=False):
        return json.loads(self.call("get_all_log_pages", "b", "true" if detailed else "false")[0])

    def find_controller(self, **match):
        """The list_controllers() entry (short form) matching all of match (dict keys), or None."""
        for c in self.list_controllers():
            if all(c.get(k) == v for k, v in match.items()):
                return c
        return None


def tid_args(c):
    """The 7 TID strings of a controller dict (list_controllers / discovery-controller form)."""
    return [c.get(k, "") for k in TID_KEYS]


# --------------------------------------------------------------------------------------------
# world: one per test


class World:
    def __init__(self, test_name, bus_policy="open"):
        self.dir = tempfile.mkdtemp(prefix=f"stas-itest-{test_name}-")
        self.procs = []
        self.notes = []
        self.daemons = {}
        self.helpers = []  # stand-ins of other system services (FakeAvahi), stopped after daemons
        self.listeners = []  # sockets of tcp_listener()
        self.bus = None
        self.fk = None
        try:
            self.fk = FakeKernel(self)
            self.bus = Bus(self, bus_policy)
        except BaseException:
            self.close()
            raise

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def note(self, s):
        self.notes.append(s)

    def spawn(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def forget(self, p):
        if p in self.procs:
            self.procs.remove(p)

    def stafd(self, conf_text, start=True):
        exe = os.environ.get("STAFD")
        if not exe:
            raise CheckFailed("STAFD is not set (stafd not built)")
        d = self.daemons.get("stafd") or Daemon(self, "stafd", exe, STAF, conf_text)
        self.daemons["stafd"] = d
        d.write_conf(conf_text)
        return d.start() if start else d

    def stacd(self, conf_text, start=True):
        exe = os.environ.get("STACD")
        if not exe:
            raise CheckFailed("STACD is not set (stacd not built)")
        d = self.daemons.get("stacd") or Daemon(self, "stacd", exe, STAC, conf_text)
        self.daemons["stacd"] = d
        d.write_conf(conf_text)
        return d.start() if start else d

    def avahi(self, hang=False):
        """Start the avahi-daemon stand-in on the bus (FakeAvahi); hang: no call is ever answered."""
        a = FakeAvahi(self, hang)
        self.helpers.append(a)
        return a

    def tcp_listener(self, address="127.0.0.1"):
        """A listening TCP socket, e.g. for stafd's reachability probe of a published mDNS service
        (§5.2: only a tcp service that accepts a connection is used; the kernel connection itself
        goes to the fake kernel). Returns its port; closed at the end of the test."""
        s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
        s.bind((address, 0))
        s.listen(16)
        self.listeners.append(s)
        return s.getsockname()[1]

    def cli(self, which, *args, unprivileged=False):
        """Run stafctl/stacctl against the private bus; return (rc, stdout, stderr).
        unprivileged: run it as nobody (the bus socket's directories are opened up for that)."""
        exe = os.environ.get(which.upper())
        if not exe:
            raise CheckFailed(f"{which.upper()} is not set ({which} not built)")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus.address
        cmd = [exe] + list(args)
        if unprivileged:
            cmd = self.as_nobody(cmd)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    def as_nobody(self, cmd):
        """cmd wrapped to run as nobody (uid/gid 65534, no groups); the bus socket and the
        directories above it are opened up so that nobody can connect (needs root)."""
        sock = self.bus.address.split("unix:path=", 1)[1].split(",")[0]
        d = os.path.dirname(sock)
        while d.startswith(self.dir):
            os.chmod(d, 0o711)
            d = os.path.dirname(d)
        os.chmod(sock, 0o777)
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + list(cmd)

    def close(self):
        """Stop everything (daemons first, SIGTERM then SIGKILL) and remove the temp dir."""
        for d in list(self.daemons.values()):
            try:
                d.stop(timeout=20)
            except Exception as e:  # keep cleaning up
                self.note(f"stopping {d.name}: {e}")
        for h in self.helpers:
            try:
                h.stop(timeout=20)
            except Exception as e:  # keep cleaning up
                self.note(f"stopping {h.name}: {e}")
        for s in self.listeners:
            s.close()
        self.listeners = []
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
        self.procs = []
        for m in (self.bus.monitors if self.bus else []):
            m.out.close()
        if self.bus:
            self.bus.log.close()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# config text helpers


def conf(sections):
    """INI text from [(section, [(key, value), ...]), ...]."""
    out = []
    for sec, items in sections:
        out.append(f"[{sec}]")
        for k, v in items:
            out.append(f"{k} = {v}")
        out.append("")
    return "\n".join(out)


def entry(**kw):
    """A controller=/exclude= value: entry(transport='tcp', traddr=..., host_iface='lo')."""
    return ";".join(f"{k.replace('_', '-')}={v}" for k, v in kw.items())


def stafd_conf(controllers=(), excludes=(), glob=(), dccm=(), zeroconf=False):
    return conf([
        ("Global", [("tron", "true")] + list(glob)),
        ("Service Discovery", [("zeroconf", "enabled" if zeroconf else "disabled")]),
        ("Discovery controller connection management", list(dccm)),
        ("Controllers", [("controller", c) for c in controllers] + [("exclude", e) for e in excludes]),
    ])


def stacd_conf(controllers=(), excludes=(), glob=(), iocm=()):
    return conf([
        ("Global", [("tron", "true")] + list(glob)),
        ("I/O controller connection management", list(iocm)),
        ("Controllers", [("controller", c) for c in controllers] + [("exclude", e) for e in excludes]),
    ])


def dc(traddr, entries=(), trsvcid="8009", **kw):
    """A scenario discovery controller with discovery log entries."""
    c = {"transport": "tcp", "traddr": traddr, "trsvcid": trsvcid, "cntrltype": "discovery",
         "dlp": {"genctr": 1, "entries": list(entries)}}
    c.update(kw)
    return c


def dlpe(traddr, subnqn, trsvcid="4420", subtype="nvme", eflags=0, portid=1, adrfam="ipv4"):
    return {"trtype": "tcp", "adrfam": adrfam, "subtype": subtype, "treq": 0, "portid": portid,
            "cntlid": 65535, "asqsz": 32, "eflags": eflags, "trsvcid": trsvcid, "subnqn": subnqn,
            "traddr": traddr}


def dhchap(nbytes, seed):
    """A well-formed DHHC-1 secret of nbytes key bytes (48 gives base64 '=' padding)."""
    key = bytes((seed * 7 + i * 13) & 0xFF for i in range(nbytes))
    crc = zlib.crc32(key).to_bytes(4, "little")
    hid = {32: "01", 48: "02", 64: "03"}[nbytes]
    return f"DHHC-1:{hid}:{base64.b64encode(key + crc).decode()}:"


def referral(traddr, trsvcid="8009"):
    return dlpe(traddr, WKNQN, trsvcid=trsvcid, subtype="referral")


# --------------------------------------------------------------------------------------------
# runner


class T:
    """Per-test context handed to test functions: the world plus check helpers."""

    def __init__(self, runner, name, world):
        self.runner, self.name, self.w = runner, name, world

    def check(self, cond, msg, fatal=True):
        self.runner.record(self.name, bool(cond), msg)
        if not cond and fatal:
            raise CheckFailed(msg)
        return bool(cond)

    def eq(self, got, want, msg, fatal=True):
        ok = got == want
        return self.check(ok, msg if ok else f"{msg}: got {got!r}, want {want!r}", fatal)

    def wait(self, pred, msg, timeout=None):
        """Wait for pred; record a passed check (or a failed one and stop)."""
        try:
            v = wait_for(pred, msg, timeout)
        except CheckFailed as e:
            self.runner.record(self.name, False, str(e))
            raise CheckFailed(str(e)) from None
        self.runner.record(self.name, True, msg)
        return v

    def note(self, s):
        """A measurement or remark: printed with the results and kept with the world's notes."""
        print(f"note {self.name}: {s}", flush=True)
        self.w.note(s)

    def stop_clean(self, daemon, sig=signal.SIGTERM):
        """Stop a daemon and check it exited 0 without sanitizer reports."""
        rc = daemon.stop(sig)
        self.eq(rc, 0, f"{daemon.name} exits with status 0 on {signal.Signals(sig).name}", fatal=False)
        self.check_logs(daemon)
        return rc

    def check_logs(self, daemon):
        for p, text in daemon.logs():
            bad = [l for l in text.splitlines()
                   if "ERROR: AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
            self.check(not bad, f"{os.path.basename(p)}: no sanitizer report"
                       + (f" ({bad[0].strip()})" if bad else ""), fatal=False)


class Runner:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.current_failed = False

    def record(self, test, ok, msg):
        print(f"{'ok  ' if ok else 'FAIL'} {test}: {msg}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.current_failed = True

    def run(self, tests, only=None):
        for fn in tests:
            name = fn.__name__.removeprefix("test_")
            if only and not any(o in name for o in only):
                continue
            self.current_failed = False
            world = None
            t = None
            try:
                world = World(name, getattr(fn, "bus_policy", "open"))
                t = T(self, name, world)
                fn(t)
                for d in list(world.daemons.values()) + world.helpers:
                    if d.alive():
                        t.stop_clean(d)
                    elif d.proc is not None:  # died on its own during the test
                        t.check(False, f"{d.name} exited unexpectedly (status {d.proc.returncode})",
                                fatal=False)
            except CheckFailed as e:
                if not self.current_failed:  # raised outside t.check/t.wait: record it here
                    self.record(name, False, str(e))
            except Exception:
                self.record(name, False, "exception:\n" + traceback.format_exc())
            finally:
                if world:
                    world.close()
                    if self.current_failed or os.environ.get("ITEST_VERBOSE"):
                        dump(world)
                    if self.current_failed and os.environ.get("ITEST_KEEP"):
                        print(f"     kept {world.dir}")
                    else:
                        world.remove()
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed or not self.passed else 0


def system_bus(fn):
    """Decorator: run the test on a system-bus-like private bus (Bus policy "system")."""
    fn.bus_policy = "system"
    return fn


def dump(world, tail=80):
    for n in world.notes:
        print(f"     note: {n}")
    for d in list(world.daemons.values()) + world.helpers:
        for p, text in d.logs():
            lines = text.splitlines()
            print(f"     ---- {os.path.basename(p)} (last {min(tail, len(lines))} of {len(lines)} lines)")
            for l in lines[-tail:]:
                print(f"     | {l}")
    if world.fk:
        cl = world.fk._log("connect.log")
        print(f"     ---- connect.log ({len(cl)} lines)")
        for l in cl[-30:]:
            print(f"     | {l}")


SKIP = 77  # meson's (and automake's) exit code for a skipped test


def main(tests):
    """Run the test functions (names on the command line select by substring).

    The daemons run as root (they open /dev/nvme-fabrics and own names on the bus, here through
    the fake kernel and a private bus): as another user the whole file skips with the reason
    (exit 77). tests/run counts a skip as a failure.
    """
    if os.geteuid() != 0:
        print("SKIP: the daemon integration tests run stafd and stacd as root; this user is not root")
        sys.exit(SKIP)
    only = sys.argv[1:]
    sys.exit(Runner().run(tests, only))
