#!/usr/bin/env bash
# Installs the Debian packages Grove needs on this machine, and only those that are missing,
# so a second run changes nothing and needs no network.
#   --runtime  what a node needs to run containers (default)
#   --example  also what the quick start's example image is built from (busybox-static)
#   --test     also what the test suite and benchmarks need (registry, skopeo, mosquitto…)
set -euo pipefail

info() { printf '[grove] %s\n' "$*"; }
fatal() { printf '[grove] error: %s\n' "$*" >&2; exit 1; }

# conntrack: the service proxier deletes UDP flows to removed endpoints (docs/networking.md).
RUNTIME_PACKAGES=(runc crun containernetworking-plugins iptables conntrack util-linux ca-certificates)
BUILD_PACKAGES=(make gcc musl-tools)
TEST_PACKAGES=(busybox-static docker-registry apache2-utils skopeo conmon mosquitto nats-server file procps iproute2)
# Cluster DNS tests query the node's DNS server with the real dig.
TEST_PACKAGES+=(dnsutils)
# Ingress nodes serve Ingresses through Debian's Caddy (docs/networking.md "Ingress"); its tests run it.
TEST_PACKAGES+=(caddy)
# Ingress TLS tests make self-signed certificates with openssl and ask for pages with curl.
TEST_PACKAGES+=(openssl curl)
# prepare-image.sh and its test: partition tables, vfat and ext4 tools.
TEST_PACKAGES+=(dosfstools fdisk e2fsprogs mtools)
# Release packaging (npm run package) and its test: ARM cross compilers, qemu to run the ARM shims.
TEST_PACKAGES+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static)
# kubectl against the Kubernetes paths (kubectl get --raw): Debian's client unless one is installed already.
command -v kubectl >/dev/null || TEST_PACKAGES+=(kubernetes-client)

want=("${RUNTIME_PACKAGES[@]}" "${BUILD_PACKAGES[@]}")
for flag in "$@"; do
  case "$flag" in
    --runtime) ;;
    --example) want+=(busybox-static) ;;
    --test) want+=("${TEST_PACKAGES[@]}") ;;
    *) fatal "unknown flag $flag (use --runtime, --example, --test)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || fatal "run as root (sudo $0 $*)"
command -v apt-get >/dev/null || fatal "apt-get not found: install ${want[*]} with your package manager"

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  info "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  info "system packages already present"
fi

command -v node >/dev/null || fatal "Node.js >= 20 is required (https://nodejs.org or your distribution's nodejs >= 20)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || fatal "Node.js >= 20 is required, found $(node --version)"
