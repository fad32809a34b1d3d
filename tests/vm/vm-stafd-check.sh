#!/bin/sh
# stafd against the real kernel (run inside the vm guest): stafd started as its unit starts it,
# with the shipped stafd.conf plus one controller= line naming the nvmet discovery port; the
# discovery log reaches D-Bus (stafctl --json adlp); a subsystem linked to the ports is published
# within 2 s (AEN path); an mDNS-advertised DC on a dummy interface is connected with host-iface
# set; a restart with persistent-connections (the default) creates no new kernel DC.
. /usr/local/lib/stas-vm/lib.sh

SUB2=nqn.2024-01.io.stas.test:stafd-sub2
DISC=nqn.2014-08.org.nvmexpress.discovery
MDNS_ADDR=192.0.2.10

for b in /usr/sbin/stafd /usr/bin/stafctl; do
        [ -x $b ] || fail image "$b is missing"
done
[ $status -eq 0 ] || { echo VMCHECK-DONE; exit 1; }

# --- mDNS side: dum0 (multicast), an nvmet discovery port on it, avahi-daemon restricted to it
# (the image's avahi-daemon.conf allows only dum0). Started before stafd, as the unit orders it.
ip link add dum0 type dummy && ip link set dum0 multicast on &&
        ip addr add $MDNS_ADDR/24 dev dum0 && ip link set dum0 up || fail mdns-setup "cannot create dum0"
new_port 3 $MDNS_ADDR 8009 && link "$STAS_VM_SUB1" 3 || fail mdns-setup "cannot add the nvmet port on $MDNS_ADDR"
mkdir -p /run/avahi-daemon
avahi-daemon --no-drop-root --no-chroot --no-rlimits -D >/tmp/avahi.log 2>&1 || fail mdns-setup "avahi-daemon did not start"
wait_for 2000 bus_has org.freedesktop.Avahi || fail mdns-setup "avahi-daemon not on the system bus"

# --- stafd --------------------------------------------------------------------------------------
conf_with_controllers /etc/stas/stafd.conf /etc/stas/stafd.conf \
        "controller = transport=tcp;traddr=$STAS_VM_TRADDR;trsvcid=$STAS_VM_DISC_TRSVCID"
if start_daemon stafd; then
        pass stafd-start "org.nvmexpress.staf acquired (pid $stafd_pid)"
else
        fail stafd-start "$(tail -n 20 /tmp/stafd.log)"
        dump_logs
        echo VMCHECK-DONE
        exit 1
fi

# the configured DC: stafctl ls lists it with its kernel device, the kernel has it
ls_has_dc() {
        json_flat stafctl --json ls >/tmp/ls.json
        grep -q "\"traddr\":\"$STAS_VM_TRADDR\"" /tmp/ls.json &&
                grep -q "\"trsvcid\":\"$STAS_VM_DISC_TRSVCID\"" /tmp/ls.json &&
                grep -q '"device":"nvme[0-9]' /tmp/ls.json
}
kernel_dc() { # traddr trsvcid [host_iface]
        ctrl_table | awk -v a="traddr=$1,trsvcid=$2" -v i="${3:-}" -v d=$DISC \
                '$2 == d && index($3, a) && (i == "" || index($3, "host_iface=" i)) { print $1 }'
}
kernel_has_dc() { [ -n "$(kernel_dc "$@")" ]; }
if wait_for 3000 ls_has_dc && kernel_has_dc "$STAS_VM_TRADDR" "$STAS_VM_DISC_TRSVCID"; then
        dc=$(kernel_dc "$STAS_VM_TRADDR" "$STAS_VM_DISC_TRSVCID" | head -1)
        pass stafd-dc-connect "after ${WAITED} s: $dc $(cat /sys/class/nvme/$dc/address)"
else
        fail stafd-dc-connect "stafctl ls: $(cat /tmp/ls.json); kernel: $(ctrl_table | tr '\n' ';')"
fi

adlp_has() { json_flat stafctl --json adlp >/tmp/adlp.json && grep -q "\"subnqn\":\"$1\"" /tmp/adlp.json; }
if wait_for 3000 adlp_has "$STAS_VM_SUB1"; then
        pass stafd-adlp "stafctl --json adlp lists $STAS_VM_SUB1 after ${WAITED} s"
else
        fail stafd-adlp "$(head -c 800 /tmp/adlp.json)"
fi

# a new subsystem on the ports: AEN -> uevent -> stafd reads the log page -> D-Bus, within 2 s
new_subsys "$SUB2" 1 || fail stafd-aen-2s "cannot create $SUB2"
link "$SUB2" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
if wait_for 200 adlp_has "$SUB2"; then
        pass stafd-aen-2s "$SUB2 published on D-Bus ${WAITED} s after the link"
else
        # tell a slow path from a missing one
        if wait_for 3000 adlp_has "$SUB2"; then
                fail stafd-aen-2s "$SUB2 published only after 2 s + ${WAITED} s"
        else
                fail stafd-aen-2s "$SUB2 not published within 32 s: $(head -c 800 /tmp/adlp.json)"
        fi
fi

# --- mDNS: a DC advertised on dum0 is connected with host-iface=dum0 -----------------------------
avahi-publish -s SFSS _nvme-disc._tcp 8009 p=tcp >/tmp/avahi-publish.log 2>&1 &
pub=$!
ls_has_mdns() {
        json_flat stafctl --json ls >/tmp/ls.json
        awk -v RS='}' -v a="\"traddr\":\"$MDNS_ADDR\"" 'index($0, a) && index($0, "\"host_iface\":\"dum0\"") \
                && match($0, /"device":"nvme[0-9]/) { f = 1 } END { exit !f }' /tmp/ls.json
}
if wait_for 6000 ls_has_mdns; then
        pass stafd-mdns "stafctl ls shows the mDNS DC $MDNS_ADDR:8009 with host-iface dum0 after ${WAITED} s"
else
        fail stafd-mdns "stafctl ls: $(cat /tmp/ls.json); avahi-publish: $(cat /tmp/avahi-publish.log)"
fi
if wait_for 1000 kernel_has_dc $MDNS_ADDR 8009 dum0; then
        d=$(kernel_dc $MDNS_ADDR 8009 dum0 | head -1)
        pass stafd-mdns-host-iface "$d: $(cat /sys/class/nvme/$d/address)"
else
        fail stafd-mdns-host-iface "no kernel DC to $MDNS_ADDR:8009 with host_iface=dum0: $(ctrl_table | tr '\n' ';')"
fi

# --- restart with persistent-connections: the kernel DCs survive and are adopted --------------
before=$(dc_instances | tr '\n' ' ')
fence_start
stop_daemon stafd
during=$(dc_instances | tr '\n' ' ')
if start_daemon stafd && wait_for 3000 ls_has_dc && wait_for 3000 adlp_has "$SUB2"; then
        # the mDNS DC too, if it was there
        [ -z "$(kernel_dc $MDNS_ADDR 8009 dum0)" ] || wait_for 6000 ls_has_mdns
        after=$(dc_instances | tr '\n' ' ')
        first=$(dc_instances | head -1)
        if [ -z "$first" ]; then
                fail stafd-restart-persistent "no DC left in the kernel (before: $before)"
        elif ! fence_end "$first"; then
                fail stafd-restart-persistent "the marker uevent never arrived"
        elif [ "$before" != "$during" ] || [ "$before" != "$after" ]; then
                fail stafd-restart-persistent "DCs before: $before, while stopped: $during, after: $after"
        elif [ -n "$(fence_adds_removes)" ]; then
                fail stafd-restart-persistent "kernel add/remove during the restart: $(fence_adds_removes | tr '\n' ';')"
        else
                pass stafd-restart-persistent "same DC instances ($after), no controller added or removed"
        fi
else
        fail stafd-restart-persistent "stafd did not come back with its DCs: $(tail -n 20 /tmp/stafd.log)"
fi

if daemon_alive stafd; then pass stafd-alive "stafd still running"; else fail stafd-alive "stafd died"; fi
[ $status -eq 0 ] || dump_logs
kill $pub 2>/dev/null
echo VMCHECK-DONE
exit $status
