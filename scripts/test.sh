#!/usr/bin/env bash
# Runs every Caly test. Installs and starts what is missing (PostgreSQL, Redis, s3s-fs, maildev,
# headless Chromium)
# on 127.0.0.1, reuses whatever already runs, plus espeak-ng, cmake and the offline Whisper model,
# then: the dependency audit (cargo-audit, offline), fmt check, clippy, and the test suite (nextest, installed when missing; built with the
# `whisper` feature) on the embedded default and on PG + Redis + s3s-fs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/caly-target}"
TOOLS="${CALY_TOOLS_DIR:-$HOME/.cache/caly-tools}"
mkdir -p "$TOOLS"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

PG_URL="postgres://postgres:postgres@127.0.0.1:5432"
export CALY_TEST_POSTGRES="${CALY_TEST_POSTGRES:-$PG_URL}"
export CALY_TEST_REDIS_URL="${CALY_TEST_REDIS_URL:-redis://127.0.0.1:6379/9}"
export CALY_TEST_S3_ENDPOINT="${CALY_TEST_S3_ENDPOINT:-http://127.0.0.1:8014}"

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # wait_for <what> <command...>: up to 60 s
  local what=$1; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "error: $what did not come up" >&2; return 1
}

# --- PostgreSQL -------------------------------------------------------------------------------
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql postgresql-client
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
fi
# The tests log in as postgres/postgres (trust auth ignores the password).
if ! psql "$PG_URL/postgres" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
fi
# Databases left by earlier runs.
for db in $(psql "$PG_URL/postgres" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'caly\_t\_%'"); do
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
done

# --- a stock PostgreSQL, and PgBouncer in transaction mode in front of it -----------------------
# The scale-out tests count this server's connections against its stock max_connections (100),
# so nothing else uses it. PgBouncer is Debian's (1.18: no prepared statements in transaction
# mode, so behind it Caly runs each statement in a transaction of its own; docs/operations.md).
export CALY_TEST_POSTGRES_STOCK="${CALY_TEST_POSTGRES_STOCK:-postgres://postgres@127.0.0.1:5433}"
if ! pg_isready -h 127.0.0.1 -p 5433 -q 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  [ -d "/etc/postgresql/$version/caly_stock" ] || pg_createcluster "$version" caly_stock \
    --port 5433 -- --auth-local=trust --auth-host=trust >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "$version" caly_stock start || true
  wait_for "the stock PostgreSQL" pg_isready -h 127.0.0.1 -p 5433 -q
fi
for db in $(psql "$CALY_TEST_POSTGRES_STOCK/postgres" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'caly\_t\_%'"); do
  psql "$CALY_TEST_POSTGRES_STOCK/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
done
export CALY_TEST_PGBOUNCER="${CALY_TEST_PGBOUNCER:-postgres://postgres@127.0.0.1:6432}"
if ! psql "$CALY_TEST_PGBOUNCER/postgres" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  command -v pgbouncer >/dev/null || apt_install pgbouncer
  # PgBouncer will not run as root: its files belong to postgres.
  BOUNCER_DIR=/var/lib/caly-pgbouncer
  mkdir -p "$BOUNCER_DIR"
  cp scripts/pgbouncer.ini "$BOUNCER_DIR/pgbouncer.ini"
  echo '"postgres" ""' >"$BOUNCER_DIR/userlist.txt"
  chown -R postgres "$BOUNCER_DIR"
  su postgres -s /bin/sh -c "pgbouncer -d $BOUNCER_DIR/pgbouncer.ini"
  wait_for PgBouncer psql "$CALY_TEST_PGBOUNCER/postgres" -qtAc 'SELECT 1'
fi

# --- Redis ------------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/caly-test.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
redis-cli -h 127.0.0.1 -p 6379 -n 9 flushdb >/dev/null

# --- s3s-fs (S3-compatible store) -------------------------------------------------------------
# s3s-fs resolves paths against its working directory on every request: one started from a
# checkout that was deleted since answers 500 to everything, so it is started again. Background
# servers are started from $TOOLS, which outlives any checkout.
for pid in $(pgrep -f "s3s-fs --host 127.0.0.1 --port 8014" || true); do
  case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in
    *" (deleted)") kill "$pid"; sleep 1 ;;
  esac
done
if ! curl -s -o /dev/null "$CALY_TEST_S3_ENDPOINT"; then
  command -v s3s-fs >/dev/null || cargo install s3s-fs@0.14.1 --features binary --locked
  mkdir -p "$TOOLS/s3-data"
  (cd "$TOOLS" && nohup s3s-fs --host 127.0.0.1 --port 8014 --access-key caly-test \
    --secret-key caly-test-secret "$TOOLS/s3-data" >"$TOOLS/s3s-fs.log" 2>&1 &)
  wait_for s3s-fs curl -s -o /dev/null "$CALY_TEST_S3_ENDPOINT"
fi

# --- maildev (SMTP catcher with an HTTP API) --------------------------------------------------
if ! curl -sf http://127.0.0.1:1080/healthz >/dev/null 2>&1; then
  command -v npm >/dev/null || apt_install nodejs npm
  [ -x "$TOOLS/node_modules/.bin/maildev" ] || (cd "$TOOLS" && npm install --silent --no-audit --no-fund maildev@2.2.1 >/dev/null)
  (cd "$TOOLS" && nohup maildev --ip 127.0.0.1 -s 1025 -w 1080 >"$TOOLS/maildev.log" 2>&1 &)
  wait_for maildev curl -sf http://127.0.0.1:1080/healthz
fi

# --- headless Chromium (the browser tests share this one browser over CDP) ----------------------
export CALY_TEST_CHROMIUM="${CALY_TEST_CHROMIUM:-http://127.0.0.1:9222}"
if ! curl -sf "$CALY_TEST_CHROMIUM/json/version" >/dev/null 2>&1; then
  command -v chromium >/dev/null || apt_install chromium
  rm -rf "$TOOLS/chromium-profile"
  # As root: --no-sandbox. The background-networking flags keep it off the (closed) internet.
  (cd "$TOOLS" && nohup chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --autoplay-policy=no-user-gesture-required --mute-audio \
    --remote-debugging-address=127.0.0.1 --remote-debugging-port=9222 \
    --user-data-dir="$TOOLS/chromium-profile" about:blank >"$TOOLS/chromium.log" 2>&1 &)
  wait_for Chromium curl -sf "$CALY_TEST_CHROMIUM/json/version"
fi
rm -rf "${CARGO_TARGET_DIR}/tmp/screenshots"

# --- espeak-ng (offline text-to-speech; the voice tests speak through it) -------------------
command -v espeak-ng >/dev/null || apt_install espeak-ng

# --- offline Whisper (speech-to-text): cmake for the CTranslate2 build, and the model ---------
command -v cmake >/dev/null || apt_install cmake
export CALY_TEST_WHISPER_MODEL="${CALY_TEST_WHISPER_MODEL:-$TOOLS/whisper-tiny.en}"
bash scripts/install-whisper-model.sh "$CALY_TEST_WHISPER_MODEL"

# --- nextest (each test in its own process: one test installs a global log capture) ----------
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked

# --- dependency advisories: cargo-audit against the RustSec snapshot (CI has no network) -------
# The snapshot is ../shared/vendor/rustsec-advisory-db-*.tgz, unpacked once into the tools cache
# as a one-commit git repository (what cargo-audit reads). Accepted advisories, each with its
# reason, are in .cargo/audit.toml.
ADVISORY_TGZ=$(ls ../shared/vendor/rustsec-advisory-db-*.tgz 2>/dev/null | sort | tail -n1 || true)
if [ -z "$ADVISORY_TGZ" ]; then
  echo "error: no RustSec snapshot in ../shared/vendor (see its README)" >&2; exit 1
fi
AUDIT_BIN="$TOOLS/cargo-audit/bin/cargo-audit"
[ -x "$AUDIT_BIN" ] || cargo install cargo-audit@0.22.2 --locked --no-default-features \
  --root "$TOOLS/cargo-audit"
ADVISORY_DB="$TOOLS/advisory-db/$(basename "$ADVISORY_TGZ" .tgz)"
if [ ! -d "$ADVISORY_DB/.git" ]; then
  rm -rf "$ADVISORY_DB" && mkdir -p "$ADVISORY_DB"
  tar -xzf "$ADVISORY_TGZ" -C "$ADVISORY_DB"
  git -C "$ADVISORY_DB" init -q
  git -C "$ADVISORY_DB" -c user.name=caly -c user.email=caly@localhost add -A
  git -C "$ADVISORY_DB" -c user.name=caly -c user.email=caly@localhost commit -qm "RustSec snapshot"
fi
"$AUDIT_BIN" audit --db "$ADVISORY_DB" --no-fetch --stale --file Cargo.lock

# --- checks and tests -------------------------------------------------------------------------
cargo fmt --all --check
cargo clippy --workspace --all-targets --features whisper --quiet -- -D warnings
cargo nextest run --workspace --features whisper --no-fail-fast
