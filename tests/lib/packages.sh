# The Debian 12 packages stas needs to build and test (runtime ones included: the integration and
# vm suites run the daemons, the vm suite boots a kernel under QEMU; clang-14 and its compiler-rt
# build the libFuzzer targets of the fuzz suite). Sourced by tests/run and
# tests/vm/demo; stas_install_packages installs the missing ones (as root, with apt-get).
stas_packages=(
        meson ninja-build pkg-config gcc clang-format valgrind scdoc clang-14 libclang-rt-14-dev gcovr
        libnvme-dev libjson-c-dev libssl-dev libsystemd-dev libudev-dev libavahi-client-dev libcmocka-dev
        dbus dbus-daemon python3 systemd libdbus-1-dev bash-completion debhelper dpkg-dev lintian
        qemu-system-x86 busybox-static cpio kmod xz-utils nvme-cli udev avahi-daemon avahi-utils iproute2
)

# stas_install_packages PROGRAM: apt-get install every package of stas_packages not installed yet;
# returns 1 (with a message naming PROGRAM) when some are missing and we are not root.
stas_install_packages() {
        local p missing=()
        for p in "${stas_packages[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} -gt 0 ] || return 0
        echo "$1: installing ${missing[*]}"
        if [ "$(id -u)" -ne 0 ]; then
                echo "$1: need root to apt-get install the packages above" >&2
                return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -q &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
