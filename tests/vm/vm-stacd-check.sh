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

# --- a log page over 4 KiB keeps its AENs coming ------------------------------------------------
# nvmet holds back discovery-change AENs until the log is read with RAE cleared; libnvme 1.3 left
# RAE set on the last chunk of a read over 4 KiB (4 records or more). Link 8 subsystems one at a
# time (9 records with the discovery subsystem itself, 9 KiB): stacd must connect each one after
# its AEN, and disconnect each again as they are unlinked one by one.
aen_ok=1
i=1
while [ $i -le 8 ]; do
        n=nqn.2024-01.io.stas.test:aen$i
        new_subsys "$n" 0 && link "$n" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT" || { aen_ok=0; say "cannot add $n"; break; }
        if ! wait_for 6000 has_ctrl "$n"; then
                fail stacd-aen-large-log "no controller to $n (record $((i + 1)) of the log page): $(ctrl_table | tr '\n' ';')"
                aen_ok=0
                break
        fi
        i=$((i + 1))
done
[ $aen_ok -eq 1 ] && pass stacd-aen-large-log "8 subsystems linked one at a time, each connected after its AEN (log page of 9 records)"
aen_ok=1
i=8
while [ $i -ge 1 ]; do
        n=nqn.2024-01.io.stas.test:aen$i
        unlink "$n" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT" 2>/dev/null
        if ! wait_for 6000 no_ctrl "$n"; then
                fail stacd-aen-large-log-unlink "$n still connected after its unlink: $(ctrl_table | tr '\n' ';')"
                aen_ok=0
                break
        fi
        i=$((i - 1))
done
[ $aen_ok -eq 1 ] && pass stacd-aen-large-log-unlink "unlinked one by one, each disconnected after its AEN"

# --- a subsystem NQN that would inject connect options (nvmet accepts ',' in an NQN) ------------
EVIL='nqn.2024-01.io.evil:x,host_traddr=203.0.113.9,nr_io_queues=1'
FENCE_NQN=nqn.2024-01.io.stas.test:after-evil
if new_subsys "$EVIL" 0 && link "$EVIL" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"; then
        # fence: a subsystem linked after it is connected, so the evil entry has been seen
        new_subsys "$FENCE_NQN" 0 && link "$FENCE_NQN" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
        if ! wait_for 6000 has_ctrl "$FENCE_NQN"; then
                fail stacd-evil-nqn "the fence subsystem was not connected: $(ctrl_table | tr '\n' ';')"
        elif has_ctrl "$EVIL" || ctrl_table | grep -q -e 203.0.113.9 -e nqn.2024-01.io.evil; then
                fail stacd-evil-nqn "a controller to the evil NQN exists: $(ctrl_table | tr '\n' ';')"
        elif ! grep -q "^<4>.*skipped 1 of .*subnqn 'nqn.2024-01.io.evil:x,host_traddr" /tmp/stafd.log; then
                fail stacd-evil-nqn "stafd did not warn about the entry: $(grep '^<4>' /tmp/stafd.log | tail -3 | tr '\n' ';')"
        else
                pass stacd-evil-nqn "nvmet lists '$EVIL'; stafd skips the entry with a warning, no controller carries it"
        fi
        unlink "$EVIL" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
        unlink "$FENCE_NQN" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
        wait_for 6000 no_ctrl "$FENCE_NQN" || say "fence subsystem still connected"
else
        fail stacd-evil-nqn "nvmet refused the subsystem '$EVIL'"
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
