import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/**
 * Tests that need root, an OCI runtime or Debian's docker-registry declare it here.
 * Outside CI a missing prerequisite skips the suite with a one-line reason; with CI=true the
 * suite fails instead, because a CI box that lacks them is a broken CI box.
 */
export type Prerequisite =
  | 'root'
  | 'runc'
  | 'crun'
  | 'registry'
  | 'shim'
  | 'overlay'
  | 'htpasswd'
  | 'skopeo'
  | 'mosquitto'
  | 'file'
  | 'cross-compilers'
  | 'qemu-user-static'
  | 'iproute2'
  | 'iptables'
  | 'nats-server'
  | 'musl-gcc'
  | 'loopfs'
  | 'kubectl'
  | 'conntrack'
  | 'dig'
  | 'busybox'
  | 'caddy';

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function missing(req: Prerequisite): string | undefined {
  switch (req) {
    case 'root':
      return process.getuid?.() === 0 ? undefined : 'needs root';
    case 'runc':
    case 'crun':
    case 'skopeo':
    case 'mosquitto':
    case 'nats-server':
    case 'htpasswd':
    case 'file':
    case 'kubectl':
    case 'conntrack':
    case 'busybox':
    case 'caddy':
      return onPath(req) ? undefined : `needs ${req} on PATH`;
    case 'dig':
      return onPath('dig') ? undefined : 'needs dig (Debian dnsutils)';
    case 'musl-gcc':
      // Static test binaries (musl-tools, in install-deps.sh's build packages).
      return onPath(req) ? undefined : 'needs musl-gcc (musl-tools)';
    case 'cross-compilers':
      return onPath('aarch64-linux-gnu-gcc') && onPath('arm-linux-gnueabihf-gcc')
        ? undefined
        : 'needs gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf';
    case 'qemu-user-static':
      return onPath('qemu-aarch64-static') && onPath('qemu-arm-static') ? undefined : 'needs qemu-user-static';
    case 'iptables':
      return onPath('iptables') ? undefined : 'needs iptables on PATH';
    case 'iproute2':
      // ip netns, veth and tc netem; nsenter (util-linux) puts a process into the namespace.
      return ['ip', 'tc', 'nsenter'].every(onPath) ? undefined : 'needs ip, tc (iproute2) and nsenter on PATH';
    case 'loopfs':
      // A small filesystem of a test's own (test/support/loop-fs.ts).
      if (process.getuid?.() !== 0) return 'needs root (loop mounts)';
      return ['losetup', 'mkfs.ext4', 'mount', 'umount'].every(onPath) ? undefined : 'needs losetup, mount (util-linux) and mkfs.ext4 (e2fsprogs)';
    case 'registry':
      return existsSync('/usr/bin/docker-registry') ? undefined : 'needs Debian docker-registry';
    case 'shim':
      return existsSync(new URL('../../agent/shim/build/grove-shim', import.meta.url)) ? undefined : 'needs grove-shim built (npm run build)';
    case 'overlay':
      try {
        return /\boverlay\b/.test(execFileSync('cat', ['/proc/filesystems']).toString()) ? undefined : 'needs overlayfs';
      } catch {
        return 'needs overlayfs';
      }
  }
}

export function missingPrerequisites(reqs: Prerequisite[]): string[] {
  return reqs.map(missing).filter((m): m is string => m !== undefined);
}

/** `describe` that runs only when every prerequisite is present (see above for CI). */
export function describeWith(reqs: Prerequisite[], name: string, body: () => void): void {
  const gaps = missingPrerequisites(reqs);
  if (gaps.length === 0) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its prerequisites', () => {
        throw new Error(`prerequisite missing: ${gaps.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${gaps.join(', ')})`, body);
  }
}
