#!/bin/sh
# The guest side of tests/vm/demo: starts stafd and stacd as their units would, narrates what they
# see and do with the CLIs and nvme-cli, then adds a subsystem to the target and shows stacd
# connecting it. Each step also prints a VMCHECK line so the host can give a verdict.
. /usr/local/lib/stas-vm/lib.sh

NEW=nqn.2024-01.io.stas.demo:new-volume

step() {
        echo
        echo "################ $*"
}
show() {
        echo "# $*"
        "$@" 2>&1 | sed 's/^/    /'
}

step "The target: an nvmet-tcp target in this VM, discovery port $STAS_VM_TRADDR:$STAS_VM_DISC_TRSVCID, subsystem $STAS_VM_SUB1"
conf_with_controllers /etc/stas/stafd.conf /etc/stas/stafd.conf \
        "controller = transport=tcp;traddr=$STAS_VM_TRADDR;trsvcid=$STAS_VM_DISC_TRSVCID;host-iface=lo"
conf_set /etc/stas/stafd.conf "Service Discovery" zeroconf disabled
echo "# /etc/stas/stafd.conf (shipped file, one controller= line added):"
grep -v '^#' /etc/stas/stafd.conf | grep -v '^ *$' | sed 's/^/    /'

step "Starting stafd and stacd (as their systemd units: /usr/sbin/stafd, /usr/sbin/stacd, RUNTIME_DIRECTORY=/run/<daemon>)"
if start_daemon stafd && start_daemon stacd; then
        pass demo-start "stafd and stacd are on the system bus"
else
        fail demo-start "a daemon did not start"
        dump_logs
        echo VMCHECK-DONE
        exit 1
fi
wait_for 6000 has_ctrl "$STAS_VM_SUB1" && ioc_wait=$WAITED || ioc_wait=

step "stafd: the discovery controllers it manages"
show stafctl ls
dcs=$(dc_instances | tr '\n' ' ')
[ -n "$dcs" ] && pass demo-dc "discovery controller(s) in the kernel: $dcs" || fail demo-dc "no discovery controller"

step "stafd: the discovery log pages it retrieved"
show stafctl adlp
json_flat stafctl --json adlp | grep -q "\"subnqn\":\"$STAS_VM_SUB1\"" &&
        pass demo-adlp "the log page lists $STAS_VM_SUB1" || fail demo-adlp "$STAS_VM_SUB1 not in the log pages"

step "stacd: the I/O controllers it connected"
show stacctl ls
if [ -n "$ioc_wait" ]; then
        ioc=$(ctrls_by_nqn "$STAS_VM_SUB1" | head -1)
        pass demo-ioc "stacd connected $ioc to $STAS_VM_SUB1 (${ioc_wait} s after start): $(cat /sys/class/nvme/$ioc/address)"
else
        fail demo-ioc "no I/O controller to $STAS_VM_SUB1"
fi

step "The kernel's view (nvme-cli)"
show nvme list-subsys
show sh -c 'ls /dev | grep nvme'

step "Adding subsystem $NEW (one namespace) to the target; the target sends an AEN to stafd"
new_subsys "$NEW" 1 && link "$NEW" "$STAS_VM_DISC_PORT" "$STAS_VM_IO_PORT"
if wait_for 6000 has_ctrl "$NEW"; then
        c=$(ctrls_by_nqn "$NEW" | head -1)
        pass demo-new-subsys "stacd connected $c to $NEW ${WAITED} s after it appeared, without any restart"
else
        fail demo-new-subsys "$NEW was not connected within 60 s"
fi
show stacctl ls
show nvme list-subsys

[ $status -eq 0 ] || dump_logs
echo VMCHECK-DONE
exit $status
