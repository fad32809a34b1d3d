#!/bin/sh
# The stas .deb under real systemd (run inside the guest of the vm tier's systemd test, by
# stas-vm-check.service once multi-user.target is up; see build-sysimage). Installs
# /root/stas.deb with dpkg (the postinst creates the host identity, debhelper enables and starts
# stafd and stacd), sets up an nvmet-tcp target on loopback, points stafd.conf at it and
# reloads stafd (sys-reload: ExecReload= works); the sandboxed units must connect the DC and the
# IOC. The host identity units recreate a missing file (sys-stas-config). While stafd runs,
# nvme-cli's udev autoconnect rule is masked (sys-udev-mask); a stacd restart and a stafd stop
# leave the IOC alone, and after the stop the rule works again (sys-udev-unmask). Finally the
# units' systemd-analyze security exposure.
# shellcheck disable=SC2034 # read by lib.sh
STAS_VM_NVMET=/sys/kernel/config/nvmet
# shellcheck source-path=SCRIPTDIR source=vm-lib.sh
. /root/stas-vm/lib.sh

DISC=nqn.2014-08.org.nvmexpress.discovery
SUB1=nqn.2024-01.io.stas.test:sysvm-sub1
TRADDR=127.0.0.1
DISC_TRSVCID=8009
IO_TRSVCID=4420
MAX_EXPOSURE=2.3

up() { cut -d' ' -f1 /proc/uptime; }
T0=$(up)
say "check started at ${T0}s"
step() { say "[$(up)s] $*"; }


show_units() {
        echo "--- systemctl status stafd stacd:"
        systemctl status --no-pager --lines=20 stafd.service stacd.service 2>&1 | tail -n 60
        echo "--- journalctl -u stafd -u stacd (last 60):"
        journalctl --no-pager -u stafd -u stacd -n 60 2>&1
        echo "--- controllers:"
        ctrl_table
}

# --- the second boot: sys-netdev-mount --------------------------------------------------------------
# The first boot left an ext4 file system on SUB1's namespace, an fstab entry for it with _netdev
# and a unit that rebuilds the nvmet target early (stas-vm-target.service). At this boot, systemd
# mounts it once stafd and stacd have connected the namespace: they come before
# remote-fs-pre.target, the mount after it.
STATE=/var/lib/stas-vm
MNT=/mnt/stas
if [ -f $STATE/second-boot ]; then
        step "second boot: $(grep _netdev /etc/fstab)"
        if wait_for 12000 mountpoint -q $MNT && [ "$(cat $MNT/marker 2>/dev/null)" = stas ]; then
                after=$(systemctl show -p After --value mnt-stas.mount)
                t_stacd=$(systemctl show -p ActiveEnterTimestampMonotonic --value stacd.service)
                t_mnt=$(systemctl show -p ActiveEnterTimestampMonotonic --value mnt-stas.mount)
                before=$(systemctl show -p Before --value stafd.service stacd.service | tr '\n' ' ')
                if echo "$after" | grep -q remote-fs-pre.target && [ "$t_stacd" -gt 0 ] && [ "$t_stacd" -lt "$t_mnt" ] &&
                        [ "$(echo "$before" | grep -o remote-fs-pre.target | wc -l)" -eq 2 ]; then
                        pass sys-netdev-mount "$MNT mounted at boot ($(findmnt -n -o SOURCE $MNT)), $(( (t_mnt - t_stacd) / 1000 )) ms after stacd.service was up; stafd and stacd are before remote-fs-pre.target, the mount unit after it"
                else
                        fail sys-netdev-mount "$MNT mounted, but stacd up at $t_stacd us, the mount at $t_mnt us; mnt-stas.mount After=$after; stafd, stacd Before=$before"
                fi
        else
                fail sys-netdev-mount "$MNT not mounted at boot: $(systemctl status --no-pager mnt-stas.mount 2>&1 | tail -n 8)"
                show_units
        fi
        echo VMCHECK-DONE
        exit $status
fi

# --- sys-pid1 -----------------------------------------------------------------------------------
exe=$(readlink /proc/1/exe)
case $exe in
*/systemd) pass sys-pid1 "PID 1 is $exe ($(systemctl --version | head -1))" ;;
*) fail sys-pid1 "PID 1 is $exe" ;;
esac
step "system state: $(systemctl is-system-running 2>&1)"

# --- sys-dpkg-install ------------------------------------------------------------------------------
step "dpkg -i /root/stas.deb"
t=$(up)
if dpkg -i /root/stas.deb >/tmp/dpkg.log 2>&1 && [ -s /etc/nvme/hostnqn ] && [ -s /etc/nvme/hostid ]; then
        pass sys-dpkg-install "$(dpkg-query -W -f='${Package} ${Version}' stas) in $(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s; hostnqn $(cat /etc/nvme/hostnqn), hostid $(cat /etc/nvme/hostid)"
else
        fail sys-dpkg-install "dpkg -i failed or no host identity:"
        cat /tmp/dpkg.log
        ls -l /etc/nvme
fi

# --- sys-enabled, sys-active ---------------------------------------------------------------------
# debhelper enabled them; what an administrator types works on top of that too
en=$(systemctl is-enabled stafd.service stacd.service 2>&1 | tr '\n' ' ')
if [ "$en" = "enabled enabled " ] && systemctl enable --now stafd stacd >/tmp/enable.log 2>&1; then
        pass sys-enabled "stafd, stacd: $en; systemctl enable --now stafd stacd: exit 0"
else
        fail sys-enabled "is-enabled stafd stacd: $en; enable --now: $(cat /tmp/enable.log)"
fi
both_active() {
        [ "$(systemctl is-active stafd.service stacd.service 2>&1 | tr '\n' ' ')" = "active active " ] &&
                busctl --system status org.nvmexpress.staf >/dev/null 2>&1 &&
                busctl --system status org.nvmexpress.stac >/dev/null 2>&1
}
if wait_for 6000 both_active; then
        pass sys-active "both active, org.nvmexpress.staf (pid $(systemctl show -p MainPID --value stafd)) and org.nvmexpress.stac (pid $(systemctl show -p MainPID --value stacd)) on the system bus"
else
        fail sys-active "is-active: $(systemctl is-active stafd.service stacd.service | tr '\n' ' ')"
        show_units
fi

# --- the target -----------------------------------------------------------------------------------
step "nvmet-tcp target on $TRADDR:$DISC_TRSVCID (discovery) and :$IO_TRSVCID"
target_ok=1
modprobe nvmet && modprobe nvmet-tcp || target_ok=
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config || target_ok=
mkdir -p /tmp/nvmet
if [ -n "$target_ok" ] && new_subsys "$SUB1" 1 && new_port 1 $TRADDR $DISC_TRSVCID &&
        new_port 2 $TRADDR $IO_TRSVCID && link "$SUB1" 1 2; then
        say "target ready"
else
        say "the nvmet target could not be set up"
        target_ok=
fi

# stafd.conf names the discovery port; the reload makes stafd (SIGHUP) connect it
conf_with_controllers /etc/stas/stafd.conf /etc/stas/stafd.conf \
        "controller = transport=tcp;traddr=$TRADDR;trsvcid=$DISC_TRSVCID"
grep -n '^controller' /etc/stas/stafd.conf
# sys-reload: the unit's ExecReload= must work on this system. If it does not, the check goes
# on with the signal ExecReload= would send (SIGHUP to the main process) for the other checks.
t=$(up)
reload_argv=$(systemctl show -p ExecReload --value stafd.service | sed -n 's/.*argv\[\]=\([^;]*\) ;.*/\1/p')
if systemctl reload stafd.service 2>/tmp/reload.err; then
        pass sys-reload "systemctl reload stafd (ExecReload=$reload_argv)"
else
        reload_exe=${reload_argv%% *}
        why=$(systemctl show -p ExecReload --value stafd.service | grep -o 'code=[a-z]* ; status=[0-9]*' | tr -d ';')
        [ -z "$reload_exe" ] || [ -x "$reload_exe" ] ||
                why="$why; $reload_exe does not exist ($(dpkg -S "$reload_exe" 2>&1 | head -1))"
        fail sys-reload "systemctl reload stafd: $(head -n 1 /tmp/reload.err) ExecReload=$reload_argv: $why (going on with systemctl kill -s HUP --kill-who=main)"
        systemctl kill -s HUP --kill-who=main stafd.service
fi

# --- sys-dc-connect, sys-ioc-connect -----------------------------------------------------------
if [ -n "$target_ok" ] && wait_for 6000 has_ctrl "$DISC"; then
        dc=$(ctrls_by_nqn "$DISC" | head -1)
        pass sys-dc-connect "$dc to $DISC $(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s after the reload: $(cat /sys/class/nvme/$dc/address)"
else
        fail sys-dc-connect "no discovery controller: $(ctrl_table | tr '\n' ';')"
        show_units
fi
ioc=
if [ -n "$target_ok" ] && wait_for 6000 has_ctrl "$SUB1"; then
        ioc=$(ctrls_by_nqn "$SUB1" | head -1)
        pass sys-ioc-connect "$ioc to $SUB1 $(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s after the reload: $(cat /sys/class/nvme/$ioc/address)"
else
        fail sys-ioc-connect "no controller to $SUB1: $(ctrl_table | tr '\n' ';')"
        show_units
fi
# stafd's STATUS= while it runs (sys-stop-stafd-keeps-iocs stops it before sys-status); STATUS=
# follows a change within a second
sleep 1.5
st_f_early=$(systemctl show -p StatusText --value stafd.service)

# --- sys-restart-stacd-keeps -------------------------------------------------------------------------
# the same controller (instance and cntlid) afterwards, and no add or remove uevent in between
ctrl_id() { echo "$1 cntlid $(cat /sys/class/nvme/$1/cntlid 2>/dev/null)"; }
if [ -n "$ioc" ]; then
        before=$(ctrl_id $ioc)
        pid0=$(systemctl show -p MainPID --value stacd)
        fence_start
        step "systemctl restart stacd"
        systemctl restart stacd.service
        wait_for 6000 both_active
        # time for a wrong reconnect or disconnect to show
        sleep 10
        pid1=$(systemctl show -p MainPID --value stacd)
        if fence_end "$ioc"; then
                ar=$(fence_adds_removes)
                after=$(ctrl_id $ioc)
                if [ -z "$ar" ] && [ "$after" = "$before" ] && [ "$pid1" != "$pid0" ] &&
                        [ "$(systemctl is-active stacd.service)" = active ]; then
                        pass sys-restart-stacd-keeps "stacd pid $pid0 -> $pid1, $after kept, no add/remove uevent"
                else
                        fail sys-restart-stacd-keeps "before: $before, after: $after, stacd pid $pid0 -> $pid1, uevents: $(echo "$ar" | tr '\n' ';')"
                        show_units
                fi
        else
                fail sys-restart-stacd-keeps "the uevent fence marker on $ioc was not seen"
        fi
else
        fail sys-restart-stacd-keeps "no IOC to keep"
fi

# --- sys-stas-config: the host identity units ------------------------------------------------------
# a missing host ID is made again by its instance; the target pulls both in; the old ID goes back
# afterwards (the connections were made with it)
cp /etc/nvme/hostid /tmp/hostid.before
rm -f /etc/nvme/hostid
if systemctl start stas-config@hostid.service && [ -s /etc/nvme/hostid ] &&
        ! cmp -s /etc/nvme/hostid /tmp/hostid.before &&
        systemctl start stas-config.target && [ "$(systemctl is-active stas-config.target)" = active ] &&
        [ "$(systemctl show -p Result --value stas-config@hostnqn.service)" = success ]; then
        pass sys-stas-config "stas-config@hostid.service made $(cat /etc/nvme/hostid); stas-config.target active"
else
        fail sys-stas-config "hostid: $(cat /etc/nvme/hostid 2>&1); target: $(systemctl is-active stas-config.target)"
        systemctl status --no-pager stas-config@hostid.service stas-config.target 2>&1 | tail -n 20
fi
cp /tmp/hostid.before /etc/nvme/hostid

# --- sys-udev-mask: nvme-cli's autoconnect rule is masked while stafd runs -------------------------
# stafd puts its override of nvme-cli's rule into /run/udev/rules.d; a discovery log change then
# reaches stafd and stacd only (one connection to the new subsystem, no nvmf-connect@ started)
SUB2=nqn.2024-01.io.stas.test:sysvm-sub2
nvmf_connects() { journalctl --no-pager -q -o cat -u 'nvmf-connect@*' 2>/dev/null | grep -c 'Started' || true; }
one_ctrl() { [ "$(ctrls_by_nqn "$1" | wc -l)" -eq 1 ]; }
if [ -f /lib/udev/rules.d/70-nvmf-autoconnect.rules ] && [ -f /run/udev/rules.d/70-nvmf-autoconnect.rules ] &&
        [ -n "$target_ok" ] && new_subsys "$SUB2" 1 && link "$SUB2" 1 &&
        wait_for 6000 has_ctrl "$SUB2"; then
        sleep 5 # time for a duplicate from nvme-cli's rule to show
        n=$(nvmf_connects)
        if one_ctrl "$SUB2" && [ "$n" -eq 0 ]; then
                pass sys-udev-mask "$(ctrls_by_nqn "$SUB2") to $SUB2, the only one; no nvmf-connect@ started"
        else
                fail sys-udev-mask "controllers to $SUB2: $(ctrls_by_nqn "$SUB2" | tr '\n' ' '); nvmf-connect@ started $n time(s)"
        fi
else
        fail sys-udev-mask "nvme-cli's rule: $(ls /lib/udev/rules.d/70-nvmf-autoconnect.rules 2>&1); stafd's override: $(ls /run/udev/rules.d/ 2>&1); $SUB2: $(ctrls_by_nqn "$SUB2")"
fi

# --- sys-stop-stafd-keeps-iocs ----------------------------------------------------------------------
if [ -n "$ioc" ]; then
        before=$(ctrl_id $ioc)
        fence_start
        step "systemctl stop stafd"
        systemctl stop stafd.service
        sleep 10
        if fence_end "$ioc"; then
                removed=$(fence_adds_removes | grep " remove .*/$ioc (nvme)" || true)
                after=$(ctrl_id $ioc)
                st=$(systemctl is-active stafd.service)
                if [ -z "$removed" ] && [ "$after" = "$before" ] && [ "$st" = inactive ]; then
                        pass sys-stop-stafd-keeps-iocs "stafd $st, $after kept (stacd $(systemctl is-active stacd.service)); other uevents: $(fence_adds_removes | sed 's/.*\] //' | tr '\n' ';')"
                else
                        fail sys-stop-stafd-keeps-iocs "stafd $st, before: $before, after: $after, uevents: $(fence_adds_removes | tr '\n' ';')"
                        show_units
                fi
        else
                fail sys-stop-stafd-keeps-iocs "the uevent fence marker on $ioc was not seen"
        fi
else
        fail sys-stop-stafd-keeps-iocs "no IOC to keep"
fi

# --- sys-udev-unmask: after stafd stops, nvme-cli's rule works again --------------------------------
# the override is gone, and a discovery log change on the DC stafd left connected starts nvmf-connect@
SUB3=nqn.2024-01.io.stas.test:sysvm-sub3
started_connect() { [ "$(nvmf_connects)" -gt 0 ]; }
if [ ! -e /run/udev/rules.d/70-nvmf-autoconnect.rules ] && [ -n "$target_ok" ] && has_ctrl "$DISC" &&
        new_subsys "$SUB3" 1 && link "$SUB3" 1 && wait_for 6000 started_connect; then
        pass sys-udev-unmask "override removed; the AEN started nvmf-connect@ ($(journalctl --no-pager -q -o cat -u 'nvmf-connect@*' | grep -m1 Started))"
else
        fail sys-udev-unmask "override: $(ls /run/udev/rules.d/ 2>&1); DC: $(ctrls_by_nqn "$DISC"); nvmf-connect@ started $(nvmf_connects) time(s)"
fi

# --- sys-journal ----------------------------------------------------------------------------------
# the daemon's own lines (not systemd's "Started ..." line) about the connection to SUB1
journalctl --no-pager -o cat _SYSTEMD_UNIT=stacd.service SYSLOG_IDENTIFIER=stacd >/tmp/stacd.journal 2>&1
line=$(grep -i 'connect' /tmp/stacd.journal | grep -F "$SUB1" | head -1)
if [ -n "$line" ]; then
        pass sys-journal "journalctl -u stacd: $line"
else
        fail sys-journal "no stacd journal line about connecting $SUB1 ($(wc -l </tmp/stacd.journal) lines from stacd):"
        tail -n 30 /tmp/stacd.journal
fi

# --- sys-journal-fields: the native journal entry of the connect, found by its fields -------------
# (MESSAGE_ID "connected" of include/stas/message-ids.h, listed in stas(7))
n=$(journalctl --no-pager -q -o cat _SYSTEMD_UNIT=stacd.service MESSAGE_ID=05e0cd75619843858ae2de4314203990 \
        NVME_SUBSYSNQN="$SUB1" NVME_TRTYPE=tcp 2>/dev/null | grep -c . || true)
if [ "${n:-0}" -ge 1 ]; then
        pass sys-journal-fields "journalctl MESSAGE_ID=<connected> NVME_SUBSYSNQN=$SUB1: $n entries from stacd"
else
        fail sys-journal-fields "no stacd entry with the connected MESSAGE_ID and NVME_SUBSYSNQN=$SUB1:"
        journalctl --no-pager -o verbose _SYSTEMD_UNIT=stacd.service -n 5 2>&1 | tail -n 40
fi

# --- sys-status: STATUS= says what the daemons do --------------------------------------------------
st_f=$st_f_early # read while stafd ran
st_c=$(systemctl show -p StatusText --value stacd.service)
case "$st_f|$st_c" in
*" DCs connected"*"|"*" I/O controllers connected"*) pass sys-status "stafd: $st_f; stacd: $st_c" ;;
*) fail sys-status "StatusText: stafd: '$st_f', stacd: '$st_c'" ;;
esac

# --- sys-security ----------------------------------------------------------------------------------
sec_ok=1
sec_msg=
for u in stafd stacd; do
        systemd-analyze security --no-pager $u.service >/tmp/sec-$u.txt 2>&1
        lvl=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p' /tmp/sec-$u.txt | tail -1)
        say "$u.service: $(tail -n 1 /tmp/sec-$u.txt)"
        if [ -z "$lvl" ]; then
                sec_ok=
                sec_msg="$sec_msg $u: no exposure level;"
                tail -n 5 /tmp/sec-$u.txt
        else
                sec_msg="$sec_msg $u $lvl;"
                awk -v l="$lvl" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' || {
                        sec_ok=
                        echo "--- systemd-analyze security $u.service, the exposed items:"
                        grep -E '^✗' /tmp/sec-$u.txt | head -n 40
                }
        fi
done
if [ -n "$sec_ok" ]; then
        pass sys-security "exposure (max $MAX_EXPOSURE):$sec_msg"
else
        fail sys-security "exposure above $MAX_EXPOSURE or unknown:$sec_msg"
fi

# --- sys-netdev-setup: what the second boot mounts ---------------------------------------------------
# an ext4 file system on SUB1's namespace with a marker file, an fstab entry with _netdev, the
# target's backing file on disk and a unit that rebuilds the target before stafd starts
ns_dev() { # $1 = subsystem NQN: the block device of its namespace
        for b in /sys/block/nvme*n*; do
                # the multipath head (nvmeXnY), not a hidden path (nvmeXcZnY, no device node)
                [ -b "/dev/${b##*/}" ] && [ -e "$b/device/subsysnqn" ] || continue
                [ "$(cat "$b/device/subsysnqn")" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
        done
        return 1
}
netdev_setup() {
        dev=$(ns_dev "$SUB1") || { echo "no block device for $SUB1: $(ls /sys/block)"; return 1; }
        mkfs.ext4 -q -F "$dev" || return 1
        mkdir -p $MNT $STATE && mount "$dev" $MNT && echo stas >$MNT/marker && umount $MNT || return 1
        uuid=$(tune2fs -l "$dev" | sed -n 's/^Filesystem UUID: *//p')
        [ -n "$uuid" ] || return 1
        echo "UUID=$uuid $MNT ext4 _netdev 0 0" >>/etc/fstab
        sync
        cp "/tmp/nvmet/$SUB1-1.img" $STATE/sub1.img || return 1
        cat >$STATE/target.sh <<TARGET
modprobe nvmet && modprobe nvmet-tcp || exit 1
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
C=/sys/kernel/config/nvmet
mkdir \$C/subsystems/$SUB1 \$C/subsystems/$SUB1/namespaces/1 \$C/ports/1
echo 1 >\$C/subsystems/$SUB1/attr_allow_any_host
echo $STATE/sub1.img >\$C/subsystems/$SUB1/namespaces/1/device_path
echo 1 >\$C/subsystems/$SUB1/namespaces/1/enable
echo tcp >\$C/ports/1/addr_trtype
echo ipv4 >\$C/ports/1/addr_adrfam
echo $TRADDR >\$C/ports/1/addr_traddr
echo $DISC_TRSVCID >\$C/ports/1/addr_trsvcid
ln -s \$C/subsystems/$SUB1 \$C/ports/1/subsystems/$SUB1
TARGET
        cat >/etc/systemd/system/stas-vm-target.service <<UNIT
[Unit]
Description=stas vm tier: the nvmet target of the systemd test
DefaultDependencies=no
After=local-fs.target
Before=stafd.service stacd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh $STATE/target.sh

[Install]
WantedBy=multi-user.target
UNIT
        systemctl enable stas-vm-target.service >/dev/null 2>&1 || return 1
        # stafd is stopped (above): at boot it starts enabled, as after an installation
        systemctl is-enabled stafd.service stacd.service >/dev/null || return 1
        touch $STATE/second-boot
        echo "$dev, UUID=$uuid"
}
reboot_next=
if [ -n "$ioc" ] && out=$(netdev_setup 2>&1); then
        pass sys-netdev-setup "ext4 on $out in /etc/fstab with _netdev; the target comes back at boot"
        reboot_next=1
else
        fail sys-netdev-setup "$out"
fi

say "check done at $(up)s ($(awk -v a="$T0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s after it started)"
[ $status -eq 0 ] || show_units
if [ -n "$reboot_next" ] && [ $status -eq 0 ]; then
        echo VMCHECK-REBOOT # the host boots this image again: sys-netdev-mount
else
        echo VMCHECK-DONE
fi
exit $status
