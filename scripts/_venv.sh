# Shared by scripts/run and scripts/test: make .venv from the pinned lock files (idempotent, quiet).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PASSGATE_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' \
  || { echo "Passgate needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2; exit 1; }

ensure_venv() {  # $1: lock file
  local lock="$1"
  local stamp="$VENV/.passgate-$(basename "$lock").sha256"
  local want; want="$(cat "$ROOT/$lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then "$PY" -m venv "$VENV"; fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing Python dependencies from $lock ..."
    # (this machine's pip configuration warns about absent local mirrors: not ours, filtered out)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$lock" \
      2> >(grep -v "^WARNING: Location" >&2)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT" \
      2> >(grep -v "^WARNING: Location" >&2)
    echo "$want" > "$stamp"
  fi
}
