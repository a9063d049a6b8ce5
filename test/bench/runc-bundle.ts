/**
 * The benches' baseline: bare `runc run -d` of a bundle copied from a container Grove started,
 * so both runs get the same OCI config (seccomp filter, namespaces, limits).
 */
import { spawn } from 'node:child_process';

/** `runc run -d` hands its stdio to the container: it must not get our pipes. */
export function runcRunDetached(root: string, bundle: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['--root', root, 'run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run -d exited ${code}`))));
  });
}

export interface BundleSource {
  /** config.json's text as Grove wrote it. */
  text: string;
  root: { path: string };
  linux: { cgroupsPath: string };
}

/** Reads a container's config.json, keeping its text (see bundleConfig). */
export function bundleSource(text: string): BundleSource {
  const parsed = JSON.parse(text) as { root: { path: string }; linux: { cgroupsPath: string } };
  return { text, root: parsed.root, linux: parsed.linux };
}

/**
 * config.json for the bare runc bundle: the rootfs copy beside it and a cgroup of its own. The
 * text is edited, not re-serialised: seccomp masks are 64-bit integers that a JSON.parse round
 * trip would round (runc then refuses the bundle).
 */
export function bundleConfig(source: BundleSource, cgroupsPath: string): string {
  let text = source.text;
  const swap = (from: string, to: string): void => {
    if (!text.includes(from)) throw new Error(`config.json has no ${from}`);
    text = text.replace(from, to);
  };
  swap(`"path": ${JSON.stringify(source.root.path)}`, '"path": "rootfs"');
  swap(`"cgroupsPath": ${JSON.stringify(source.linux.cgroupsPath)}`, `"cgroupsPath": ${JSON.stringify(cgroupsPath)}`);
  return text.replace('"readonly": true', '"readonly": false');
}
