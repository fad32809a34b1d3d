#!/bin/sh
# The guest side of tests/vm/demo, in the systemd guest (run-sysvm): installs the stas package
# as an administrator would, lets debhelper enable and start stafd and stacd, points stafd at
# an nvmet-tcp target in this VM, and narrates what the services see and do with their CLIs,
# journalctl and nvme-cli; then adds a subsystem to the target and shows stacd connecting it.
# Each step also prints a VMCHECK line so the host can give a verdict.
# shellcheck disable=SC2034 # read by lib.sh
STAS_VM_NVMET=/sys/kernel/config/nvmet
# shellcheck source-path=SCRIPTDIR source=vm-lib.sh
. /root/stas-vm/lib.sh

TRADDR=127.0.0.1
DISC_TRSVCID=8009
SUB1=nqn.2024-01.io.stas.demo:volume-1
NEW=nqn.2024-01.io.stas.demo:new-volume

step() {
        echo
        echo "################ $*"
}
show() {
        echo "# $*"
        "$@" 2>&1 | sed 's/^/    /'
}

step "Installing the stas package: dpkg -i stas.deb (enables and starts stafd.service and stacd.service)"
show dpkg -i /root/stas.deb
show systemctl --no-pager status stafd.service stacd.service
if [ "$(systemctl is-active stafd.service stacd.service | tr '\n' ' ')" = "active active " ]; then
        pass demo-start "stafd.service and stacd.service are active"
else
        fail demo-start "the services are not active"
        echo VMCHECK-DONE
        exit 1
fi

step "The target: an nvmet-tcp target in this VM, discovery port $TRADDR:$DISC_TRSVCID, subsystem $SUB1"
modprobe nvmet && modprobe nvmet-tcp
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
mkdir -p /tmp/nvmet
new_subsys "$SUB1" 1 && new_port 1 $TRADDR $DISC_TRSVCID && link "$SUB1" 1

step "Configuring stafd: one controller= line in /etc/stas/stafd.conf, then systemctl reload stafd"
conf_with_controllers /etc/stas/stafd.conf /etc/stas/stafd.conf \
        "controller = transport=tcp;traddr=$TRADDR;trsvcid=$DISC_TRSVCID"
grep -v '^#' /etc/stas/stafd.conf | grep -v '^ *$' | sed 's/^/    /'
systemctl reload stafd.service
wait_for 6000 has_ctrl "$SUB1" && ioc_wait=$WAITED || ioc_wait=

step "stafd: the discovery controllers it manages"
show stafctl ls
dcs=$(dc_instances | tr '\n' ' ')
[ -n "$dcs" ] && pass demo-dc "discovery controller(s) in the kernel: $dcs" || fail demo-dc "no discovery controller"

step "stafd: the discovery log pages it retrieved"
show stafctl adlp
json_flat stafctl --json adlp | grep -q "\"subnqn\":\"$SUB1\"" &&
        pass demo-adlp "the log page lists $SUB1" || fail demo-adlp "$SUB1 not in the log pages"

step "stacd: the I/O controllers it connected"
show stacctl ls
if [ -n "$ioc_wait" ]; then
        ioc=$(ctrls_by_nqn "$SUB1" | head -1)
        pass demo-ioc "stacd connected $ioc to $SUB1 (${ioc_wait} s after the reload): $(cat /sys/class/nvme/"$ioc"/address)"
else
        fail demo-ioc "no I/O controller to $SUB1"
fi

step "The kernel's view (nvme-cli)"
show nvme list-subsys

step "Adding subsystem $NEW (one namespace) to the target; the target sends an AEN to stafd"
new_subsys "$NEW" 1 && link "$NEW" 1
if wait_for 6000 has_ctrl "$NEW"; then
        c=$(ctrls_by_nqn "$NEW" | head -1)
        pass demo-new-subsys "stacd connected $c to $NEW ${WAITED} s after it appeared, without any restart"
else
        fail demo-new-subsys "$NEW was not connected within 60 s"
fi
show stacctl ls

step "What the services told the journal: journalctl -u stafd -u stacd"
show journalctl --no-pager -o short-monotonic -u stafd -u stacd

echo VMCHECK-DONE
exit $status
