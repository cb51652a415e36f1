#!/bin/sh
# Install wheel2conda with conda, from a local channel the tool makes of its own wheel and its
# PyPI dependencies.  Needs the network (pip download) and a conda; not part of `make test`
# (tests/test_install_outside.py is the network-free version, with py-rattler).
# What it printed with conda 26.7.1: docs/conda.md.
#
#   scripts/conda-self-install.sh [WORK]        (default WORK: .work/conda-self-install)
#
# Environment:
#   CONDA           how to run conda (default: conda; e.g. "venv-conda/bin/python -m conda")
#   PYTHON_CHANNEL  where conda finds python (default: a stand-in channel for this machine's
#                   interpreter, built into WORK/pychan; a conda user gives conda-forge)
#   CONDA_SRC, MENUINST_SRC   source trees of conda and menuinst: also convert conda itself and
#                   install it next to wheel2conda into WORK/base, then run `conda wheel2conda` there
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$ROOT/.work/conda-self-install}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
W2C="$PY -m bridge"
CONDA=${CONDA:-conda}
PYVER=$($PY -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -z "${PYTHON_CHANNEL:-}" ]; then
    [ -d "$WORK/pychan" ] || $PY -c 'import sys; from pathlib import Path; from bridge.standin import build_base_channel; build_base_channel(Path(sys.argv[1]))' "$WORK/pychan"
    PYTHON_CHANNEL="file://$WORK/pychan"
fi
rm -rf "$WORK/wheels" "$WORK/channel" "$WORK/env" "$WORK/base"
cd "$WORK"  # not the checkout: python -m puts the working directory on sys.path
set -x

# 1. the tool's own wheel and its dependencies from PyPI
$PY -m pip wheel -q --no-deps -w "$WORK/wheels" "$ROOT"
$PY -m pip download -q -d "$WORK/wheels" "$WORK"/wheels/wheel2conda-*.whl

# 2. converted into a local channel by the tool itself
$W2C convert -q --channel "$WORK/channel" "$WORK/wheels"

# 3. what a conda user types
$CONDA create -q -p "$WORK/env" -c "$PYTHON_CHANNEL" "python=$PYVER"
$CONDA install -q -p "$WORK/env" -c "file://$WORK/channel" -c "$PYTHON_CHANNEL" wheel2conda
"$WORK/env/bin/wheel2conda" --version
"$WORK/env/bin/python" -m bridge --version

# 4. optional: conda itself as a conda package next to wheel2conda, and `conda wheel2conda` there
if [ -n "${CONDA_SRC:-}" ] && [ -n "${MENUINST_SRC:-}" ]; then
    mkdir -p "$WORK/conda-wheels"
    SETUPTOOLS_SCM_PRETEND_VERSION=$(sed -n 's/^## \([0-9.]*\) .*/\1/p' "$MENUINST_SRC/CHANGELOG.md" | head -1) $PY -m pip wheel -q --no-deps -w "$WORK/conda-wheels" "$MENUINST_SRC"
    SETUPTOOLS_SCM_PRETEND_VERSION=$(sed -n 's/^## \([0-9.]*\) .*/\1/p' "$CONDA_SRC/CHANGELOG.md" | head -1) $PY -m pip wheel -q --no-deps -w "$WORK/conda-wheels" "$CONDA_SRC"
    $PY -m pip download -q -d "$WORK/conda-wheels" "$WORK"/conda-wheels/*.whl tomli  # tomli: menuinst's, for python < 3.11
    for sdist in "$WORK"/conda-wheels/*.tar.gz; do  # pycosat is an sdist on PyPI
        [ -e "$sdist" ] && $PY -m pip wheel -q --no-deps -w "$WORK/conda-wheels" "$sdist" && rm "$sdist"
    done
    $W2C convert -q --channel "$WORK/channel" "$WORK/conda-wheels"
    $CONDA create -q -p "$WORK/base" -c "file://$WORK/channel" -c "$PYTHON_CHANNEL" "python=$PYVER" conda wheel2conda
    "$WORK/base/bin/python" -m conda wheel2conda --version
    "$WORK/base/bin/python" -m conda wheel2conda --help
fi
