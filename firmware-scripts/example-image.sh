#!/usr/bin/env bash
# Builds Grove's example app image — busybox httpd serving a page on port 8080 — as an OCI image
# layout tarball, from Debian's static busybox, with no registry and no network:
#   firmware-scripts/example-image.sh OUT.tar [REF]      (REF default: grove.local/example/hello:1)
# Import it with `grove ctr import OUT.tar`.
set -euo pipefail
out=${1:?usage: example-image.sh OUT.tar [REF]}
ref=${2:-grove.local/example/hello:1}
busybox=${BUSYBOX:-/usr/bin/busybox}
[ -x "$busybox" ] || { echo "example-image: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }

case "$(uname -m)" in
  aarch64) arch=arm64; variant='"variant":"v8",' ;;
  armv7l|armv6l) arch=arm; variant='"variant":"v7",' ;;
  x86_64) arch=amd64; variant='' ;;
  *) arch=$(uname -m); variant='' ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/www" "$root/tmp" "$work/layout/blobs/sha256"
cp "$busybox" "$root/bin/busybox"
for applet in sh echo cat ls sleep httpd date env id wget; do ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
cp "$(dirname "$0")/example/index.html" "$root/www/index.html"
chmod 1777 "$root/tmp"

# A reproducible layer: fixed order, owner and mtime.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"

put_blob() { # file -> prints "digest size"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  cp "$1" "$work/layout/blobs/sha256/$d"
  echo "$d $s"
}
read -r layer_digest layer_size < <(put_blob "$work/layer.tar.gz")

cat >"$work/config.json" <<JSON
{"architecture":"$arch",${variant}"os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":["httpd","-f","-v","-p","8080","-h","/www"],"WorkingDir":"/","ExposedPorts":{"8080/tcp":{}},"Labels":{"org.opencontainers.image.title":"grove example hello"}},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
JSON
read -r config_digest config_size < <(put_blob "$work/config.json")

cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_digest","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer_digest","size":$layer_size}]}
JSON
read -r manifest_digest manifest_size < <(put_blob "$work/manifest.json")

cat >"$work/layout/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest_digest","size":$manifest_size,"annotations":{"org.opencontainers.image.ref.name":"$ref"}}]}
JSON
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' -C "$work/layout" -cf "$out" oci-layout index.json blobs
echo "$ref sha256:$manifest_digest"
