#!/bin/sh
# stacd with stafd against the real kernel (run inside the vm guest), both started as their units
# start them. stafd.conf names the nvmet discovery port with host-iface=lo; stacd connects the
# I/O subsystem from the discovery log (the IOC inherits host_iface=lo) and its namespaces appear
# as block devices; a subsystem linked to the ports later is connected without any restart, and
# disconnected again when unlinked (default disconnect-scope only-stas-connections); a stacd
# restart keeps the kernel controllers (same instances, no add/remove uevent).
. /usr/local/lib/stas-vm/lib.sh

SUB3=nqn.2024-01.io.stas.test:stacd-sub3

for b in /usr/sbin/stafd /usr/bin/stafctl /usr/sbin/stacd /usr/bin/stacctl; do
        [ -x $b ] || fail image "$b is missing"
done
[ $status -eq 0 ] || { echo VMCHECK-DONE; exit 1; }

conf_with_controllers /etc/stas/stafd.conf /etc/stas/stafd.conf \
        "controller = transport=tcp;traddr=$STAS_VM_TRADDR;trsvcid=$STAS_VM_DISC_TRSVCID;host-iface=lo"
# no avahi-daemon in this test
conf_set /etc/stas/stafd.conf "Service Discovery" zeroconf disabled

if start_daemon stafd && start_daemon stacd; then
        pass stacd-start "stafd (pid $stafd_pid) and stacd (pid $stacd_pid) on the bus"
else
        fail stacd-start "a daemon did not start"
        dump_logs
        echo VMCHECK-DONE
        exit 1
fi

# --- the I/O controller of the discovered subsystem ------------------------------------------
if wait_for 6000 has_ctrl "$STAS_VM_SUB1"; then
        ioc=$(ctrls_by_nqn "$STAS_VM_SUB1" | head -1)
        addr=$(cat /sys/class/nvme/$ioc/address)
        pass stacd-ioc-connect "$ioc to $STAS_VM_SUB1 after ${WAITED} s"
        case $addr in
        *host_iface=lo*) pass stacd-ioc-host-iface "$ioc: $addr" ;;
        *) fail stacd-ioc-host-iface "$ioc address has no host_iface=lo: $addr" ;;
        esac
else
        ioc=
        fail stacd-ioc-connect "no controller to $STAS_VM_SUB1: $(ctrl_table | tr '\n' ';')"
fi

namespaces() { # $1 = nvmeN: its namespace block devices, by name. With native multipath the
        # controller holds path devices nvme<S>c<C>n<N> whose block device is the head nvme<S>n<N>.
        ls "/sys/class/nvme/$1" 2>/dev/null | grep -E '^nvme[0-9]+(c[0-9]+)?n[0-9]+$' |
                sed -E 's/c[0-9]+n/n/' | sort -u
}
ns_present() { # $1 = nvmeN: at least one namespace block device with its /dev node
        local n
        for n in $(namespaces "$1"); do [ -b "/dev/$n" ] && return 0; done
        return 1
}
if [ -n "$ioc" ] && wait_for 3000 ns_present "$ioc"; then
        pass stacd-namespace "$(for n in $(namespaces $ioc); do printf '/dev/%s ' $n; done)($(cat /sys/block/$(namespaces $ioc | head -1)/size 2>/dev/null) sectors)"
else
        fail stacd-namespace "no namespace block device for ${ioc:-the IOC}: /sys/block: $(ls /sys/block | tr '\n' ' ')"
fi

ls_has() { # $1 = subsysnqn: stacctl ls lists it with a kernel device
        json_flat stacctl --json ls >/tmp/stacls.json
        awk -v RS='}' -v n="\"subsysnqn\":\"$1\"" 'index($0, n) && match($0, /"device":"nvme[0-9]/) { f = 1 }
                END { exit !f }' /tmp/stacls.json
}
if wait_for 3000 ls_has "$STAS_VM_SUB1"; then
        pass stacd-ls "stacctl --json ls lists $STAS_VM_SUB1 with its device"
else
        fail stacd-ls "$(head -c 800 /tmp/stacls.json)"
fi

# --- a subsystem linked later is connected, and disconnected once unlinked ---------------------
pid0=$stacd_pid
new_subsys "$SUB3" 1 && link "$SUB3" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT" || fail stacd-new-subsys "cannot add $SUB3"
c3=
if wait_for 6000 has_ctrl "$SUB3" && [ "$stacd_pid" = "$pid0" ] && daemon_alive stacd; then
        c3=$(ctrls_by_nqn "$SUB3" | head -1)
        pass stacd-new-subsys "$c3 to $SUB3 ${WAITED} s after the link, no restart: $(cat /sys/class/nvme/$c3/address)"
else
        fail stacd-new-subsys "no controller to $SUB3: $(ctrl_table | tr '\n' ';')"
fi
# (the target drops its side on unlink; the host controller then stays, reconnecting, until
# ctrl-loss-tmo: only a disconnect by stacd removes it within the deadline)
unlink "$SUB3" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
if [ -z "$c3" ]; then
        fail stacd-unlinked-disconnect "$SUB3 was never connected, nothing to disconnect"
elif wait_for 6000 no_ctrl "$SUB3"; then
        pass stacd-unlinked-disconnect "$SUB3 disconnected ${WAITED} s after the unlink"
else
        fail stacd-unlinked-disconnect "still connected: $(ctrl_table | tr '\n' ';')"
fi

# --- restart: stacd adopts the kernel controllers, no reconnect --------------------------------
iocs() { ctrl_table | awk '$2 != "nqn.2014-08.org.nvmexpress.discovery" { print $1 "=" $2 }' | tr '\n' ' '; }
before=$(iocs)
fence_start
stop_daemon stacd
during=$(iocs)
if start_daemon stacd && wait_for 3000 ls_has "$STAS_VM_SUB1"; then
        # room for a wrong reconnect or disconnect to happen before the fence (not a time bound)
        sleep 3
        after=$(iocs)
        first=$(ctrls_by_nqn "$STAS_VM_SUB1" | head -1)
        if [ -z "$first" ]; then
                fail stacd-restart-no-reconnect "no IOC left (before: $before, while stopped: $during)"
        elif ! fence_end "$first"; then
                fail stacd-restart-no-reconnect "the marker uevent never arrived"
        elif [ "$before" != "$during" ] || [ "$before" != "$after" ]; then
                fail stacd-restart-no-reconnect "IOCs before: $before, while stopped: $during, after: $after"
        elif [ -n "$(fence_adds_removes)" ]; then
                fail stacd-restart-no-reconnect "kernel add/remove during the restart: $(fence_adds_removes | tr '\n' ';')"
        else
                pass stacd-restart-no-reconnect "same instances ($after), no controller added or removed"
        fi
else
        fail stacd-restart-no-reconnect "stacd did not come back with $STAS_VM_SUB1: $(tail -n 20 /tmp/stacd.log)"
fi

if daemon_alive stacd && daemon_alive stafd; then
        pass stacd-alive "stafd and stacd still running"
else
        fail stacd-alive "a daemon died (stafd pid ${stafd_pid:-?}, stacd pid ${stacd_pid:-?})"
fi
[ $status -eq 0 ] || dump_logs
echo VMCHECK-DONE
exit $status
