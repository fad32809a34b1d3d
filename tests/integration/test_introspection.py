#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The introspection data stafd and stacd serve must match dbus/org.nvmexpress.{staf,stac}.xml:
the same org.nvmexpress.* interfaces, members, argument names, types and directions, and
property types and access (§4: a client written for nvme-stas works unchanged)."""

import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

STANDARD = ("org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer")


def model(xml_text):
    """{interface: {member key: description}} of a D-Bus introspection document."""
    root = ET.fromstring(xml_text)
    res = {}
    for itf in root.findall("interface"):
        m = {}
        for meth in itf.findall("method"):
            m["method " + meth.get("name")] = [(a.get("name"), a.get("type"), a.get("direction", "in"))
                                               for a in meth.findall("arg")]
        for sig in itf.findall("signal"):
            m["signal " + sig.get("name")] = [(a.get("name"), a.get("type")) for a in sig.findall("arg")]
        for prop in itf.findall("property"):
            m["property " + prop.get("name")] = (prop.get("type"), prop.get("access"))
        res[itf.get("name")] = m
    return res


def compare(t, svc, expected_file):
    path = os.path.join(os.environ.get("STAS_DBUS_XML_DIR", ""), expected_file)
    t.check(os.path.exists(path), f"{path} exists")
    with open(path) as f:
        want = model(f.read())
    xml = t.w.bus.call(svc, "Introspect", iface="org.freedesktop.DBus.Introspectable")[0]
    got = model(xml)
    for itf in STANDARD:
        t.check(itf in got, f"{svc[0]} serves {itf}", fatal=False)
    ours_want = {k for k in want if k.startswith("org.nvmexpress.")}
    ours_got = {k for k in got if k.startswith("org.nvmexpress.")}
    t.eq(sorted(ours_got), sorted(ours_want), f"{svc[0]}: the org.nvmexpress.* interfaces", fatal=False)
    for itf in sorted(ours_want & ours_got):
        w, g = want[itf], got[itf]
        t.eq(sorted(g), sorted(w), f"{itf}: member set", fatal=False)
        for member in sorted(set(w) & set(g)):
            t.eq(g[member], w[member], f"{itf}: {member} (argument names, types, directions / access)",
                 fatal=False)


def test_stafd_introspection(t):
    t.w.stafd(H.stafd_conf())
    compare(t, H.STAF, "org.nvmexpress.staf.xml")


def test_stacd_introspection(t):
    t.w.stacd(H.stacd_conf())
    compare(t, H.STAC, "org.nvmexpress.stac.xml")


if __name__ == "__main__":
    # Only the daemons that are built (meson defines this test when at least one is).
    H.main([fn for fn, exe in ((test_stafd_introspection, "STAFD"), (test_stacd_introspection, "STACD"))
            if os.environ.get(exe)])
