#!/usr/bin/env bash
# Interoperability tests: Google's own client libraries (Python: google-auth-oauthlib and
# google-auth; Node.js: google-auth-library) against a real `keyway serve --demo`, with only the
# base URLs changed. Runs on SQLite, and on PostgreSQL too when KEYWAY_TEST_DATABASE_URL is set.
#
#   bash tests/interop/run.sh
#   KEYWAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bash tests/interop/run.sh
#
# Builds nothing: the keyway binary comes from $KEYWAY_BIN (default
# $HOME/.cache/keyway/target/debug/keyway, what
# `CARGO_TARGET_DIR=$HOME/.cache/keyway/target cargo build --bin keyway` makes).
# The libraries are installed outside the repository, in $KEYWAY_INTEROP_CACHE (default
# $HOME/.cache/keyway/interop): venv/ from requirements.txt and node/node_modules from
# package-lock.json (npm ci), each redone only when its pins (or the interpreter) change.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KEYWAY_BIN="${KEYWAY_BIN:-$HOME/.cache/keyway/target/debug/keyway}"
CACHE="${KEYWAY_INTEROP_CACHE:-$HOME/.cache/keyway/interop}"
PYTHON="${PYTHON:-python3}"
DB_URL="${KEYWAY_TEST_DATABASE_URL:-}"

STEP="start"
FAILED=()
PASSED=()
SERVER_PID=""
SERVER_RC=""
PG_DATABASES=()
WORK=""

step() {
  STEP="$*"
  printf '\n==> interop: %s\n' "$*"
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "interop: keyway (pid $SERVER_PID) ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  else
    echo "interop: keyway (pid $SERVER_PID) had already exited" >&2
  fi
  local rc=0
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  SERVER_RC=$rc
  SERVER_PID=""
}

drop_databases() {
  local db
  for db in "${PG_DATABASES[@]}"; do
    psql "$DB_URL" -v ON_ERROR_STOP=1 -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null ||
      echo "interop: could not drop database $db" >&2
  done
  PG_DATABASES=()
}

on_exit() {
  local rc=$?
  stop_server
  drop_databases
  if [[ $rc -ne 0 && ${#FAILED[@]} -eq 0 ]]; then
    FAILED+=("$STEP (exit status $rc)")
  fi
  if [[ ${#FAILED[@]} -gt 0 ]]; then
    printf '\ninterop: FAILED:\n' >&2
    printf '  - %s\n' "${FAILED[@]}" >&2
    [[ -n "$WORK" ]] && printf 'interop: server logs kept in %s\n' "$WORK" >&2
    exit 1
  fi
  [[ -n "$WORK" ]] && rm -rf "$WORK"
  exit 0
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- the libraries --------------------------------------------------------------------------

step "Python libraries ($CACHE/venv)"
command -v "$PYTHON" >/dev/null || { echo "interop: $PYTHON not found" >&2; exit 1; }
PY_STAMP="$(hash_of "$HERE/requirements.txt") $("$PYTHON" -c 'import sys; print(sys.version)' | head -n 1)"
if [[ ! -x "$CACHE/venv/bin/python" || "$(cat "$CACHE/venv/.interop-stamp" 2>/dev/null)" != "$PY_STAMP" ]]; then
  rm -rf "$CACHE/venv"
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$CACHE/venv"
  "$CACHE/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$HERE/requirements.txt"
  printf '%s' "$PY_STAMP" >"$CACHE/venv/.interop-stamp"
  echo "installed: $("$CACHE/venv/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
else
  echo "up to date"
fi

step "Node.js libraries ($CACHE/node)"
command -v node >/dev/null || { echo "interop: node not found" >&2; exit 1; }
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$NODE_MAJOR" -lt 20 ]]; then
  echo "interop: Node.js 20 or later is needed (node:test, fetch, Headers.getSetCookie); found $(node --version)" >&2
  exit 1
fi
NODE_STAMP="$(hash_of "$HERE/package.json" "$HERE/package-lock.json") $(node --version)"
if [[ ! -d "$CACHE/node/node_modules/google-auth-library" || "$(cat "$CACHE/node/.interop-stamp" 2>/dev/null)" != "$NODE_STAMP" ]]; then
  rm -rf "$CACHE/node"
  mkdir -p "$CACHE/node"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/node/"
  npm ci --prefix "$CACHE/node" --no-audit --no-fund --loglevel=error
  printf '%s' "$NODE_STAMP" >"$CACHE/node/.interop-stamp"
  echo "installed: google-auth-library $(node -p "require('$CACHE/node/node_modules/google-auth-library/package.json').version")"
else
  echo "up to date"
fi

# --- the server -----------------------------------------------------------------------------

step "keyway binary"
if [[ ! -x "$KEYWAY_BIN" ]]; then
  echo "interop: no keyway binary at $KEYWAY_BIN; build it with" >&2
  echo "  CARGO_TARGET_DIR=\$HOME/.cache/keyway/target cargo build --bin keyway   (or set KEYWAY_BIN)" >&2
  exit 1
fi
"$KEYWAY_BIN" --version

# Only what this script passes configures the server.
unset KEYWAY_CONFIG KEYWAY_LISTEN KEYWAY_DATA_DIR KEYWAY_PUBLIC_URL KEYWAY_DATABASE_URL \
  KEYWAY_TLS KEYWAY_TLS_CERT KEYWAY_TLS_KEY
export NO_PROXY="localhost,127.0.0.1${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
export PYTHONDONTWRITEBYTECODE=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/keyway-interop.XXXXXX")"

# start_server NAME [keyway serve arguments...]: starts `keyway serve --demo` and sets
# KEYWAY_URL, KEYWAY_CA, KEYWAY_CLIENT_SECRETS, KEYWAY_PASSWORD from what it prints.
start_server() {
  local name="$1"
  shift
  local dir="$WORK/$name"
  mkdir -p "$dir"
  SERVER_RC=""
  "$KEYWAY_BIN" serve --demo --tls self-signed --data-dir "$dir/data" --listen 127.0.0.1:0 "$@" \
    >"$dir/server.out" 2>"$dir/server.err" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 600); do
    grep -q 'sign in as' "$dir/server.out" 2>/dev/null && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "interop: keyway serve exited before it was ready:" >&2
      cat "$dir/server.out" "$dir/server.err" >&2
      SERVER_PID=""
      return 1
    fi
    sleep 0.1
  done
  if ! grep -q 'sign in as' "$dir/server.out"; then
    echo "interop: keyway serve printed no demo credentials within 60 s:" >&2
    cat "$dir/server.out" "$dir/server.err" >&2
    return 1
  fi
  # Keyway is listening on 127.0.0.1:PORT (https://localhost:PORT)
  KEYWAY_URL="$(sed -n 's/^Keyway is listening on .* (\(https:[^)]*\))$/\1/p' "$dir/server.out" | head -n 1)"
  # TLS: self-signed. Trust this CA to connect: DIR/tls/ca.pem
  KEYWAY_CA="$(sed -n 's/^.*Trust this CA to connect: //p' "$dir/server.out" | head -n 1)"
  #   client_secret.json  PATH
  KEYWAY_CLIENT_SECRETS="$(sed -n 's/^ *client_secret\.json  *//p' "$dir/server.out" | head -n 1)"
  #   sign in as          demo@example.com / PASSWORD
  KEYWAY_USER="$(sed -n 's/^ *sign in as  *\([^ ]*\) \/ .*$/\1/p' "$dir/server.out" | head -n 1)"
  KEYWAY_PASSWORD="$(sed -n 's/^ *sign in as  *[^ ]* \/ \(.*\)$/\1/p' "$dir/server.out" | head -n 1)"
  local v
  for v in KEYWAY_URL KEYWAY_CA KEYWAY_CLIENT_SECRETS KEYWAY_USER KEYWAY_PASSWORD; do
    if [[ -z "${!v}" ]]; then
      echo "interop: could not read $v from keyway's output:" >&2
      cat "$dir/server.out" >&2
      return 1
    fi
  done
  [[ -f "$KEYWAY_CA" && -f "$KEYWAY_CLIENT_SECRETS" ]] || {
    echo "interop: $KEYWAY_CA or $KEYWAY_CLIENT_SECRETS is missing" >&2
    return 1
  }
  export KEYWAY_URL KEYWAY_CA KEYWAY_CLIENT_SECRETS KEYWAY_USER KEYWAY_PASSWORD
  echo "keyway: $KEYWAY_URL (pid $SERVER_PID, CA $KEYWAY_CA)"
}

# run_suites NAME [keyway serve arguments...]
run_suites() {
  local name="$1"
  step "$name: start keyway serve --demo --tls self-signed"
  if ! start_server "$@"; then
    FAILED+=("$name: keyway serve did not start")
    stop_server
    return 0
  fi

  step "$name: Python (google-auth-oauthlib, google-auth)"
  if (cd "$HERE" && REQUESTS_CA_BUNDLE="$KEYWAY_CA" OAUTHLIB_INSECURE_TRANSPORT=1 \
    timeout 300 "$CACHE/venv/bin/python" test_python.py); then
    PASSED+=("$name: python")
  else
    FAILED+=("$name: Python suite (test_python.py)")
  fi

  step "$name: Node.js (google-auth-library)"
  if (cd "$HERE" && NODE_EXTRA_CA_CERTS="$KEYWAY_CA" NODE_PATH="$CACHE/node/node_modules" \
    timeout 300 node --test test_node.js); then
    PASSED+=("$name: node")
  else
    FAILED+=("$name: Node.js suite (test_node.js)")
  fi

  step "$name: stop keyway (SIGTERM)"
  stop_server
  if [[ "$SERVER_RC" != 0 ]]; then
    FAILED+=("$name: keyway did not exit cleanly on SIGTERM (status $SERVER_RC)")
  fi
  if grep -qE ' ERROR |panicked' "$WORK/$name/server.err"; then
    echo "interop: keyway logged errors during the $name run:" >&2
    grep -E ' ERROR |panicked' "$WORK/$name/server.err" >&2 || true
    FAILED+=("$name: keyway logged an error or a panic (see $WORK/$name/server.err)")
  fi
}

run_suites sqlite

if [[ -n "$DB_URL" ]]; then
  step "postgres: create a fresh database"
  command -v psql >/dev/null || { echo "interop: psql not found (KEYWAY_TEST_DATABASE_URL is set)" >&2; exit 1; }
  PG_DB="keyway_interop_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql "$DB_URL" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE \"$PG_DB\"" >/dev/null
  PG_DATABASES+=("$PG_DB")
  # The same URL with the database name replaced (user, password, host, port, query kept).
  PG_URL="$("$CACHE/venv/bin/python" - "$DB_URL" "$PG_DB" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit
u = urlsplit(sys.argv[1])
print(urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
EOF
)"
  echo "database: $PG_DB"
  run_suites postgres --database-url "$PG_URL"
  step "postgres: drop $PG_DB"
  drop_databases
fi

step "summary"
[[ ${#PASSED[@]} -eq 0 ]] || printf '  ok   %s\n' "${PASSED[@]}"
[[ ${#FAILED[@]} -eq 0 ]] || printf '  FAIL %s\n' "${FAILED[@]}"
echo "interop: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
