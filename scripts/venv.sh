# Sourced by ./run-console and ./run-tests: makes sure $VENV holds requirements.txt.
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
    echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))." >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating the virtual environment in $VENV ..." >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
stamp="$VENV/.requirements.sha256"
wanted="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing requirements.txt into $VENV ..." >&2
    "$VENV/bin/python" -m pip install --quiet -r requirements.txt
    echo "$wanted" > "$stamp"
fi
export VENV
