# Shell helpers shared by the daemon checks of the vm tier (sourced inside the guest, busybox sh).
# Installed in the image as /usr/local/lib/stas-vm/lib.sh. Provides the VMCHECK reporting, waits
# with deadlines, nvmet target edits, the daemons started as their units start them, and the
# uevent fence used to prove that no controller was created or removed.
C=$STAS_VM_NVMET
status=0

pass() { echo "VMCHECK $1 PASS $2"; }
fail() {
        echo "VMCHECK $1 FAIL $2"
        status=1
}
say() { echo "vm-check: $*"; }

# centiseconds since boot (busybox date has no sub-second format)
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

# wait_for CENTISECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds or the deadline
# passes; returns its last status. WAITED holds the time taken, in seconds with two decimals.
wait_for() {
        local limit=$1 t0 t
        shift
        t0=$(now_cs)
        while :; do
                if "$@"; then
                        t=$(($(now_cs) - t0))
                        WAITED=$(printf '%d.%02d' $((t / 100)) $((t % 100)))
                        return 0
                fi
                t=$(($(now_cs) - t0))
                WAITED=$(printf '%d.%02d' $((t / 100)) $((t % 100)))
                [ $t -ge "$limit" ] && return 1
                sleep 0.1
        done
}

# --- the kernel side ------------------------------------------------------------------------------

# controllers of a subsystem NQN: "nvmeN" names, one a line
ctrls_by_nqn() {
        local d
        for d in /sys/class/nvme/nvme*; do
                [ -e "$d/subsysnqn" ] || continue
                [ "$(cat "$d/subsysnqn")" = "$1" ] && basename "$d"
        done
        return 0
}
# every controller instance with its subsystem and address, sorted: one "nvmeN nqn address" a line
ctrl_table() {
        local d
        for d in /sys/class/nvme/nvme*; do
                [ -e "$d/subsysnqn" ] || continue
                echo "$(basename "$d") $(cat "$d/subsysnqn") $(cat "$d/address" | tr -d '\n')"
        done | sort
}
dc_instances() { ctrl_table | awk '$2 == "nqn.2014-08.org.nvmexpress.discovery" { print $1 }'; }
has_ctrl() { [ -n "$(ctrls_by_nqn "$1")" ]; }
no_ctrl() { [ -z "$(ctrls_by_nqn "$1")" ]; }

# new_subsys NQN [NS]: an nvmet subsystem open to any host, with NS file-backed namespaces
new_subsys() {
        local n
        mkdir "$C/subsystems/$1" || return 1
        echo 1 >"$C/subsystems/$1/attr_allow_any_host"
        for n in $(seq 1 "${2:-0}"); do
                truncate -s 16M "/tmp/nvmet/$1-$n.img"
                mkdir "$C/subsystems/$1/namespaces/$n"
                echo "/tmp/nvmet/$1-$n.img" >"$C/subsystems/$1/namespaces/$n/device_path"
                echo 1 >"$C/subsystems/$1/namespaces/$n/buffered_io"
                echo 1 >"$C/subsystems/$1/namespaces/$n/enable" || return 1
        done
}
# link NQN PORT... / unlink NQN PORT...: expose or withdraw a subsystem on nvmet ports (the
# discovery log of a port changes and an AEN goes to the connected discovery controllers)
link() {
        local s=$1 p
        shift
        for p in "$@"; do ln -s "$C/subsystems/$s" "$C/ports/$p/subsystems/$s" || return 1; done
}
unlink() {
        local s=$1 p
        shift
        for p in "$@"; do rm "$C/ports/$p/subsystems/$s" || return 1; done
}
# new_port ID TRADDR TRSVCID
new_port() {
        mkdir "$C/ports/$1" || return 1
        echo tcp >"$C/ports/$1/addr_trtype"
        echo ipv4 >"$C/ports/$1/addr_adrfam"
        echo "$2" >"$C/ports/$1/addr_traddr"
        echo "$3" >"$C/ports/$1/addr_trsvcid"
}

# --- the daemons, started as their systemd units start them -----------------------------------
# The units run "@SBINDIR@/<daemon> --syslog" with RuntimeDirectory=<daemon>; the guest has no
# syslog, so the daemons run without --syslog (stderr to /tmp/<daemon>.log) and with
# RUNTIME_DIRECTORY=/run/<daemon> (kept across restarts, RuntimeDirectoryPreserve=yes).

# start_daemon NAME: start /usr/sbin/NAME in the background; waits until it owns its bus name
start_daemon() {
        local name=$1 bus pid
        case $name in
        stafd) bus=org.nvmexpress.staf ;;
        stacd) bus=org.nvmexpress.stac ;;
        esac
        mkdir -p "/run/$name"
        echo "--- $name started at $(cut -d' ' -f1 /proc/uptime)" >>"/tmp/$name.log"
        RUNTIME_DIRECTORY=/run/$name "/usr/sbin/$name" >>"/tmp/$name.log" 2>&1 &
        pid=$!
        eval "${name}_pid=$pid"
        wait_for 3000 bus_has "$bus" || {
                say "$name did not acquire $bus within 30 s"
                return 1
        }
        kill -0 "$pid" 2>/dev/null
}
bus_has() { busctl --system list --no-pager 2>/dev/null | grep -q "^$1 "; }

# stop_daemon NAME: SIGTERM (as systemctl stop does) and wait for the exit
stop_daemon() {
        local name=$1 pid
        eval "pid=\${${name}_pid:-}"
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null
        wait_for 3000 eval "! kill -0 $pid 2>/dev/null" || {
                say "$name did not exit within 30 s after SIGTERM"
                kill -KILL "$pid" 2>/dev/null
        }
        wait "$pid" 2>/dev/null
        eval "${name}_pid="
}
daemon_alive() {
        local pid
        eval "pid=\${${1}_pid:-}"
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# conf_with_controllers SRC DEST LINE...: the shipped default config with LINEs added to its
# [Controllers] section
conf_with_controllers() {
        local src=$1 dest=$2 l
        shift 2
        cp "$src" "$dest.tmp"
        for l in "$@"; do sed -i "/^\[Controllers\]/a $l" "$dest.tmp"; done
        mv "$dest.tmp" "$dest"
}
# conf_set FILE SECTION KEY VALUE: add KEY = VALUE right after [SECTION]
conf_set() { sed -i "/^\[$2\]/a $3 = $4" "$1"; }

# JSON from the CLIs, flattened to one line without blanks for substring tests
json_flat() { "$@" 2>&1 | tr -d ' \n\t'; }

# --- the uevent fence ------------------------------------------------------------------------
# fence_start: record every nvme kernel uevent from now on. fence_end: emit a marker uevent
# (change on a controller) and wait until the monitor saw it; everything the kernel emitted
# before the marker is then in FENCE_LOG, so "no add/remove before the marker" proves that no
# controller was created or deleted in between, without any timing assumption.
fence_start() {
        FENCE_LOG=/tmp/fence.$$.log
        udevadm monitor --kernel --subsystem-match=nvme >"$FENCE_LOG" 2>&1 &
        fence_pid=$!
        sleep 1
}
fence_end() { # $1 = a controller that exists (nvmeN)
        echo change >"/sys/class/nvme/$1/uevent"
        wait_for 3000 grep -q "change.*/$1 (nvme)" "$FENCE_LOG"
        local r=$?
        kill "$fence_pid" 2>/dev/null
        wait "$fence_pid" 2>/dev/null
        return $r
}
fence_adds_removes() { grep -E '\] (add|remove) ' "$FENCE_LOG" || true; }

dump_logs() {
        local f
        for f in /tmp/stafd.log /tmp/stacd.log /tmp/avahi.log; do
                [ -s "$f" ] || continue
                echo "--- $f (last 40 lines):"
                tail -n 40 "$f"
        done
        echo "--- controllers:"
        ctrl_table
}
