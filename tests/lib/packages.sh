# The Debian 12 packages stas needs to build and test (runtime ones included: the integration and
# vm suites run the daemons, the vm suite boots a kernel under QEMU; clang-14 and its compiler-rt
# build the libFuzzer targets of the fuzz suite). Sourced by tests/run and
# tests/vm/demo; stas_install_packages installs the missing ones (as root, with apt-get).
# to build stas (the pkg-config files of systemd, dbus-1 and bash-completion give the install
# directories), and cmocka: a build directory is set up with its unit tests
stas_build_packages=(
        meson ninja-build pkg-config gcc scdoc libcmocka-dev
        libnvme-dev libjson-c-dev libssl-dev libsystemd-dev libudev-dev libavahi-client-dev
        systemd libdbus-1-dev bash-completion
)
# to boot the vm tier and the demo: QEMU, and the host programs copied into the image
stas_vm_packages=(
        qemu-system-x86 busybox-static cpio kmod xz-utils nvme-cli udev avahi-daemon avahi-utils iproute2
        dbus dbus-daemon python3 debootstrap e2fsprogs
)
# only the tests: format, valgrind, fuzzing, coverage, the Debian package and lintian
stas_test_packages=(
        clang-format valgrind clang-14 libclang-rt-14-dev gcovr debhelper dpkg-dev lintian
        python3-prometheus-client
)
stas_packages=("${stas_build_packages[@]}" "${stas_vm_packages[@]}" "${stas_test_packages[@]}")

# stas_install_packages PROGRAM [PACKAGE...]: apt-get install every package of the list (default:
# stas_packages, all of them) not installed yet; returns 1 (with a message naming PROGRAM) when
# some are missing and we are not root.
stas_install_packages() {
        local p prog=$1 missing=()
        shift
        [ $# -gt 0 ] || set -- "${stas_packages[@]}"
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} -gt 0 ] || return 0
        echo "$prog: installing ${missing[*]}"
        if [ "$(id -u)" -ne 0 ]; then
                echo "$prog: need root to apt-get install the packages above" >&2
                return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -q &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
