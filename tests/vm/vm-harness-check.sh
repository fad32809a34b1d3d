#!/bin/sh
# Harness self-check, run inside the vm guest: proves the kernel side the vm tier relies on with
# nvme-cli and udevadm only (no stas code): the fabrics option probe, the nvmet-tcp target,
# discovery, a host-iface-bound connection, and the AEN uevent re-broadcast by systemd-udevd.
C=$STAS_VM_NVMET
SUB2=nqn.2024-01.io.stas.test:harness-sub2
status=0

pass() { echo "VMCHECK $1 PASS $2"; }
fail() {
        echo "VMCHECK $1 FAIL $2"
        status=1
}
ctrl_by_nqn() { # $1 = subsysnqn: name of the first controller of that subsystem
        for d in /sys/class/nvme/nvme*; do
                [ -e "$d/subsysnqn" ] || continue
                [ "$(cat "$d/subsysnqn")" = "$1" ] && { basename "$d"; return 0; }
        done
        return 1
}

opts=$(cat /dev/nvme-fabrics 2>&1)
case $opts in
*host_iface=*discovery*) pass fabrics-options "host_iface and discovery offered" ;;
*) fail fabrics-options "got: $opts" ;;
esac

out=$(nvme discover -t tcp -a "$STAS_VM_TRADDR" -s "$STAS_VM_DISC_TRSVCID" 2>&1)
case $out in
*"$STAS_VM_SUB1"*) pass discover "log lists $STAS_VM_SUB1" ;;
*) fail discover "$out" ;;
esac

# udev events as a libudev monitor sees them (re-broadcast by systemd-udevd)
udevadm monitor --udev --property --subsystem-match=nvme >/tmp/udev-monitor.log 2>&1 &
mon=$!
sleep 1

nvme discover -t tcp -a "$STAS_VM_TRADDR" -s "$STAS_VM_DISC_TRSVCID" --persistent >/tmp/pdc.log 2>&1
dc=$(ctrl_by_nqn nqn.2014-08.org.nvmexpress.discovery)
if [ -n "$dc" ]; then pass persistent-dc "$dc: $(cat /sys/class/nvme/$dc/address)"; else fail persistent-dc "$(cat /tmp/pdc.log)"; fi

mkdir "$C/subsystems/$SUB2" && echo 1 >"$C/subsystems/$SUB2/attr_allow_any_host" &&
        ln -s "$C/subsystems/$SUB2" "$C/ports/$STAS_VM_DISC_PORT/subsystems/$SUB2"
i=0
while [ $i -lt 20 ] && ! grep -q 'NVME_AEN=0x70f002' /tmp/udev-monitor.log; do
        sleep 0.5
        i=$((i + 1))
done
if grep -q 'NVME_AEN=0x70f002' /tmp/udev-monitor.log; then
        pass aen-uevent "NVME_AEN=0x70f002 seen by a udev monitor after $((i / 2)) s"
else
        fail aen-uevent "no AEN; monitor saw: $(tr '\n' ' ' </tmp/udev-monitor.log | tail -c 600)"
fi
if [ -n "$dc" ]; then
        out=$(nvme discover "/dev/$dc" 2>&1)
        case $out in
        *"$SUB2"*) pass dlp-changed "log now lists $SUB2" ;;
        *) fail dlp-changed "$out" ;;
        esac
fi

out=$(nvme connect -t tcp -a "$STAS_VM_TRADDR" -s "$STAS_VM_IO_TRSVCID" -n "$STAS_VM_SUB1" --host-iface=lo 2>&1)
ioc=$(ctrl_by_nqn "$STAS_VM_SUB1")
if [ -n "$ioc" ]; then
        addr=$(cat /sys/class/nvme/$ioc/address)
        case $addr in
        *host_iface=lo*src_addr=127.0.0.1*) pass connect-host-iface "$ioc: $addr" ;;
        *) fail connect-host-iface "$ioc address: $addr" ;;
        esac
else
        fail connect-host-iface "$out"
fi

sleep 1
kill $mon 2>/dev/null
grep -q '^ACTION=add' /tmp/udev-monitor.log && grep -q 'NVME_HOST_IFACE=lo' /tmp/udev-monitor.log &&
        pass add-uevent "add uevent with NVME_HOST_IFACE=lo" ||
        fail add-uevent "$(tr '\n' ' ' </tmp/udev-monitor.log | tail -c 600)"

nvme disconnect -n "$STAS_VM_SUB1" >/dev/null 2>&1
[ -n "$dc" ] && nvme disconnect -d "$dc" >/dev/null 2>&1
left=$(ls /sys/class/nvme 2>/dev/null)
if [ -z "$left" ]; then pass disconnect "no controller left"; else fail disconnect "left: $left"; fi

echo VMCHECK-DONE
exit $status
