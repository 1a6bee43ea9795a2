#!/usr/bin/env bash
# Python binding tests: the generated module and the library from
# $NIB_BINDINGS/python (bindings/generate.sh makes them), run with plain
# python3. Nothing to install.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 bindings/python/test_nib.py
