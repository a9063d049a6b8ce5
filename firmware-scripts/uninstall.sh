#!/usr/bin/env bash
# Removes what firmware-scripts/install.sh added, exactly: it reads the manifest install.sh keeps
# (/etc/grove/.installed-files) and undoes it backwards (files, links and the install dir
# removed, replaced files restored, created directories removed when empty).
#
#   --keep-data            GROVE_KEEP_DATA=1  keep the data dir and leave containers running
#                                             with their network (otherwise they are removed,
#                                             then the node's network rules and interfaces,
#                                             then the data dir)
#   --data-dir DIR         GROVE_DATA_DIR     the data dir (default: from the installed env file,
#                                             else /var/lib/grove)
#   --root DIR             GROVE_ROOT         uninstall from DIR as if it were / (no systemctl)
#   -h, --help
#
# The memory cgroup setting in cmdline.txt stays (other software needs it too); its original is
# in cmdline.txt.grove-bak.
set -euo pipefail

info() { printf '[grove] %s\n' "$*"; }
warn() { printf '[grove] warning: %s\n' "$*" >&2; }
fatal() { printf '[grove] error: %s\n' "$*" >&2; exit 1; }

KEEP_DATA=${GROVE_KEEP_DATA:-0}
DATA_DIR=${GROVE_DATA_DIR:-}
ROOT=${GROVE_ROOT:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-data) KEEP_DATA=1; shift ;;
    --data-dir) [ $# -ge 2 ] || fatal "--data-dir needs a value"; DATA_DIR=$2; shift 2 ;;
    --root) [ $# -ge 2 ] || fatal "--root needs a value"; ROOT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fatal "unknown option $1 (see --help)" ;;
  esac
done
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || fatal "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=
fi
[ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || fatal "run as root (sudo $0), or use --root DIR"

MANIFEST=/etc/grove/.installed-files
UNIT_NAME=grove.service
[ -f "$ROOT$MANIFEST" ] || fatal "no $MANIFEST: Grove was not installed by install.sh here (nothing to undo)"
mapfile -t entries <"$ROOT$MANIFEST"

if [ -z "$DATA_DIR" ]; then
  DATA_DIR=$(cat "$ROOT"/etc/grove/*.env 2>/dev/null | sed -n 's/^GROVE_DATA_DIR=//p' | head -n 1 || true)
  DATA_DIR=${DATA_DIR:-/var/lib/grove}
fi
[[ "$DATA_DIR" =~ ^/[A-Za-z0-9._/+-]+$ ]] && [ "$DATA_DIR" != / ] || fatal "refusing data dir \"$DATA_DIR\""

# Stop the service first (real systems only); containers go with the data unless kept.
if [ -z "$ROOT" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now "$UNIT_NAME" >/dev/null 2>&1 || true
  info "stopped and disabled $UNIT_NAME"
fi
if [ "$KEEP_DATA" != 1 ]; then
  grove=$ROOT/usr/local/bin/grove
  if [ -z "$ROOT" ] && [ -x "$grove" ] && [ -d "$DATA_DIR" ]; then
    ids=$(GROVE_LOG_LEVEL=error "$grove" --data-dir "$DATA_DIR" ctr ps -a -q 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086 # one id per word
      GROVE_LOG_LEVEL=error "$grove" --data-dir "$DATA_DIR" ctr rm -f $ids >/dev/null || warn "some containers could not be removed"
      info "removed $(echo "$ids" | wc -w) container(s)"
    fi
    # What the node's network programmed (service/egress/compose chains, the overlay device and
    # routes, the cluster DNS interface, pod attachments, the node bridge): the agent's own cleanup.
    if GROVE_LOG_LEVEL=error "$grove" --data-dir "$DATA_DIR" agent cleanup-network >/dev/null; then
      info "removed the node's network rules and interfaces"
    else
      warn "some network rules or interfaces could not be removed (see above)"
    fi
  fi
  if [ -d "$ROOT$DATA_DIR" ]; then
    rm -rf "$ROOT$DATA_DIR"
    info "removed $DATA_DIR"
  fi
else
  info "keeping $DATA_DIR and its containers (--keep-data)"
fi

# Backwards: things inside directories go before the directories.
for ((i = ${#entries[@]} - 1; i >= 0; i--)); do
  kind=${entries[i]%% *}
  path=${entries[i]#* }
  [[ "$path" == /* ]] && [[ "$path" != *..* ]] || { warn "skipping odd manifest line: ${entries[i]}"; continue; }
  case "$kind" in
    file | link) rm -f "$ROOT$path" ;;
    tree) rm -rf "$ROOT$path" ;;
    replaced)
      if [ -e "$ROOT$path.grove-orig" ] || [ -L "$ROOT$path.grove-orig" ]; then mv -f "$ROOT$path.grove-orig" "$ROOT$path"; fi
      info "restored $path"
      continue ;;
    dir)
      # Kept when something else lives there now (keep-data, files the user added).
      rmdir "$ROOT$path" 2>/dev/null || { [ ! -d "$ROOT$path" ] || info "kept $path (not empty)"; }
      continue ;;
    *) warn "skipping odd manifest line: ${entries[i]}"; continue ;;
  esac
  info "removed $path"
done

if [ -z "$ROOT" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if printf '%s\n' "${entries[@]}" | grep -q 'grove-watchdog.conf'; then systemctl daemon-reexec; fi
fi
info "Grove uninstalled"
