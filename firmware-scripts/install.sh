#!/usr/bin/env bash
# Grove on-device installer: checks the system, installs the runtime dependencies (apt), installs
# Grove from a release tarball or from this checkout, and runs it under systemd as the server
# (control plane + local agent) or as an agent that joins a server. Idempotent: a second run with
# the same settings changes nothing and says "unchanged". firmware-scripts/uninstall.sh removes
# everything listed in the manifest this script keeps. docs/raspberry-pi.md, docs/operations.md.
#
#   sudo ./install.sh                                   # server on this Pi
#   sudo ./install.sh --server https://10.0.0.2:7080 --token K1.…   # agent that joins it
#   curl … | sudo GROVE_SERVER_URL=… GROVE_TOKEN=… sh -s -        # same, settings from the env
#
# Every option is a flag and an environment variable (the flag wins):
#   --role server|agent|auto   GROVE_ROLE            auto: agent when a server URL and token are
#                                                    given (or the node already joined), else server
#   --server URL               GROVE_SERVER_URL      server API URL the agent joins
#   --token TOKEN              GROVE_TOKEN           join token (`grove token create`); first join only:
#                                                    kept in /etc/grove/join-token (0600, never in
#                                                    argv or the env file), removed once joined
#   --node-name NAME           GROVE_NODE_NAME       node name (default: hostname)
#   --label k=v (repeatable)   GROVE_LABELS          node labels, comma-separated in the variable
#   --data-dir DIR             GROVE_DATA_DIR        state directory (default /var/lib/grove)
#   --runtime auto|crun|runc   GROVE_RUNTIME         OCI runtime (default auto: crun, else runc)
#   --server-args "ARGS"       GROVE_SERVER_ARGS     extra `grove server` flags (e.g. "--tls")
#   --release TARBALL|URL      GROVE_RELEASE_TARBALL install this release tarball
#                                                    (grove-<version>-linux-<arch>.tar.gz, see below)
#   --sha256 HEX               GROVE_RELEASE_SHA256  its checksum (else taken from a SHA256SUMS file
#                                                    beside the tarball); a release is never
#                                                    installed unverified
#   --source DIR               GROVE_SOURCE_DIR      install from this built checkout instead
#                                                    (default: the checkout holding this script)
#   --install-dir DIR          GROVE_INSTALL_DIR     where Grove goes (default /opt/grove)
#   --watchdog-sec N           GROVE_WATCHDOG_SEC    systemd WatchdogSec for grove.service (default 60)
#   --hw-watchdog              GROVE_HW_WATCHDOG=1   let systemd drive the hardware watchdog
#                                                    (RuntimeWatchdogSec, reboots a hung board)
#   --fix-cgroups auto|yes|no  GROVE_FIX_CGROUPS     add cgroup_enable=memory to cmdline.txt: auto =
#                                                    when the running kernel lacks the memory cgroup
#   --root DIR                 GROVE_ROOT            install into DIR as if it were / (an image, a
#                                                    test): host facts are reported, never fatal;
#                                                    no apt, no systemctl
#   --skip-apt                 GROVE_SKIP_APT=1      do not install packages
#   --no-enable                GROVE_NO_ENABLE=1     write the unit but do not enable or start it
#   --no-start                 GROVE_NO_START=1      enable the unit but do not start it now
#   -h, --help
#
# Release tarball layout (made by `npm run package`): grove-<version>-linux-<arch>.tar.gz holding
# one top directory with bin/grove (the launcher) and whatever it needs beside it. The unpack is
# tolerant: the directory (at any depth up to 3) that holds an executable bin/grove becomes the
# install dir. From a checkout, dist/ (built), package.json, the production node_modules and
# agent/shim/build/grove-shim are copied, and a bin/grove launcher is written.
set -euo pipefail
# `producer | install_content …` must run install_content in this shell (it records what it wrote).
shopt -s lastpipe

info() { printf '[grove] %s\n' "$*"; }
warn() { printf '[grove] warning: %s\n' "$*" >&2; }
fatal() { printf '[grove] error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

SCRIPT_DIR=$(cd "$(dirname "$0")" 2>/dev/null && pwd || echo /nonexistent)

# ---- settings: environment first, flags override -------------------------------------------
ROLE=${GROVE_ROLE:-auto}
SERVER_URL=${GROVE_SERVER_URL:-}
TOKEN=${GROVE_TOKEN:-}
NODE_NAME=${GROVE_NODE_NAME:-}
LABELS=${GROVE_LABELS:-}
DATA_DIR=${GROVE_DATA_DIR:-/var/lib/grove}
RUNTIME=${GROVE_RUNTIME:-auto}
SERVER_ARGS=${GROVE_SERVER_ARGS:-}
RELEASE=${GROVE_RELEASE_TARBALL:-}
RELEASE_SHA256=${GROVE_RELEASE_SHA256:-}
SOURCE_DIR=${GROVE_SOURCE_DIR:-}
INSTALL_DIR=${GROVE_INSTALL_DIR:-/opt/grove}
WATCHDOG_SEC=${GROVE_WATCHDOG_SEC:-60}
HW_WATCHDOG=${GROVE_HW_WATCHDOG:-0}
FIX_CGROUPS=${GROVE_FIX_CGROUPS:-auto}
ROOT=${GROVE_ROOT:-}
SKIP_APT=${GROVE_SKIP_APT:-0}
NO_ENABLE=${GROVE_NO_ENABLE:-0}
NO_START=${GROVE_NO_START:-0}

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || fatal "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --role) need_value "$@"; ROLE=$2; shift 2 ;;
    --server) need_value "$@"; SERVER_URL=$2; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; shift 2 ;;
    --node-name) need_value "$@"; NODE_NAME=$2; shift 2 ;;
    --label) need_value "$@"; LABELS=${LABELS:+$LABELS,}$2; shift 2 ;;
    --data-dir) need_value "$@"; DATA_DIR=$2; shift 2 ;;
    --runtime) need_value "$@"; RUNTIME=$2; shift 2 ;;
    --server-args) need_value "$@"; SERVER_ARGS=$2; shift 2 ;;
    --release) need_value "$@"; RELEASE=$2; shift 2 ;;
    --sha256) need_value "$@"; RELEASE_SHA256=$2; shift 2 ;;
    --source) need_value "$@"; SOURCE_DIR=$2; shift 2 ;;
    --install-dir) need_value "$@"; INSTALL_DIR=$2; shift 2 ;;
    --watchdog-sec) need_value "$@"; WATCHDOG_SEC=$2; shift 2 ;;
    --hw-watchdog) HW_WATCHDOG=1; shift ;;
    --fix-cgroups) need_value "$@"; FIX_CGROUPS=$2; shift 2 ;;
    --root) need_value "$@"; ROOT=$2; shift 2 ;;
    --skip-apt) SKIP_APT=1; shift ;;
    --no-enable) NO_ENABLE=1; shift ;;
    --no-start) NO_START=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fatal "unknown option $1 (see --help)" ;;
  esac
done

# ---- validation: everything below ends up in unit and env files ----------------------------
case "$ROLE" in server | agent | auto) ;; *) fatal "--role must be server, agent or auto" ;; esac
case "$RUNTIME" in auto | crun | runc) ;; *) fatal "--runtime must be auto, crun or runc" ;; esac
case "$FIX_CGROUPS" in auto | yes | no) ;; *) fatal "--fix-cgroups must be auto, yes or no" ;; esac
[[ "$WATCHDOG_SEC" =~ ^[0-9]+$ ]] && [ "$WATCHDOG_SEC" -ge 0 ] && [ "$WATCHDOG_SEC" -le 3600 ] || fatal "--watchdog-sec must be 0..3600 (0 turns the watchdog off)"
safe_path() { [[ "$2" =~ ^/[A-Za-z0-9._/+-]*$ ]] || fatal "$1 must be an absolute path of letters, digits and ._/+- ($2)"; }
safe_path --data-dir "$DATA_DIR"
safe_path --install-dir "$INSTALL_DIR"
url_re='^https?://[][A-Za-z0-9.:_-]+(/[A-Za-z0-9._/-]*)?$'
[ -z "$SERVER_URL" ] || [[ "$SERVER_URL" =~ $url_re ]] || fatal "--server must be an http(s):// URL ($SERVER_URL)"
[ -z "$TOKEN" ] || [[ "$TOKEN" =~ ^[A-Za-z0-9._:-]{1,512}$ ]] || fatal "--token contains characters a join token never has"
[ -z "$NODE_NAME" ] || [[ "$NODE_NAME" =~ ^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$ ]] || fatal "--node-name must be lowercase letters, digits, '-' and '.' ($NODE_NAME)"
if [ -n "$LABELS" ]; then
  IFS=',' read -r -a label_list <<<"$LABELS"
  for label in "${label_list[@]}"; do
    [[ "$label" =~ ^[A-Za-z0-9]([A-Za-z0-9._/-]{0,252})=[A-Za-z0-9._-]{0,63}$ ]] || fatal "label \"$label\" is not key=value (letters, digits, ._-/)"
  done
fi
[[ "$SERVER_ARGS" =~ ^[A-Za-z0-9=.:/,_\ -]*$ ]] || fatal "--server-args may hold only flags and plain values"
HW_WATCHDOG=$([ "$HW_WATCHDOG" = 1 ] || [ "$HW_WATCHDOG" = true ] && echo 1 || echo 0)

if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || fatal "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=
fi
ROOTED=$([ -n "$ROOT" ] && echo 1 || echo 0)
[ "$ROOTED" = 1 ] || [ "$(id -u)" -eq 0 ] || fatal "run as root (sudo $0 …), or use --root DIR"

# The join token lives in its own file, read by the agent for its first join only and removed
# after it (the unit's ExecStartPost, or the next run of this script): it never shows in `ps`
# and does not outlive the join in the unit's env file.
TOKEN_FILE=/etc/grove/join-token
JOINED=$([ -f "$ROOT$DATA_DIR/agent/join.json" ] && echo 1 || echo 0)
HAS_TOKEN=$({ [ -n "$TOKEN" ] || [ -f "$ROOT$TOKEN_FILE" ]; } && echo 1 || echo 0)

# Role: an agent when it can join (or has joined), else the server.
[ -z "$TOKEN" ] || [ -n "$SERVER_URL" ] || [ "$ROLE" = agent ] || fatal "--token goes with --server URL (the server the node joins)"
if [ "$ROLE" = auto ]; then
  if [ -n "$SERVER_URL" ] && { [ "$HAS_TOKEN" = 1 ] || [ "$JOINED" = 1 ]; }; then ROLE=agent; else ROLE=server; fi
fi
if [ "$ROLE" = agent ]; then
  [ -n "$SERVER_URL" ] || [ "$JOINED" = 1 ] || fatal "the agent role needs --server URL (and --token TOKEN for its first join)"
  [ "$HAS_TOKEN" = 1 ] || [ "$JOINED" = 1 ] || fatal "the agent role needs --token TOKEN for its first join (grove token create on the server)"
fi

UNIT_NAME=grove.service
UNIT_PATH=/etc/systemd/system/$UNIT_NAME
ENV_FILE=/etc/grove/$ROLE.env
LAUNCHER_LINK=/usr/local/bin/grove
MANIFEST=/etc/grove/.installed-files
WATCHDOG_CONF=/etc/systemd/system.conf.d/grove-watchdog.conf
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grove-install.XXXXXX")
# The manifest is saved on every exit, failures included, so uninstall.sh can undo a half run.
trap 'status=$?; save_manifest || true; rm -rf "$WORK"; exit $status' EXIT

# ---- the manifest: what this script created, so uninstall.sh can remove exactly that --------
# Lines: "dir PATH" (created, removed when empty), "file PATH", "link PATH", "tree PATH"
# (removed whole), "replaced PATH" (existed before: restored from PATH.grove-orig).
declare -a MANIFEST_LINES=()
if [ -f "$ROOT$MANIFEST" ]; then mapfile -t MANIFEST_LINES <"$ROOT$MANIFEST"; fi
in_manifest() { local line; for line in "${MANIFEST_LINES[@]}"; do [ "$line" = "$1" ] && return 0; done; return 1; }
record() { in_manifest "$1 $2" || MANIFEST_LINES+=("$1 $2"); }
ours() { in_manifest "file $1" || in_manifest "replaced $1" || in_manifest "link $1" || in_manifest "tree $1"; }

CHANGED=0
MANIFEST_SAVED=0
save_manifest() {
  [ "$MANIFEST_SAVED" = 0 ] && [ "${#MANIFEST_LINES[@]}" -gt 0 ] || return 0
  ensure_dir "$(dirname "$MANIFEST")"
  record file "$MANIFEST"
  printf '%s\n' "${MANIFEST_LINES[@]}" | install_content "$MANIFEST" 600
}

# ensure_dir PATH: creates each missing component under ROOT, recording it.
ensure_dir() {
  local path=$1 part="" component
  IFS='/' read -r -a components <<<"${path#/}"
  for component in "${components[@]}"; do
    part="$part/$component"
    if [ ! -d "$ROOT$part" ]; then
      mkdir -m 0755 "$ROOT$part"
      record dir "$part"
    fi
  done
}

# install_content PATH MODE < content: writes only when content or mode differ.
install_content() {
  local path=$1 mode=$2 tmp="$WORK/content"
  cat >"$tmp"
  ensure_dir "$(dirname "$path")"
  if [ -f "$ROOT$path" ] && cmp -s "$tmp" "$ROOT$path" && [ "$(stat -c %a "$ROOT$path")" = "$mode" ]; then
    info "unchanged $path"
    return 0
  fi
  if [ -e "$ROOT$path" ] && ! ours "$path"; then
    cp -a "$ROOT$path" "$ROOT$path.grove-orig"
    record replaced "$path"
  else
    record file "$path"
  fi
  install -m "$mode" "$tmp" "$ROOT$path.grove-new"
  mv -f "$ROOT$path.grove-new" "$ROOT$path"
  CHANGED=1
  info "wrote $path"
}

# install_link PATH TARGET
install_link() {
  local path=$1 target=$2
  ensure_dir "$(dirname "$path")"
  if [ -L "$ROOT$path" ] && [ "$(readlink "$ROOT$path")" = "$target" ]; then
    info "unchanged $path"
    return 0
  fi
  if [ -e "$ROOT$path" ] || [ -L "$ROOT$path" ]; then
    if ours "$path"; then
      rm -f "$ROOT$path"
    else
      # Someone else's (e.g. quickstart.sh's link to a checkout): kept aside, restored on uninstall.
      [ -L "$ROOT$path" ] || [ -f "$ROOT$path" ] || fatal "$path exists and is not a file or link: move it away first"
      mv "$ROOT$path" "$ROOT$path.grove-orig"
      record replaced "$path"
      info "kept the previous $path as $path.grove-orig"
    fi
  fi
  ln -s "$target" "$ROOT$path"
  in_manifest "replaced $path" || record link "$path"
  CHANGED=1
  info "linked $path -> $target"
}

# ---- system checks ----------------------------------------------------------------------------
# Host facts describe this machine, not the --root target: reported there, never fatal.
problem() { if [ "$ROOTED" = 1 ]; then warn "$* (host fact, ignored with --root)"; else fatal "$*"; fi; }

case "$(uname -m)" in
  aarch64 | arm64) ARCH=arm64 ;;
  armv7l | armv8l) ARCH=armv7 ;;
  x86_64 | amd64) ARCH=amd64 ;;
  *) ARCH=$(uname -m); problem "unsupported architecture $ARCH (Grove ships arm64, armv7 and amd64)" ;;
esac
info "system: $(uname -s) $(uname -r) $ARCH"

memory_cgroup_enabled() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then grep -qw memory /sys/fs/cgroup/cgroup.controllers; return; fi
  awk '$1 == "memory" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups 2>/dev/null
}
MEMORY_CGROUP=1
if ! memory_cgroup_enabled; then
  MEMORY_CGROUP=0
  warn "the memory cgroup is disabled: container memory limits need it (cgroup_enable=memory on the kernel command line)"
fi
grep -qw overlay /proc/filesystems 2>/dev/null || { [ "$ROOTED" = 0 ] && modprobe overlay 2>/dev/null; } || problem "overlayfs is not available (sudo modprobe overlay)"
disk_probe=$ROOT$DATA_DIR
while [ ! -d "$disk_probe" ]; do disk_probe=$(dirname "$disk_probe"); done
free_kb=$(df -Pk "$disk_probe" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt 524288 ]; then
  if [ "$ROOTED" = 1 ]; then warn "only $((free_kb / 1024)) MiB free for $DATA_DIR"; else fatal "only $((free_kb / 1024)) MiB free for $DATA_DIR: Grove needs at least 512 MiB"; fi
fi
# A Pi has no real-time clock: before NTP it may think it is 1970, and TLS and join tokens fail.
[ "$(date -u +%Y)" -ge 2025 ] || warn "the clock says $(date -u +%F): wait for NTP (timedatectl) before joining"

# ---- dependencies -----------------------------------------------------------------------------
if [ "$ROOTED" = 1 ] || [ "$SKIP_APT" = 1 ]; then
  info "skipping apt ($([ "$ROOTED" = 1 ] && echo "--root" || echo "--skip-apt"))"
else
  command -v apt-get >/dev/null || fatal "apt-get not found: install crun (or runc), containernetworking-plugins and Node.js >= 20 yourself, then use --skip-apt"
  wanted=(containernetworking-plugins iptables conntrack util-linux ca-certificates)
  case "$RUNTIME" in
    runc) wanted+=(runc) ;;
    *) wanted+=(crun) ;;
  esac
  command -v node >/dev/null || wanted+=(nodejs)
  missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    info "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    info "runtime packages already present"
  fi
fi
if [ "$ROOTED" = 0 ]; then
  command -v node >/dev/null || fatal "Node.js >= 20 is required (https://nodejs.org, or NodeSource's apt repository)"
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_major" -ge 20 ] || fatal "Node.js >= 20 is required, found $(node --version): your distribution's nodejs is too old, use NodeSource's"
fi

# ---- Grove itself -----------------------------------------------------------------------------
STAGE="$WORK/stage"
mkdir -p "$STAGE"

sha256_of() { sha256sum "$1" | awk '{ print $1 }'; }

stage_release() {
  local tarball=$RELEASE name expected
  if [[ "$tarball" =~ ^https?:// ]]; then
    [ -n "$RELEASE_SHA256" ] || fatal "a release URL needs --sha256 (from the release's SHA256SUMS)"
    info "downloading $tarball"
    if command -v curl >/dev/null; then curl -fsSL -o "$WORK/release.tar.gz" "$tarball"; else wget -qO "$WORK/release.tar.gz" "$tarball"; fi
    name=$(basename "$tarball")
    tarball="$WORK/release.tar.gz"
  else
    [ -f "$tarball" ] || fatal "release tarball $tarball not found"
    name=$(basename "$tarball")
  fi
  expected=$RELEASE_SHA256
  if [ -z "$expected" ] && [ -f "$(dirname "$RELEASE")/SHA256SUMS" ]; then
    expected=$(awk -v n="$name" '{ f = $2; sub(/^\*/, "", f) } f == n { print $1 }' "$(dirname "$RELEASE")/SHA256SUMS")
  fi
  [ -n "$expected" ] || fatal "no checksum for $name: pass --sha256 or put SHA256SUMS beside it"
  [[ "$expected" =~ ^[0-9a-fA-F]{64}$ ]] || fatal "--sha256 must be 64 hex digits"
  [ "$(sha256_of "$tarball")" = "${expected,,}" ] || fatal "checksum mismatch for $name: refusing to install it"
  info "checksum verified: $name"
  if [[ "$name" =~ -linux-([a-z0-9]+)\.tar\.gz$ ]] && [ "${BASH_REMATCH[1]}" != "$ARCH" ]; then
    problem "$name is for ${BASH_REMATCH[1]}, this machine is $ARCH"
  fi
  mkdir -p "$WORK/unpack"
  tar -xzf "$tarball" -C "$WORK/unpack" --no-same-owner
  local launcher
  launcher=$(find "$WORK/unpack" -maxdepth 4 -path '*/bin/grove' -type f | sort | head -n 1)
  [ -n "$launcher" ] || fatal "$name holds no bin/grove launcher: not a Grove release"
  cp -a "$(dirname "$(dirname "$launcher")")/." "$STAGE/"
  chmod 0755 "$STAGE/bin/grove"
}

stage_checkout() {
  local src=$SOURCE_DIR rel
  [ -f "$src/package.json" ] && [ -f "$src/dist/src/cli/grove.js" ] || fatal "$src is not a built Grove checkout (run npm run build there, or pass --release)"
  [ -x "$src/agent/shim/build/grove-shim" ] || fatal "$src/agent/shim/build/grove-shim is missing (npm run build)"
  info "installing from the checkout at $src"
  cp "$src/package.json" "$STAGE/"
  mkdir -p "$STAGE/dist" "$STAGE/agent/shim/build" "$STAGE/node_modules" "$STAGE/bin" "$STAGE/firmware-scripts"
  cp -a "$src/dist/src" "$src/dist/agent" "$STAGE/dist/"
  cp -a "$src/agent/shim/build/grove-shim" "$STAGE/agent/shim/build/"
  cp -a "$src/firmware-scripts/install.sh" "$src/firmware-scripts/uninstall.sh" "$STAGE/firmware-scripts/"
  # Production dependencies only (no compilers, test runners): what `npm ls --omit=dev` lists.
  if command -v npm >/dev/null && (cd "$src" && npm ls --omit=dev --all --parseable >"$WORK/deps" 2>/dev/null); then
    while IFS= read -r dep; do
      rel=${dep#*/node_modules/}
      [ "$rel" != "$dep" ] && [[ "$rel" != */node_modules/* ]] || continue
      mkdir -p "$STAGE/node_modules/$(dirname "$rel")"
      cp -a "$dep" "$STAGE/node_modules/$rel"
    done <"$WORK/deps"
  else
    warn "npm not found: copying all of node_modules"
    cp -a "$src/node_modules/." "$STAGE/node_modules/"
  fi
  cat >"$STAGE/bin/grove" <<'LAUNCHER'
#!/bin/sh
# Grove launcher (installed from a checkout by firmware-scripts/install.sh).
here=$(dirname "$(readlink -f "$0")")
exec node "$here/../dist/src/cli/grove.js" "$@"
LAUNCHER
  chmod 0755 "$STAGE/bin/grove"
}

IN_PLACE=0
if [ -n "$RELEASE" ]; then
  stage_release
else
  if [ -z "$SOURCE_DIR" ]; then SOURCE_DIR=$(cd "$SCRIPT_DIR/.." && pwd); fi
  if [ -d "$ROOT$INSTALL_DIR" ] && [ "$(readlink -f "$SOURCE_DIR")" = "$(readlink -f "$ROOT$INSTALL_DIR")" ]; then
    # Run from the installed copy (first boot, a re-run after install): Grove is already there.
    IN_PLACE=1
    info "using the Grove already in $INSTALL_DIR"
  else
    stage_checkout
  fi
fi
# The installer travels with the install, for uninstall and first-boot runs.
if [ "$IN_PLACE" = 0 ] && [ ! -f "$STAGE/firmware-scripts/install.sh" ] && [ -f "$0" ]; then
  mkdir -p "$STAGE/firmware-scripts"
  cp "$0" "$STAGE/firmware-scripts/install.sh"
  [ ! -f "$(dirname "$0")/uninstall.sh" ] || cp "$(dirname "$0")/uninstall.sh" "$STAGE/firmware-scripts/"
fi

# The install dir is replaced as a whole, and only when something in it differs.
ensure_dir "$(dirname "$INSTALL_DIR")"
if [ "$IN_PLACE" = 1 ]; then
  :
elif [ -d "$ROOT$INSTALL_DIR" ] && diff -r --no-dereference -q "$STAGE" "$ROOT$INSTALL_DIR" >/dev/null 2>&1; then
  info "unchanged $INSTALL_DIR"
else
  [ ! -e "$ROOT$INSTALL_DIR" ] || ours "$INSTALL_DIR" || fatal "$INSTALL_DIR exists and was not installed by Grove: move it away or pass --install-dir"
  cp -a "$STAGE" "$ROOT$INSTALL_DIR.grove-new"
  chmod 0755 "$ROOT$INSTALL_DIR.grove-new"
  if [ -e "$ROOT$INSTALL_DIR" ]; then mv "$ROOT$INSTALL_DIR" "$ROOT$INSTALL_DIR.grove-old"; fi
  mv "$ROOT$INSTALL_DIR.grove-new" "$ROOT$INSTALL_DIR"
  rm -rf "$ROOT$INSTALL_DIR.grove-old"
  record tree "$INSTALL_DIR"
  CHANGED=1
  info "installed Grove in $INSTALL_DIR"
fi
install_link "$LAUNCHER_LINK" "$INSTALL_DIR/bin/grove"

# ---- memory cgroup on the boot command line -----------------------------------------------------
if [ "$FIX_CGROUPS" = yes ] || { [ "$FIX_CGROUPS" = auto ] && [ "$MEMORY_CGROUP" = 0 ] && [ "$ROOTED" = 0 ]; }; then
  cmdline=""
  for candidate in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    if [ -f "$ROOT$candidate" ]; then cmdline=$ROOT$candidate; break; fi
  done
  if [ -z "$cmdline" ]; then
    warn "no cmdline.txt under $ROOT/boot: add cgroup_enable=memory cgroup_memory=1 to your bootloader's kernel command line"
  elif command -v node >/dev/null; then
    # The same repair as `grove check --fix-cgroups` (one line, backup once, idempotent), run by
    # a grove this machine can execute: the checkout's when there is one (an image for another
    # architecture), else the one just installed.
    fix_cmd=("$ROOT$INSTALL_DIR/bin/grove")
    [ ! -f "$SCRIPT_DIR/../dist/src/cli/grove.js" ] || fix_cmd=(node "$SCRIPT_DIR/../dist/src/cli/grove.js")
    GROVE_LOG_LEVEL=error "${fix_cmd[@]}" check --fix-cgroups --cmdline "$cmdline" | sed 's/^/[grove] /'
  else
    warn "node is not available here to edit $cmdline: run grove check --fix-cgroups on the device"
  fi
fi

# ---- configuration and unit -------------------------------------------------------------------
# The environment the unit starts Grove with (one KEY=VALUE per word; test/support/unit-env.ts
# reads this line, so that benches start Grove exactly as the unit does; docs/performance.md):
# NODE_OPTIONS=--max-semi-space-size=4: V8's young generation at 4 MiB per semi-space instead of
# 16: bursts of short-lived objects (a watch's or a list's 10,000 pods in JSON) no longer grow
# it to 3 x 16 MiB resident (api-scale: -24 MiB at rest, -47 MiB at the watched peak).
# MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs (libuv's pool, V8's helpers) its own
# arena, up to 8 per core, each keeping what it freed; after a 10,000-pod rollout the server's
# native heap was 194 MiB with 2 arenas, 229 MiB with glibc's default (docs/performance.md).
UNIT_ENVIRONMENT="MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-semi-space-size=4"
env_line() { printf '%s=%s\n' "$1" "$2"; }
{
  echo "# Written by firmware-scripts/install.sh; read by $UNIT_NAME (mode 0600)."
  env_line GROVE_DATA_DIR "$DATA_DIR"
  env_line GROVE_RUNTIME "$RUNTIME"
  if [ "$ROLE" = agent ]; then
    env_line GROVE_SERVER_URL "$SERVER_URL"
    echo "# Read for the first join only (then removed); afterwards the node's own credentials in GROVE_DATA_DIR."
    env_line GROVE_TOKEN_FILE "$TOKEN_FILE"
    env_line GROVE_NODE_NAME "$NODE_NAME"
    env_line GROVE_LABELS "$LABELS"
  else
    args=$SERVER_ARGS
    [ -z "$NODE_NAME" ] || args="$args --node-name $NODE_NAME"
    if [ -n "$LABELS" ]; then for label in "${label_list[@]}"; do args="$args --label $label"; done; fi
    env_line GROVE_SERVER_ARGS "\"${args# }\""
  fi
} | install_content "$ENV_FILE" 600

if [ "$ROLE" = agent ]; then
  if [ "$JOINED" = 1 ]; then
    # The token has served its purpose; removing it is no reason to restart the agent.
    if [ -f "$ROOT$TOKEN_FILE" ]; then
      rm -f "$ROOT$TOKEN_FILE"
      info "removed $TOKEN_FILE (this node has joined)"
    fi
  elif [ -n "$TOKEN" ]; then
    printf '%s\n' "$TOKEN" | install_content "$TOKEN_FILE" 600
  fi
  exec_start="$INSTALL_DIR/bin/grove agent"
  description="Grove node agent"
else
  exec_start="$INSTALL_DIR/bin/grove server \$GROVE_SERVER_ARGS"
  description="Grove server (control plane and local agent)"
fi
{
  cat <<UNIT
# Written by firmware-scripts/install.sh (role: $ROLE).
[Unit]
Description=$description
Documentation=https://github.com/grove/grove/blob/main/docs/operations.md
Wants=network-online.target
After=network-online.target time-sync.target

[Service]
Type=notify
NotifyAccess=main
EnvironmentFile=$ENV_FILE
$(for pair in $UNIT_ENVIRONMENT; do echo "Environment=$pair"; done)
ExecStart=$exec_start
Restart=always
RestartSec=5s
UNIT
  if [ "$ROLE" = agent ]; then
    echo "# Runs once the agent is up (READY=1), i.e. has joined: the join token is not needed again."
    echo "ExecStartPost=-/bin/rm -f $TOKEN_FILE"
  fi
  if [ "$WATCHDOG_SEC" -gt 0 ]; then
    echo "# grove sends WATCHDOG=1 from its main loop every WatchdogSec/2; a hung agent is restarted."
    echo "WatchdogSec=${WATCHDOG_SEC}s"
  fi
  cat <<UNIT
# Containers run under their own grove-shim processes and must outlive agent restarts.
KillMode=process
TimeoutStopSec=30s
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
UNIT
} | install_content "$UNIT_PATH" 644

# The other role's env file from an earlier install would be stale: drop it.
other_env=/etc/grove/$([ "$ROLE" = agent ] && echo server || echo agent).env
if [ -f "$ROOT$other_env" ] && in_manifest "file $other_env"; then
  rm -f "$ROOT$other_env"
  CHANGED=1
  info "removed $other_env (role is now $ROLE)"
fi

if [ "$HW_WATCHDOG" = 1 ]; then
  # The Broadcom watchdog of a Pi allows at most ~15 s: systemd pets it, a hung kernel reboots.
  printf '%s\n' "# Written by firmware-scripts/install.sh (--hw-watchdog)." '[Manager]' 'RuntimeWatchdogSec=15s' 'RebootWatchdogSec=2min' |
    install_content "$WATCHDOG_CONF" 644
fi

# `systemctl enable` without systemctl, for --root: the symlink it would make.
if [ "$NO_ENABLE" != 1 ]; then
  if [ "$ROOTED" = 1 ]; then
    install_link "/etc/systemd/system/multi-user.target.wants/$UNIT_NAME" "$UNIT_PATH"
  fi
fi

# The manifest last, in the order things were created (uninstall.sh undoes it backwards).
save_manifest
MANIFEST_SAVED=1

# ---- systemd ------------------------------------------------------------------------------------
if [ "$ROOTED" = 1 ]; then
  info "done (--root $ROOT: not calling systemctl)"
  exit 0
fi
if ! command -v systemctl >/dev/null || [ ! -d /run/systemd/system ]; then
  warn "systemd is not running here: start Grove with $INSTALL_DIR/bin/grove $ROLE"
  exit 0
fi
systemctl daemon-reload
if [ "$HW_WATCHDOG" = 1 ] && [ "$CHANGED" = 1 ]; then systemctl daemon-reexec; fi
if [ "$NO_ENABLE" = 1 ]; then
  info "done: $UNIT_NAME written, not enabled (--no-enable)"
  exit 0
fi
systemctl enable --quiet "$UNIT_NAME"
if [ "$NO_START" = 1 ]; then
  info "done: $UNIT_NAME enabled, not started (--no-start)"
elif [ "$CHANGED" = 1 ] || ! systemctl is-active --quiet "$UNIT_NAME"; then
  systemctl restart "$UNIT_NAME"
  info "done: $UNIT_NAME (re)started; logs: journalctl -u $UNIT_NAME -f"
else
  info "done: nothing changed, $UNIT_NAME keeps running"
fi
[ "$MEMORY_CGROUP" = 1 ] || warn "reboot to enable the memory cgroup (sudo reboot)"
[ "$ROLE" != server ] || info "next: grove token create (on this server), then install.sh --server URL --token TOKEN on each node"
