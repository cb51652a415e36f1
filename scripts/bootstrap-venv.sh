#!/bin/sh
# Create the project's virtual environment, installing Debian's venv support if it is missing.
# Usage: bootstrap-venv.sh PYTHON VENV
set -eu
python=$1
venv=$2
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pip' 2>/dev/null; then
    exit 0
fi
rm -rf "$venv"
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    # Debian/Ubuntu split venv support out of python3 (package python3-venv / python3.X-venv).
    ver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    if command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: python's venv module is incomplete; installing python$ver-venv" >&2
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq "python$ver-venv" || $sudo apt-get install -y -qq python3-venv
        "$python" -m venv "$venv"
    else
        echo "bootstrap: '$python -m venv' failed; install your distribution's venv support for Python $ver" >&2
        exit 1
    fi
fi
