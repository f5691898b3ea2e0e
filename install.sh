#!/bin/sh
# install.sh: build GopherPost for Node.js and install it as a systemd service.
#
#   sudo ./install.sh                      # asks, with defaults
#   sudo ./install.sh --non-interactive --hostname mx.example.com --port 25
#   ./install.sh --dry-run --non-interactive   # prints every step, changes nothing
#
# Run `./install.sh --help` for every option. POSIX sh; needs node (>= 20.19),
# npm, tar, install(1), useradd or adduser, and systemctl for the service.
set -eu

# ---------------------------------------------------------------- defaults --

PROG=${0##*/}
SRC_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

DRY_RUN=0
INTERACTIVE=1
SKIP_BUILD=0
START=1
FORCE_ENV=0

SVC_USER=gopherpost
PREFIX=/opt/gopherpost
STATE_DIR=/var/lib/gopherpost
ENV_FILE=/etc/gopherpost/gopherpost.env
UNIT_DIR=/etc/systemd/system
NODE_BIN=
HOSTNAME_OPT=
PORT=25
ALLOW_NETWORKS=127.0.0.0/8,::1
DELIVERY_MODE=mx
RELAY_URL=
HEALTH_ADDR=127.0.0.1:8080
ADMIN_TOKEN=
LOG_LEVEL=info

usage() {
  cat <<EOF
Usage: $PROG [options]

Builds GopherPost (npm ci && npm run build in a staging copy), creates the
service user and directories, installs the code to the prefix, the systemd
unit, and the environment file, then enables and starts the service.

Modes:
  --dry-run              print every step (commands prefixed with '+ ') and
                         change nothing; root is not needed
  --non-interactive      do not ask; take values from the options below
  -h, --help             this text

Settings written to the environment file (asked for unless --non-interactive):
  --hostname NAME        SMTP_HOSTNAME (default: this host's FQDN)
  --port N               SMTP_PORT (default: $PORT)
  --allow-networks LIST  SMTP_ALLOW_NETWORKS, CIDRs/IPs separated by commas
                         (default: $ALLOW_NETWORKS, i.e. loopback only)
  --delivery-mode MODE   SMTP_DELIVERY_MODE: mx, relay or hold (default: $DELIVERY_MODE)
  --relay-url URL        SMTP_RELAY_URL, smtp://user:pass@host:587 or smtps://...
                         (required with --delivery-mode relay)
  --health-addr ADDR     SMTP_HEALTH_ADDR (default: $HEALTH_ADDR)
  --admin-token TOKEN    SMTP_ADMIN_TOKEN (default: 32 random bytes, hex)
  --log-level LEVEL      LOG_LEVEL (default: $LOG_LEVEL)

Locations:
  --prefix DIR           where the code goes (default: $PREFIX)
  --state-dir DIR        data directory; the spool is DIR/spool (default: $STATE_DIR)
  --env-file FILE        environment file (default: $ENV_FILE)
  --unit-dir DIR         where gopherpost.service goes (default: $UNIT_DIR)
  --user NAME            service user and group (default: $SVC_USER)
  --node PATH            node binary for ExecStart (default: node on PATH)
  --source DIR           source checkout to build (default: this script's directory)

Behaviour:
  --skip-build           install DIR's existing dist/ and node_modules/ as they are
                         (already built and pruned with npm prune --omit=dev)
  --force-env            overwrite an existing environment file (a copy is kept
                         as FILE.bak); by default an existing file is left alone
  --no-start             install and enable nothing; do not start the service

An existing environment file is kept unless --force-env is given, so running
the script again upgrades the code without touching your settings.
EOF
}

# ----------------------------------------------------------------- helpers --

say() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

# Quotes one word so the printed command could be pasted into a shell.
quote() {
  case $1 in
    '') printf "''" ;;
    *"'"*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *[!A-Za-z0-9_./:=,@%+-]*) printf "'%s'" "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Appends "$1", quoted, to $line (no subshell for the common cases).
append_word() {
  case $1 in
    '' | *"'"*) line="$line $(quote "$1")" ;;
    *[!A-Za-z0-9_./:=,@%+-]*) line="$line '$1'" ;;
    *) line="$line $1" ;;
  esac
}

# Prints a command as '+ cmd args' and runs it unless this is a dry run.
run() {
  line='+'
  for word in "$@"; do append_word "$word"; done
  printf '%s\n' "$line"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

# Same, in another directory: '+ (cd DIR && cmd args)'.
run_in() {
  dir=$1
  shift
  line='+ (cd'
  append_word "$dir"
  line="$line &&"
  for word in "$@"; do append_word "$word"; done
  printf '%s)\n' "$line"
  if [ "$DRY_RUN" -eq 0 ]; then (cd "$dir" && "$@"); fi
}

need_value() {
  [ $# -ge 2 ] || die "option $1 needs a value (see --help)"
}

# ask VAR "question" — shows the current value of VAR as the default and
# reads a new one from stdin (end of input keeps the default).
ask() {
  eval "current=\${$1}"
  printf '%s [%s]: ' "$2" "$current" >&2
  answer=
  IFS= read -r answer || true
  if [ -n "$answer" ]; then eval "$1=\$answer"; fi
}

generate_token() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 32
  elif [ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ]; then
    "$NODE_BIN" -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex") + "\n")'
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
    echo
  fi
}

# A value for the environment file, which systemd (EnvironmentFile=) and
# dotenv both read: bare when safe, else in single quotes.
env_value() {
  case $1 in
    *"'"* | *'
'*) die "value for $2 may not contain a single quote or a newline" ;;
    '' | *[!A-Za-z0-9_./:=,@%+-]*) printf "'%s'" "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

# ------------------------------------------------------------------- flags --

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY_RUN=1 ;;
    --non-interactive) INTERACTIVE=0 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --force-env) FORCE_ENV=1 ;;
    --no-start) START=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    --hostname) need_value "$@"; HOSTNAME_OPT=$2; shift ;;
    --port) need_value "$@"; PORT=$2; shift ;;
    --allow-networks) need_value "$@"; ALLOW_NETWORKS=$2; shift ;;
    --delivery-mode) need_value "$@"; DELIVERY_MODE=$2; shift ;;
    --relay-url) need_value "$@"; RELAY_URL=$2; shift ;;
    --health-addr) need_value "$@"; HEALTH_ADDR=$2; shift ;;
    --admin-token) need_value "$@"; ADMIN_TOKEN=$2; shift ;;
    --log-level) need_value "$@"; LOG_LEVEL=$2; shift ;;
    --prefix) need_value "$@"; PREFIX=$2; shift ;;
    --state-dir) need_value "$@"; STATE_DIR=$2; shift ;;
    --env-file) need_value "$@"; ENV_FILE=$2; shift ;;
    --unit-dir) need_value "$@"; UNIT_DIR=$2; shift ;;
    --user) need_value "$@"; SVC_USER=$2; shift ;;
    --node) need_value "$@"; NODE_BIN=$2; shift ;;
    --source) need_value "$@"; SRC_DIR=$2; shift ;;
    --*=*)
      # --opt=value: split and go round again.
      opt=${1%%=*}
      val=${1#*=}
      shift
      set -- "$opt" "$val" "$@"
      continue
      ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "must run as root (it creates a system user and writes to $PREFIX, $UNIT_DIR and $(dirname -- "$ENV_FILE")); use --dry-run to see what it would do"
fi

# Problems that stop a real install only warn in a dry run, which should
# still show every step.
problem() {
  if [ "$DRY_RUN" -eq 1 ]; then warn "$* (a real run would stop here)"; else die "$*"; fi
}

# Paths go into the unit, where spaces split words and % starts a specifier.
check_path() {
  case $1 in
    /*) ;;
    *) die "$2 must be an absolute path, got '$1'" ;;
  esac
  case $1 in
    *[!A-Za-z0-9._/+-]*) die "$2 may contain only letters, digits and . _ / + - (it is written into the systemd unit), got '$1'" ;;
  esac
}
check_path "$PREFIX" --prefix
check_path "$STATE_DIR" --state-dir
check_path "$ENV_FILE" --env-file
check_path "$UNIT_DIR" --unit-dir
case $PREFIX in
  / | /usr | /usr/local | /opt | /etc | /var) die "refusing --prefix $PREFIX: it is replaced on install; use a directory of its own" ;;
esac

# ------------------------------------------------------------------ checks --

[ -f "$SRC_DIR/package.json" ] || die "no package.json in $SRC_DIR (use --source)"
[ -f "$SRC_DIR/packaging/systemd/gopherpost.service" ] || die "no packaging/systemd/gopherpost.service in $SRC_DIR"

if [ -z "$NODE_BIN" ]; then NODE_BIN=$(command -v node 2>/dev/null || true); fi
if [ -n "$NODE_BIN" ]; then check_path "$NODE_BIN" --node; fi
if [ -z "$NODE_BIN" ]; then
  problem "node not found; install Node.js 20.19 or newer, or pass --node PATH"
  NODE_BIN=/usr/bin/node
elif ! "$NODE_BIN" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  problem "$NODE_BIN is older than Node.js 20.19"
fi
if [ "$SKIP_BUILD" -eq 0 ] && ! command -v npm >/dev/null 2>&1; then
  problem "npm not found (needed to build; or use --skip-build)"
fi

if [ -z "$HOSTNAME_OPT" ]; then
  HOSTNAME_OPT=$(hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n)
fi

# ----------------------------------------------------------------- answers --

if [ "$INTERACTIVE" -eq 1 ]; then
  printf 'GopherPost setup. Press Enter to keep the value in brackets.\n' >&2
  ask HOSTNAME_OPT 'Mail host name (SMTP_HOSTNAME)'
  ask PORT 'SMTP port (SMTP_PORT)'
  ask ALLOW_NETWORKS 'Networks allowed to connect, comma-separated (SMTP_ALLOW_NETWORKS)'
  ask DELIVERY_MODE 'Delivery mode: mx, relay or hold (SMTP_DELIVERY_MODE)'
  if [ "$DELIVERY_MODE" = relay ]; then
    ask RELAY_URL 'Relay URL, smtp://user:pass@host:587 (SMTP_RELAY_URL)'
  fi
  ask HEALTH_ADDR 'HTTP address for health, metrics and admin API (SMTP_HEALTH_ADDR)'
  if [ -z "$ADMIN_TOKEN" ]; then
    printf 'Admin API token (SMTP_ADMIN_TOKEN) [generate]: ' >&2
    IFS= read -r ADMIN_TOKEN || true
  fi
fi

case $PORT in
  '' | *[!0-9]*) die "--port must be a number from 1 to 65535, got '$PORT'" ;;
esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "--port must be a number from 1 to 65535, got '$PORT'"
case $DELIVERY_MODE in
  mx | hold) ;;
  relay)
    case $RELAY_URL in
      smtp://?* | smtps://?*) ;;
      '') die "--delivery-mode relay needs --relay-url smtp://user:pass@host:587" ;;
      *) die "--relay-url must start with smtp:// or smtps://, got '$RELAY_URL'" ;;
    esac
    ;;
  *) die "--delivery-mode must be mx, relay or hold, got '$DELIVERY_MODE'" ;;
esac
case $LOG_LEVEL in
  fatal | error | warn | info | debug | trace | silent) ;;
  *) die "--log-level must be fatal, error, warn, info, debug, trace or silent, got '$LOG_LEVEL'" ;;
esac
case $HOSTNAME_OPT in
  '' | *[!A-Za-z0-9.-]*) die "--hostname must be a host name (letters, digits, dots, dashes), got '$HOSTNAME_OPT'" ;;
esac
case $SVC_USER in
  '' | *[!a-z0-9_-]* | [!a-z_]*) die "--user must be a lower-case user name, got '$SVC_USER'" ;;
esac
TOKEN_GENERATED=0
if [ -z "$ADMIN_TOKEN" ]; then
  ADMIN_TOKEN=$(generate_token)
  TOKEN_GENERATED=1
fi

SPOOL_DIR=$STATE_DIR/spool
ENV_DIR=$(dirname -- "$ENV_FILE")
UNIT_FILE=$UNIT_DIR/gopherpost.service

env_file_content() {
  # $1: the token to write (the real one, or a mask for display).
  printf '# GopherPost for Node.js, written by install.sh.\n'
  printf '# Every variable is described in %s/.env.example.\n' "$PREFIX"
  printf '# After editing: systemctl restart gopherpost\n'
  printf 'SMTP_HOSTNAME=%s\n' "$(env_value "$HOSTNAME_OPT" SMTP_HOSTNAME)"
  printf 'SMTP_PORT=%s\n' "$PORT"
  printf 'SMTP_ALLOW_NETWORKS=%s\n' "$(env_value "$ALLOW_NETWORKS" SMTP_ALLOW_NETWORKS)"
  printf 'SMTP_DELIVERY_MODE=%s\n' "$DELIVERY_MODE"
  if [ -n "$RELAY_URL" ]; then
    printf 'SMTP_RELAY_URL=%s\n' "$(env_value "$RELAY_URL" SMTP_RELAY_URL)"
  fi
  printf 'SMTP_QUEUE_PATH=%s\n' "$(env_value "$SPOOL_DIR" SMTP_QUEUE_PATH)"
  printf 'SMTP_HEALTH_ADDR=%s\n' "$(env_value "$HEALTH_ADDR" SMTP_HEALTH_ADDR)"
  printf 'SMTP_ADMIN_TOKEN=%s\n' "$(env_value "$1" SMTP_ADMIN_TOKEN)"
  printf 'LOG_LEVEL=%s\n' "$(env_value "$LOG_LEVEL" LOG_LEVEL)"
}
# Fail on values the env file cannot hold now, before anything is changed
# (env_value's own check runs in a subshell, where die cannot stop us).
for pair in "SMTP_HOSTNAME=$HOSTNAME_OPT" "SMTP_ALLOW_NETWORKS=$ALLOW_NETWORKS" "SMTP_RELAY_URL=$RELAY_URL" \
  "SMTP_HEALTH_ADDR=$HEALTH_ADDR" "SMTP_ADMIN_TOKEN=$ADMIN_TOKEN" "LOG_LEVEL=$LOG_LEVEL"; do
  case ${pair#*=} in
    *"'"* | *'
'*) die "${pair%%=*} may not contain a single quote or a newline" ;;
  esac
done
mask() { printf '%s' "$1" | sed 's#//\([^:/@]*\):[^@]*@#//\1:********@#'; }

if [ "$DRY_RUN" -eq 1 ]; then
  say "dry run: printing the steps; nothing is changed"
fi
say "installing from $SRC_DIR to $PREFIX (node: $NODE_BIN)"

# ------------------------------------------------------------------- build --

if [ "$SKIP_BUILD" -eq 1 ]; then
  [ -d "$SRC_DIR/dist/src" ] || problem "--skip-build: no $SRC_DIR/dist/src (run npm ci && npm run build first)"
  BUILD_DIR=$SRC_DIR
  say "build: skipped, using $BUILD_DIR as built"
else
  say "build: npm ci && npm run build in a staging copy, then drop dev dependencies"
  if [ "$DRY_RUN" -eq 1 ]; then
    BUILD_DIR=${TMPDIR:-/tmp}/gopherpost-build.XXXXXX
    printf '+ mktemp -d\n'
  else
    BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gopherpost-build.XXXXXX")
    trap 'rm -rf "$BUILD_DIR"' EXIT
    printf '+ mktemp -d  # %s\n' "$BUILD_DIR"
  fi
  printf '+ tar -C %s --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./coverage --exclude=./.git -cf - . | tar -C %s -xf -\n' \
    "$(quote "$SRC_DIR")" "$(quote "$BUILD_DIR")"
  if [ "$DRY_RUN" -eq 0 ]; then
    tar -C "$SRC_DIR" --exclude=./node_modules --exclude=./dist --exclude=./data \
      --exclude=./coverage --exclude=./.git -cf - . | tar -C "$BUILD_DIR" -xf -
  fi
  run_in "$BUILD_DIR" npm ci --no-audit --no-fund
  run_in "$BUILD_DIR" npm run build
  run_in "$BUILD_DIR" npm prune --omit=dev --no-audit --no-fund
fi

# ------------------------------------------------------------ user, groups --

say "user: system user and group '$SVC_USER' (no login, home $STATE_DIR)"
NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
if getent group "$SVC_USER" >/dev/null 2>&1; then
  say "group $SVC_USER exists"
elif command -v groupadd >/dev/null 2>&1 || ! command -v addgroup >/dev/null 2>&1; then
  run groupadd --system "$SVC_USER"
else
  run addgroup -S "$SVC_USER"
fi
if getent passwd "$SVC_USER" >/dev/null 2>&1; then
  say "user $SVC_USER exists"
elif command -v useradd >/dev/null 2>&1 || ! command -v adduser >/dev/null 2>&1; then
  run useradd --system --gid "$SVC_USER" --home-dir "$STATE_DIR" --no-create-home \
    --shell "$NOLOGIN" --comment 'GopherPost SMTP daemon' "$SVC_USER"
else
  run adduser -S -D -H -G "$SVC_USER" -h "$STATE_DIR" -s "$NOLOGIN" -g 'GopherPost SMTP daemon' "$SVC_USER"
fi

# ------------------------------------------------------------- directories --

say "directories: data and spool (0700 $SVC_USER), configuration (0750 root:$SVC_USER)"
run install -d -m 0700 -o "$SVC_USER" -g "$SVC_USER" "$STATE_DIR"
run install -d -m 0700 -o "$SVC_USER" -g "$SVC_USER" "$SPOOL_DIR"
run install -d -m 0750 -o root -g "$SVC_USER" "$ENV_DIR"

# -------------------------------------------------------------------- code --

say "code: $PREFIX (root-owned, read-only for the service)"
run rm -rf "$PREFIX.new"
run install -d -m 0755 -o root -g root "$PREFIX.new"
for item in dist node_modules package.json package-lock.json; do
  run cp -R "$BUILD_DIR/$item" "$PREFIX.new/"
done
# Documentation, where the checkout has it (the staging copy mirrors $SRC_DIR).
for item in README.md CHANGELOG.md LICENSE .env.example docs; do
  if [ -e "$SRC_DIR/$item" ]; then run cp -R "$BUILD_DIR/$item" "$PREFIX.new/"; fi
done
run chown -R root:root "$PREFIX.new"
run chmod -R u+rwX,go+rX,go-w "$PREFIX.new"
if [ -e "$PREFIX" ]; then
  # Swap in the new tree whole, so no file of the old version lingers.
  run rm -rf "$PREFIX.old"
  run mv "$PREFIX" "$PREFIX.old"
  run mv "$PREFIX.new" "$PREFIX"
  run rm -rf "$PREFIX.old"
else
  run mv "$PREFIX.new" "$PREFIX"
fi

# -------------------------------------------------------------------- unit --

say "unit: $UNIT_FILE"
# The template names the default paths; point them at this install. Each rule
# touches one kind of line, so a replacement is never rewritten again.
sed_escape() { printf '%s' "$1" | sed 's/[#&\\]/\\&/g'; }
E_NODE=$(sed_escape "$NODE_BIN")
E_PREFIX=$(sed_escape "$PREFIX")
E_ENV=$(sed_escape "$ENV_FILE")
E_STATE=$(sed_escape "$STATE_DIR")
SED_SCRIPT="s#^ExecStart=/usr/bin/node /opt/gopherpost/#ExecStart=$E_NODE $E_PREFIX/#"
SED_SCRIPT="$SED_SCRIPT;s#^Documentation=file:///opt/gopherpost/#Documentation=file://$E_PREFIX/#"
SED_SCRIPT="$SED_SCRIPT;s#^EnvironmentFile=.*#EnvironmentFile=$E_ENV#"
SED_SCRIPT="$SED_SCRIPT;s#^User=gopherpost\$#User=$SVC_USER#;s#^Group=gopherpost\$#Group=$SVC_USER#"
if [ "$STATE_DIR" != /var/lib/gopherpost ]; then
  # StateDirectory= only names folders under /var/lib; the directory was made above.
  SED_SCRIPT="$SED_SCRIPT;/^StateDirectory/d"
  SED_SCRIPT="$SED_SCRIPT;s#^WorkingDirectory=.*#WorkingDirectory=$E_STATE#;s#^ReadWritePaths=.*#ReadWritePaths=$E_STATE#"
fi
run install -d -m 0755 "$UNIT_DIR"
printf '+ sed %s %s > %s\n' "$(quote "$SED_SCRIPT")" \
  "$(quote "$SRC_DIR/packaging/systemd/gopherpost.service")" "$(quote "$UNIT_FILE.tmp")"
if [ "$DRY_RUN" -eq 0 ]; then
  sed "$SED_SCRIPT" "$SRC_DIR/packaging/systemd/gopherpost.service" >"$UNIT_FILE.tmp"
fi
run chmod 0644 "$UNIT_FILE.tmp"
run mv -f "$UNIT_FILE.tmp" "$UNIT_FILE"

# -------------------------------------------------------------- env file --

if [ -e "$ENV_FILE" ] && [ "$FORCE_ENV" -eq 0 ]; then
  say "env file: $ENV_FILE exists, keeping it (--force-env replaces it)"
  WROTE_ENV=0
else
  say "env file: $ENV_FILE (0640 root:$SVC_USER)"
  if [ -e "$ENV_FILE" ]; then run cp -p "$ENV_FILE" "$ENV_FILE.bak"; fi
  printf '+ write %s (mode 0640, owner root:%s):\n' "$(quote "$ENV_FILE.tmp")" "$SVC_USER"
  env_file_content '********' | while IFS= read -r l; do
    case $l in
      SMTP_RELAY_URL=*) l=$(mask "$l") ;;
    esac
    printf '    %s\n' "$l"
  done
  if [ "$DRY_RUN" -eq 0 ]; then
    (
      umask 0177
      env_file_content "$ADMIN_TOKEN" >"$ENV_FILE.tmp"
    )
  fi
  run chown "root:$SVC_USER" "$ENV_FILE.tmp"
  run chmod 0640 "$ENV_FILE.tmp"
  run mv -f "$ENV_FILE.tmp" "$ENV_FILE"
  WROTE_ENV=1
fi

# ----------------------------------------------------------------- service --

if [ "$START" -eq 0 ]; then
  say "service: not enabled or started (--no-start); when ready: systemctl daemon-reload && systemctl enable --now gopherpost"
elif command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  say "service: enable and (re)start"
  run systemctl daemon-reload
  run systemctl enable gopherpost.service
  run systemctl restart gopherpost.service
else
  say "service: systemd is not running here; start it yourself: $NODE_BIN $PREFIX/dist/src/cli/main.js serve"
fi

# ----------------------------------------------------------------- summary --

if [ "$DRY_RUN" -eq 1 ]; then
  say "dry run complete: nothing was changed"
  exit 0
fi
say "installed. Check: systemctl status gopherpost; journalctl -u gopherpost -f"
case $HEALTH_ADDR in
  :*) HEALTH_URL=http://127.0.0.1$HEALTH_ADDR/healthz ;;
  *) HEALTH_URL=http://$HEALTH_ADDR/healthz ;;
esac
say "health: curl $HEALTH_URL (SMTP on port $PORT)"
if [ "$WROTE_ENV" -eq 1 ] && [ "$TOKEN_GENERATED" -eq 1 ]; then
  say "an admin token was generated; read it with: grep SMTP_ADMIN_TOKEN $ENV_FILE"
fi
