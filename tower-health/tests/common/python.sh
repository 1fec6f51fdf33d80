# Sourced by the test scripts that need Python: a virtual environment with given packages, and
# free ports on 127.0.0.1. Expects to run from the repository's root.

target="${CARGO_TARGET_DIR:-target}"

# Creates (once) the virtual environment `$target/$1` and installs the packages `$2...` into it;
# sets `venv` to its path.
python_venv() {
    venv="$target/$1"
    shift
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update && apt-get install -y python3 python3-venv
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}

# A port of 127.0.0.1 that was free a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
