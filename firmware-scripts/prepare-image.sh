#!/usr/bin/env bash
# Prepares a Raspberry Pi OS (or other two-partition: FAT boot + ext4 root) .img so that a card
# flashed from it joins a Grove fleet on first boot, with no keyboard attached:
#   - the boot partition's cmdline.txt gets the memory cgroup (as `grove check --fix-cgroups`);
#   - the root partition gets the hostname, Grove (this checkout or --release), its join
#     configuration (/etc/grove/agent.env and the join token in /etc/grove/join-token, both
#     mode 0600, via install.sh --root; the token is removed once the node has joined) and an enabled
#     first-boot unit that runs install.sh in agent mode (apt dependencies, then grove.service);
#   - cloud-init images (user-data on the boot partition) get the hostname in user-data too,
#     since cloud-init would otherwise reset it;
#   - Wi-Fi as a NetworkManager keyfile (Bookworm and later) or wpa_supplicant.conf (older).
#
#   sudo ./prepare-image.sh raspios.img --server https://10.0.0.2:7080 --token K1.… \
#        [--hostname pi-7] [--label zone=a]… [--wifi-ssid NAME --wifi-psk SECRET] \
#        [--wifi-country GB] [--release grove-…-linux-arm64.tar.gz [--sha256 HEX]]
#
# The root partition is loop-mounted (losetup --offset, which needs no partition scanning or
# udev); the boot partition is edited with mtools, which needs no vfat in the kernel. Whatever
# happens, the mount and the loop device are gone when the script ends.
set -euo pipefail

info() { printf '[grove] %s\n' "$*"; }
warn() { printf '[grove] warning: %s\n' "$*" >&2; }
fatal() { printf '[grove] error: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
IMAGE=""
SERVER_URL=""
TOKEN=""
HOSTNAME_NEW=""
WIFI_SSID=""
WIFI_PSK=""
WIFI_COUNTRY=""
RELEASE=""
RELEASE_SHA256=""
LABEL_ARGS=()
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || fatal "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --server) need_value "$@"; SERVER_URL=$2; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; shift 2 ;;
    --hostname) need_value "$@"; HOSTNAME_NEW=$2; shift 2 ;;
    --label) need_value "$@"; LABEL_ARGS+=(--label "$2"); shift 2 ;;
    --wifi-ssid) need_value "$@"; WIFI_SSID=$2; shift 2 ;;
    --wifi-psk) need_value "$@"; WIFI_PSK=$2; shift 2 ;;
    --wifi-country) need_value "$@"; WIFI_COUNTRY=$2; shift 2 ;;
    --release) need_value "$@"; RELEASE=$2; shift 2 ;;
    --sha256) need_value "$@"; RELEASE_SHA256=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fatal "unknown option $1 (see --help)" ;;
    *) [ -z "$IMAGE" ] || fatal "one image at a time ($IMAGE, $1)"; IMAGE=$1; shift ;;
  esac
done

# ---- validation before touching the image -----------------------------------------------------
[ -n "$IMAGE" ] || fatal "usage: prepare-image.sh IMAGE --server URL --token TOKEN [...] (see --help)"
[ -f "$IMAGE" ] || fatal "$IMAGE is not a file"
[ -n "$SERVER_URL" ] && [ -n "$TOKEN" ] || fatal "--server URL and --token TOKEN are required (grove token create on the server)"
[ -z "$HOSTNAME_NEW" ] || [[ "$HOSTNAME_NEW" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || fatal "--hostname must be lowercase letters, digits and '-' ($HOSTNAME_NEW)"
if [ -n "$WIFI_SSID" ] || [ -n "$WIFI_PSK" ]; then
  [ -n "$WIFI_SSID" ] && [ -n "$WIFI_PSK" ] || fatal "--wifi-ssid and --wifi-psk go together"
  [ "${#WIFI_SSID}" -le 32 ] && [[ "$WIFI_SSID" != *[$'\n\r"\\']* ]] || fatal "--wifi-ssid must be at most 32 characters without quotes, backslashes or newlines"
  [ "${#WIFI_PSK}" -ge 8 ] && [ "${#WIFI_PSK}" -le 63 ] && [[ "$WIFI_PSK" != *[$'\n\r"\\']* ]] || fatal "--wifi-psk must be 8 to 63 characters without quotes, backslashes or newlines"
fi
[ -z "$WIFI_COUNTRY" ] || [[ "$WIFI_COUNTRY" =~ ^[A-Z]{2}$ ]] || fatal "--wifi-country must be a two-letter country code (GB, DE, US…)"
[ "$(id -u)" -eq 0 ] || fatal "run as root (loop devices and mounts need it)"
for tool in sfdisk losetup blkid mount umount mcopy mtype mdir node; do
  command -v "$tool" >/dev/null || fatal "$tool not found (apt-get install fdisk mount mtools; Node.js >= 20)"
done
GROVE_JS=$SCRIPT_DIR/../dist/src/cli/grove.js
[ -f "$GROVE_JS" ] || fatal "run from a built Grove checkout (npm run build): $GROVE_JS is missing"

# ---- cleanup, whatever happens --------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grove-image.XXXXXX")
MNT=$WORK/root
LOOP=""
cleanup() {
  local status=$?
  if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || umount -l "$MNT" || warn "could not unmount $MNT"; fi
  if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null || warn "could not detach $LOOP"; fi
  rm -rf "$WORK"
  [ "$status" -eq 0 ] || printf '[grove] error: %s was not prepared (nothing is left mounted)\n' "$IMAGE" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- partitions -------------------------------------------------------------------------------------
# Partition 1 (boot) and 2 (root): start sectors, root size and the sector size.
read -r SECTOR BOOT_START ROOT_START ROOT_SIZE < <(sfdisk -J "$IMAGE" 2>/dev/null | node -e '
  let t;
  try { t = JSON.parse(require("fs").readFileSync(0, "utf8")).partitiontable; } catch { process.exit(0); }
  const [boot, root] = t.partitions ?? [];
  if (boot && root) console.log(t.sectorsize ?? 512, boot.start, root.start, root.size);
') || true
[ -n "${ROOT_SIZE:-}" ] || fatal "$IMAGE has no partition table with a boot (1) and a root (2) partition"
BOOT_IMG="$IMAGE@@$((BOOT_START * SECTOR))"
export MTOOLS_SKIP_CHECK=1

# ---- boot partition (FAT, via mtools) ----------------------------------------------------------------
mtype -i "$BOOT_IMG" ::/cmdline.txt >"$WORK/cmdline.txt" 2>/dev/null || fatal "no cmdline.txt on $IMAGE's boot partition: not a Raspberry Pi image?"
cp "$WORK/cmdline.txt" "$WORK/cmdline.orig"
GROVE_LOG_LEVEL=error node "$GROVE_JS" check --fix-cgroups --cmdline "$WORK/cmdline.txt" >/dev/null
rm -f "$WORK/cmdline.txt.grove-bak"
if [ -n "$WIFI_COUNTRY" ]; then
  # The Pi keeps Wi-Fi blocked until a regulatory country is set (Bookworm reads it from here).
  if grep -q 'cfg80211.ieee80211_regdom=' "$WORK/cmdline.txt"; then
    sed -i "s/cfg80211\.ieee80211_regdom=[A-Za-z]*/cfg80211.ieee80211_regdom=$WIFI_COUNTRY/" "$WORK/cmdline.txt"
  else
    sed -i "1s/\$/ cfg80211.ieee80211_regdom=$WIFI_COUNTRY/" "$WORK/cmdline.txt"
  fi
fi
if cmp -s "$WORK/cmdline.txt" "$WORK/cmdline.orig"; then
  info "boot: cmdline.txt unchanged (memory cgroup already enabled)"
else
  mdir -b -i "$BOOT_IMG" ::/cmdline.txt.grove-bak >/dev/null 2>&1 || mcopy -i "$BOOT_IMG" "$WORK/cmdline.orig" ::/cmdline.txt.grove-bak
  mcopy -o -i "$BOOT_IMG" "$WORK/cmdline.txt" ::/cmdline.txt
  info "boot: memory cgroup enabled in cmdline.txt (original in cmdline.txt.grove-bak)"
fi

# ---- root partition (ext4, loop-mounted) -----------------------------------------------------------
LOOP=$(losetup --find --show --offset $((ROOT_START * SECTOR)) --sizelimit $((ROOT_SIZE * SECTOR)) "$IMAGE")
fstype=$(blkid -p -o value -s TYPE "$LOOP" 2>/dev/null || true)
[ "$fstype" = ext4 ] || fatal "$IMAGE's second partition is ${fstype:-not a file system}, expected the ext4 root"
mkdir -p "$MNT"
mount -t ext4 "$LOOP" "$MNT"
[ -d "$MNT/etc" ] || fatal "$IMAGE's root partition has no /etc: not an OS image"

if [ -n "$HOSTNAME_NEW" ]; then
  old=$(cat "$MNT/etc/hostname" 2>/dev/null || true)
  printf '%s\n' "$HOSTNAME_NEW" >"$MNT/etc/hostname"
  if [ -f "$MNT/etc/hosts" ] && grep -q '^127\.0\.1\.1[[:space:]]' "$MNT/etc/hosts"; then
    sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$HOSTNAME_NEW/" "$MNT/etc/hosts"
  else
    printf '127.0.1.1\t%s\n' "$HOSTNAME_NEW" >>"$MNT/etc/hosts"
  fi
  info "root: hostname ${old:-?} -> $HOSTNAME_NEW"
fi

# A checkout carries a grove-shim built for this workstation: refuse it for another architecture.
elf_machine() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] && od -An -t u2 -j 18 -N 2 "$1" | tr -d ' '; }
arch_name() { case "$1" in 183) echo arm64 ;; 40) echo armv7 ;; 62) echo amd64 ;; *) echo "machine $1" ;; esac; }
if [ -z "$RELEASE" ]; then
  image_machine=""
  for probe in usr/bin/env bin/sh usr/bin/dash; do
    image_machine=$(elf_machine "$MNT/$probe" || true)
    [ -z "$image_machine" ] || break
  done
  shim_machine=$(elf_machine "$SCRIPT_DIR/../agent/shim/build/grove-shim" || true)
  if [ -n "$image_machine" ] && [ -n "$shim_machine" ] && [ "$image_machine" != "$shim_machine" ]; then
    fatal "this checkout's grove-shim is built for $(arch_name "$shim_machine"), the image is $(arch_name "$image_machine"): pass --release grove-<version>-linux-$(arch_name "$image_machine").tar.gz"
  fi
fi

# Grove, agent.env and grove.service, exactly as install.sh lays them out (not enabled: the
# first-boot unit installs the dependencies first, then enables and starts it).
install_args=(--root "$MNT" --role agent --server "$SERVER_URL" --token "$TOKEN" --no-enable --fix-cgroups no "${LABEL_ARGS[@]}")
[ -z "$HOSTNAME_NEW" ] || install_args+=(--node-name "$HOSTNAME_NEW")
[ -z "$RELEASE" ] || install_args+=(--release "$RELEASE")
[ -z "$RELEASE_SHA256" ] || install_args+=(--sha256 "$RELEASE_SHA256")
bash "$SCRIPT_DIR/install.sh" "${install_args[@]}" | sed 's/^\[grove\] /[grove] root: /'

cat >"$MNT/etc/systemd/system/grove-firstboot.service" <<'UNIT'
# Written by firmware-scripts/prepare-image.sh: joins the fleet on this card's first boot.
[Unit]
Description=Grove first boot: install dependencies, then start the agent (joins the fleet)
Wants=network-online.target
After=network-online.target time-sync.target
ConditionPathExists=!/etc/grove/.firstboot-done

[Service]
Type=oneshot
EnvironmentFile=/etc/grove/agent.env
ExecStart=/opt/grove/firmware-scripts/install.sh --role agent
ExecStartPost=/bin/touch /etc/grove/.firstboot-done
# No network yet (Wi-Fi still associating, mirror down): try again.
Restart=on-failure
RestartSec=30s

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$MNT/etc/systemd/system/multi-user.target.wants"
ln -sfn /etc/systemd/system/grove-firstboot.service "$MNT/etc/systemd/system/multi-user.target.wants/grove-firstboot.service"
# uninstall.sh removes these too.
for entry in "file /etc/systemd/system/grove-firstboot.service" "link /etc/systemd/system/multi-user.target.wants/grove-firstboot.service" "file /etc/grove/.firstboot-done"; do
  grep -qxF "$entry" "$MNT/etc/grove/.installed-files" || echo "$entry" >>"$MNT/etc/grove/.installed-files"
done
info "root: grove-firstboot.service enabled"

# ---- Wi-Fi ---------------------------------------------------------------------------------------------
if [ -n "$WIFI_SSID" ]; then
  if [ -d "$MNT/etc/NetworkManager" ]; then
    conn="$MNT/etc/NetworkManager/system-connections/grove-wifi.nmconnection"
    mkdir -p "$(dirname "$conn")"
    (
      umask 077
      cat >"$conn" <<NM
[connection]
id=grove-wifi
type=wifi
autoconnect=true

[wifi]
mode=infrastructure
ssid=$WIFI_SSID

[wifi-security]
key-mgmt=wpa-psk
psk=$WIFI_PSK

[ipv4]
method=auto

[ipv6]
method=auto
NM
    )
    chmod 0600 "$conn"
    info "root: Wi-Fi $WIFI_SSID (NetworkManager keyfile)"
  else
    {
      echo 'ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev'
      echo 'update_config=1'
      [ -z "$WIFI_COUNTRY" ] || echo "country=$WIFI_COUNTRY"
      printf 'network={\n\tssid="%s"\n\tpsk="%s"\n}\n' "$WIFI_SSID" "$WIFI_PSK"
    } >"$WORK/wpa_supplicant.conf"
    mcopy -o -i "$BOOT_IMG" "$WORK/wpa_supplicant.conf" ::/wpa_supplicant.conf
    info "boot: Wi-Fi $WIFI_SSID (wpa_supplicant.conf)"
  fi
fi

# ---- cloud-init --------------------------------------------------------------------------------------
if mtype -i "$BOOT_IMG" ::/user-data >"$WORK/user-data" 2>/dev/null; then
  if [ -n "$HOSTNAME_NEW" ]; then
    # cloud-init sets the hostname from user-data on every boot: put ours there as well.
    NODE_PATH="$SCRIPT_DIR/../node_modules" node -e '
      const { readFileSync, writeFileSync } = require("node:fs");
      const { parseDocument } = require("yaml");
      const [file, host] = process.argv.slice(1);
      const text = readFileSync(file, "utf8");
      const doc = parseDocument(text);
      if (doc.errors.length) { console.error(`user-data is not valid YAML: ${doc.errors[0].message}`); process.exit(1); }
      if (doc.contents === null) doc.contents = doc.createNode({});
      doc.set("hostname", host);
      doc.set("manage_etc_hosts", true);
      const out = doc.toString();
      writeFileSync(file, out.startsWith("#cloud-config") ? out : "#cloud-config\n" + out);
    ' "$WORK/user-data" "$HOSTNAME_NEW" 2>&1 || fatal "could not update cloud-init user-data"
    mcopy -o -i "$BOOT_IMG" "$WORK/user-data" ::/user-data
    info "boot: cloud-init user-data hostname $HOSTNAME_NEW"
  else
    info "boot: cloud-init image, user-data left as it is"
  fi
fi

sync
info "$IMAGE is ready: flash it, boot, and watch for the node in grove get nodes"
