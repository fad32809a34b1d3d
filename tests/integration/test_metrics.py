#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stafctl metrics / stacctl metrics (issue 11): the Prometheus text of live daemons, parsed with
prometheus_client (python3-prometheus-client; the test fails without it)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir("/usr/lib/python3/dist-packages"):  # Debian's package under another interpreter
    sys.path.append("/usr/lib/python3/dist-packages")
import harness as H  # noqa: E402
from harness import dc, dlpe, entry, stafd_conf, stacd_conf  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

A, B, IO1 = "192.0.2.10", "192.0.2.20", "192.0.2.101"
NQN1 = "nqn.2024-01.io.stas.test:sub1"


def scrape(t, w, cli):
    rc, out, err = w.cli(cli, "metrics")
    t.eq(rc, 0, f"{cli} metrics exits 0 {err.strip()}")
    fams = {f.name: f for f in text_string_to_metric_families(out)}
    names = [line.split()[2] for line in out.splitlines() if line.startswith("# TYPE")]
    t.eq(len(names), len(set(names)), f"{cli}: no family printed twice")
    return fams


def samples(fam, **labels):
    return [s for s in fam.samples if all(s.labels.get(k) == v for k, v in labels.items())]


def test_metrics(t):
    w = t.w
    w.fk.set_scenario({"controllers": [dc(A, [dlpe(IO1, NQN1)]),
                                       {"transport": "tcp", "traddr": B, "trsvcid": "8009",
                                        "connect_error": "ECONNREFUSED"}]})
    d = w.stafd(stafd_conf([entry(transport="tcp", traddr=A, trsvcid="8009"),
                            entry(transport="tcp", traddr=B, trsvcid="8009")]))
    t.wait(lambda: (d.find_controller(traddr=B) or {}).get("state") == "retrying", "the refused DC retries")
    t.wait(lambda: (d.find_controller(traddr=A) or {}).get("state") == "live", "the DC is live")
    t.wait(lambda: any(len(e.get("log-pages", [])) == 1 for e in d.get_all_log_pages(False)), "log page read")
    f = scrape(t, w, "stafctl")
    t.eq(f["stas_uptime_seconds"].type, "gauge", "stas_uptime_seconds is a gauge")
    t.eq(f["stas_controllers"].type, "gauge", "stas_controllers is a gauge")
    t.eq([s.value for s in samples(f["stas_controllers"], daemon="stafd", state="live", transport="tcp")], [1.0],
         "one live tcp DC")
    t.eq([s.value for s in samples(f["stas_controllers"], daemon="stafd", state="retrying", transport="tcp")], [1.0],
         "one retrying tcp DC")
    t.eq(f["stas_connect_failures"].type, "counter", "connect failures is a counter")
    t.check(samples(f["stas_connect_failures"], daemon="stafd", reason="ECONNREFUSED")[0].value >= 1,
            "connect failures reason ECONNREFUSED >= 1")
    t.check(samples(f["stas_connect_attempts"], transport="tcp")[0].value >= 2, "connect attempts by transport")
    t.check(samples(f["stas_log_page_reads"], result="ok")[0].value >= 1, "log page reads ok")
    t.check(samples(f["stas_log_page_bytes"])[0].value > 0, "log page bytes")
    for name in ("stas_reconnects", "stas_aens", "stas_dim_results"):
        t.check(name in f, f"stafd family {name} present")

    s = w.stacd(stacd_conf())
    g = scrape(t, w, "stacctl")
    t.check("stas_connect_attempts" in g and "stas_controllers" in g and "stas_aens" not in g,
            "stacctl metrics: the common families, not stafd's")
    t.check(all(x.labels.get("daemon") == "stacd" for x in g["stas_uptime_seconds"].samples),
            "stacd samples carry daemon=\"stacd\"")
    t.stop_clean(s)
    t.stop_clean(d)


TESTS = [test_metrics]

if __name__ == "__main__":
    H.main(TESTS)
