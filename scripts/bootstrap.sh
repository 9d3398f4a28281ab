#!/usr/bin/env bash
# Creates ./.venv (once) and installs archiver into it, with the test extras when asked.
# Sourced by scripts/demo and scripts/test; needs only Python 3.11+ and pip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ARCHIVER_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
extras="${1:-}"
stamp="$venv/.archiver-installed${extras:+-$extras}"
# Reinstall when the project's requirements changed since the last install.
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    # The distribution was called "archiver" before it became "provenance-archiver": drop the
    # old editable install so that one copy of the package is registered.
    if "$venv/bin/python" -m pip show --quiet archiver >/dev/null 2>&1; then
        "$venv/bin/python" -m pip uninstall --quiet --yes archiver >/dev/null 2>&1 || true
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root${extras:+[$extras]}"
    touch "$stamp"
fi
