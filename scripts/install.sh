#!/usr/bin/env bash
# Installs the tsmon server or agent from a release tarball (`npm run release`).
#
#   install.sh server --from ./tsmon-0.1.0-linux-x64.tar.gz [--setup-systemd]
#   install.sh agent  --server-endpoint http://10.0.1.100:9090 [--agent-id web-01] [--token T]
#   curl -fsSL http://SERVER:8080/install.sh | bash -s -- agent --server-endpoint http://SERVER:9090
#
# Safe to run again: the release is unpacked once per version, configs are written only
# when absent, the data dir is created but never emptied or overwritten, units and PM2
# files are written only when absent. It says what it did and what to run next.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: install.sh server|agent [options]

  --version V             release version to install (default: the one --from holds)
  --from FILE|URL         release tarball (default for agents: the server's own,
                          http://HOST:8080/download/tsmon-linux-x64.tar.gz, HOST from --server-endpoint)
  --install-dir DIR       where releases are unpacked (default /opt/tsmon; DIR/current is the active one)
  --bin-dir DIR           where the tsmon-server / tsmon-agent commands go (default /usr/local/bin)
  --config-dir DIR        server.toml / agent.toml, written only when absent (default /etc/tsmon)
  --data-dir DIR          server data (server only; default /var/lib/tsmon; never overwritten)
  --agent-id ID           agent only (default: this host's name)
  --server-endpoint URL   agent only: the server's gRPC address (default http://127.0.0.1:9090)
  --server-http-port N    agent only: the server's HTTP port, for the default --from (default 8080)
  --token TOKEN           agent only: its whitelist token (auth_token)
  --setup-pm2             write a PM2 file (when absent) and start it with the release's pm2
  --pm2-only              only write the PM2 file (no download, no install)
  --setup-systemd         install the systemd unit (when absent), then enable and start it
  --systemd-dir DIR       where units go (default /etc/systemd/system)
  --user NAME             the server unit's user, created if missing (default tsmon)
  --no-start              write everything, start nothing
  -h, --help              this help
USAGE
}

die() { echo "install.sh: $*" >&2; exit 2; }
did() { echo "  [done] $*"; }
kept() { echo "  [kept] $*"; }

COMPONENT="${1:-}"
case "$COMPONENT" in
  server|agent) shift ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; die "first argument must be 'server' or 'agent'" ;;
esac

VERSION="" FROM="" INSTALL_DIR=/opt/tsmon BIN_DIR=/usr/local/bin CONFIG_DIR=/etc/tsmon DATA_DIR=/var/lib/tsmon
AGENT_ID="$(hostname)" SERVER_ENDPOINT=http://127.0.0.1:9090 SERVER_HTTP_PORT=8080 TOKEN=""
SETUP_PM2=0 PM2_ONLY=0 SETUP_SYSTEMD=0 SYSTEMD_DIR=/etc/systemd/system RUN_USER=tsmon START=1

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --version) need_value "$@"; VERSION="$2"; shift 2 ;;
    --from) need_value "$@"; FROM="$2"; shift 2 ;;
    --install-dir) need_value "$@"; INSTALL_DIR="$2"; shift 2 ;;
    --bin-dir) need_value "$@"; BIN_DIR="$2"; shift 2 ;;
    --config-dir) need_value "$@"; CONFIG_DIR="$2"; shift 2 ;;
    --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
    --agent-id) need_value "$@"; AGENT_ID="$2"; shift 2 ;;
    --server-endpoint) need_value "$@"; SERVER_ENDPOINT="$2"; shift 2 ;;
    --server-http-port) need_value "$@"; SERVER_HTTP_PORT="$2"; shift 2 ;;
    --token) need_value "$@"; TOKEN="$2"; shift 2 ;;
    --setup-pm2) SETUP_PM2=1; shift ;;
    --pm2-only) PM2_ONLY=1; SETUP_PM2=1; shift ;;
    --setup-systemd) SETUP_SYSTEMD=1; shift ;;
    --systemd-dir) need_value "$@"; SYSTEMD_DIR="$2"; shift 2 ;;
    --user) need_value "$@"; RUN_USER="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
INSTALL_DIR="$(abs "$INSTALL_DIR")" BIN_DIR="$(abs "$BIN_DIR")" CONFIG_DIR="$(abs "$CONFIG_DIR")" DATA_DIR="$(abs "$DATA_DIR")" SYSTEMD_DIR="$(abs "$SYSTEMD_DIR")"
CURRENT="$INSTALL_DIR/current"
CONFIG_FILE="$CONFIG_DIR/$COMPONENT.toml"

echo "tsmon install: $COMPONENT"

# --- the release -------------------------------------------------------------------------
install_release() {
  command -v node >/dev/null 2>&1 || die "Node.js 20 or later is needed and 'node' is not on the PATH (https://nodejs.org, or your distribution's nodejs package)"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20 or later is needed; this is $(node --version)"

  if [ -z "$FROM" ]; then
    [ "$COMPONENT" = agent ] || die "--from FILE|URL is needed for the server: a release tarball from 'npm run release'"
    local host; host="$(printf '%s' "$SERVER_ENDPOINT" | sed -E 's#^[a-z]+://##; s#:[0-9]+/?$##')"
    FROM="http://$host:$SERVER_HTTP_PORT/download/tsmon-linux-x64.tar.gz"
  fi
  TMP_DIR="$(mktemp -d)"
  trap 'rm -rf "$TMP_DIR"' EXIT
  local tmp="$TMP_DIR" tarball="$TMP_DIR/release.tar.gz"
  case "$FROM" in
    http://*|https://*) curl -fsSL "$FROM" -o "$tarball" || die "could not download $FROM" ;;
    *) [ -f "$FROM" ] || die "--from $FROM: no such file"; cp "$FROM" "$tarball" ;;
  esac
  local sum="${FROM}.sha256"
  case "$FROM" in
    http://*|https://*) curl -fsSL "$sum" -o "$tmp/sum" 2>/dev/null && sum="$tmp/sum" || sum="" ;;
    *) [ -f "$sum" ] || sum="" ;;
  esac
  if [ -n "$sum" ]; then
    [ "$(cut -d' ' -f1 "$sum")" = "$(sha256sum "$tarball" | cut -d' ' -f1)" ] || die "the tarball's sha256 does not match $sum"
  fi
  local name; name="$(tar -tzf "$tarball" | awk -F/ 'NR == 1 { print $1 }')"
  case "$name" in tsmon-*) ;; *) die "$FROM does not look like a tsmon release (top folder '$name')" ;; esac
  local got="${name#tsmon-}"; got="${got%-*-*}"
  [ -z "$VERSION" ] || [ "$VERSION" = "$got" ] || die "--version $VERSION asked, but $FROM holds $got"
  VERSION="$got"

  mkdir -p "$INSTALL_DIR/releases"
  if [ -d "$INSTALL_DIR/releases/$name" ]; then
    kept "release $VERSION in $INSTALL_DIR/releases/$name"
  else
    tar -xzf "$tarball" -C "$tmp"
    mv "$tmp/$name" "$INSTALL_DIR/releases/$name"
    did "unpacked release $VERSION into $INSTALL_DIR/releases/$name"
  fi
  if [ "$(readlink "$CURRENT" 2>/dev/null || true)" = "releases/$name" ]; then
    kept "$CURRENT -> releases/$name"
  else
    ln -sfn "releases/$name" "$CURRENT"
    did "$CURRENT -> releases/$name"
  fi
  if [ "$COMPONENT" = server ]; then
    # Agents install from the server they report to: it serves this tarball at /download.
    mkdir -p "$INSTALL_DIR/downloads"
    if cmp -s "$tarball" "$INSTALL_DIR/downloads/$name.tar.gz" 2>/dev/null; then kept "$INSTALL_DIR/downloads/$name.tar.gz"; else
      cp "$tarball" "$INSTALL_DIR/downloads/$name.tar.gz"; did "kept a copy for agents: $INSTALL_DIR/downloads/$name.tar.gz"; fi
  fi

  mkdir -p "$BIN_DIR"
  local cmd wrapper
  for cmd in tsmon-server tsmon-agent; do
    wrapper="#!/bin/sh
exec node \"$CURRENT/bin/$cmd.js\" \"\$@\""
    if [ -f "$BIN_DIR/$cmd" ] && [ "$(cat "$BIN_DIR/$cmd")" = "$wrapper" ]; then kept "$BIN_DIR/$cmd"; else
      printf '%s\n' "$wrapper" > "$BIN_DIR/$cmd"; chmod 755 "$BIN_DIR/$cmd"; did "command $BIN_DIR/$cmd"; fi
  done
}

# --- configuration and data --------------------------------------------------------------
write_config() {
  mkdir -p "$CONFIG_DIR"
  if [ -e "$CONFIG_FILE" ]; then
    kept "$CONFIG_FILE (present; not changed)"
    return
  fi
  local example="$CURRENT/config/$COMPONENT.example.toml"
  [ -f "$example" ] || die "no $example: install the release first (without --pm2-only)"
  if [ "$COMPONENT" = server ]; then
    sed -E "s#^data_dir = .*#data_dir = \"$DATA_DIR\"#" "$example" > "$CONFIG_FILE.tmp"
  else
    sed -E "s#^server_endpoint = .*#server_endpoint = \"$SERVER_ENDPOINT\"#; s#^\# agent_id = .*#agent_id = \"$AGENT_ID\"#" "$example" > "$CONFIG_FILE.tmp"
    [ -z "$TOKEN" ] || sed -i -E "s#^\# auth_token = .*#auth_token = \"$TOKEN\"#" "$CONFIG_FILE.tmp"
  fi
  chmod 600 "$CONFIG_FILE.tmp"
  mv "$CONFIG_FILE.tmp" "$CONFIG_FILE"
  did "wrote $CONFIG_FILE"
}

make_data_dir() {
  [ "$COMPONENT" = server ] || return 0
  if [ -d "$DATA_DIR" ]; then kept "data dir $DATA_DIR (contents untouched)"; else
    mkdir -p "$DATA_DIR"; chmod 700 "$DATA_DIR"; did "created data dir $DATA_DIR"; fi
}

# --- process managers --------------------------------------------------------------------
setup_pm2() {
  local file="$CONFIG_DIR/ecosystem.$COMPONENT.config.cjs"
  mkdir -p "$CONFIG_DIR"
  if [ -e "$file" ]; then kept "$file"; else
    local extra=""
    # The server's env: glibc malloc returns large freed buffers (docs/performance.md, "Memory after bursts").
    [ "$COMPONENT" = server ] && extra="exec_mode: \"cluster\", instances: 2, kill_timeout: 15000, env: { MALLOC_ARENA_MAX: \"2\", MALLOC_MMAP_THRESHOLD_: \"131072\" },"
    cat > "$file" <<PM2
// PM2 file for tsmon-$COMPONENT, written by install.sh. pm2 start $file
module.exports = { apps: [{
  name: "tsmon-$COMPONENT",
  script: "$CURRENT/bin/tsmon-$COMPONENT.js",
  args: "$CONFIG_FILE",
  $extra
  exp_backoff_restart_delay: 200,
}] };
PM2
    did "wrote $file"
  fi
  PM2="$CURRENT/node_modules/.bin/pm2"
  command -v pm2 >/dev/null 2>&1 && PM2=pm2
  if [ "$START" = 1 ] && [ "$PM2_ONLY" = 0 ]; then
    "$PM2" startOrReload "$file" >/dev/null && did "started tsmon-$COMPONENT under PM2 ($PM2)"
  fi
}

setup_systemd() {
  local unit="tsmon-$COMPONENT.service" target="$SYSTEMD_DIR/tsmon-$COMPONENT.service"
  local template="$CURRENT/deploy/systemd/$unit"
  [ -f "$template" ] || die "no $template in the release"
  mkdir -p "$SYSTEMD_DIR"
  if [ -e "$target" ]; then kept "$target (present; not changed)"; else
    sed -e "s#/usr/local/bin/#$BIN_DIR/#; s#/etc/tsmon/#$CONFIG_DIR/#; s#^ReadWritePaths=.*#ReadWritePaths=$DATA_DIR#" \
        -e "s#^User=.*#User=$RUN_USER#; s#^Group=.*#Group=$RUN_USER#" "$template" > "$target"
    did "wrote $target"
  fi
  if [ "$COMPONENT" = server ] && [ "$RUN_USER" != root ]; then
    if id "$RUN_USER" >/dev/null 2>&1; then kept "user $RUN_USER"; else
      useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$RUN_USER"; did "created system user $RUN_USER"; fi
    if [ "$(stat -c %U "$DATA_DIR")" != "$RUN_USER" ]; then chown -R "$RUN_USER:$RUN_USER" "$DATA_DIR"; did "$DATA_DIR owned by $RUN_USER"; fi
    if [ "$(stat -c %G "$CONFIG_FILE")" != "$RUN_USER" ]; then chgrp "$RUN_USER" "$CONFIG_FILE"; chmod 640 "$CONFIG_FILE"; did "$CONFIG_FILE readable by $RUN_USER"; fi
  fi
  if [ "$START" = 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now "$unit" >/dev/null 2>&1 && did "enabled and started $unit"
  fi
}

[ "$PM2_ONLY" = 1 ] || { install_release; write_config; make_data_dir; }
[ "$SETUP_PM2" = 0 ] || setup_pm2
[ "$SETUP_SYSTEMD" = 0 ] || setup_systemd

echo
echo "next:"
if [ "$SETUP_SYSTEMD" = 1 ]; then
  echo "  systemctl status tsmon-$COMPONENT; journalctl -u tsmon-$COMPONENT -f"
elif [ "$SETUP_PM2" = 1 ]; then
  echo "  pm2 status; pm2 logs tsmon-$COMPONENT"
else
  echo "  $BIN_DIR/tsmon-$COMPONENT $CONFIG_FILE"
fi
if [ "$COMPONENT" = server ]; then
  echo "  the first start prints the admin password; agents install with:"
  echo "  curl -fsSL http://THIS-HOST:8080/install.sh | bash -s -- agent --server-endpoint http://THIS-HOST:9090"
fi
