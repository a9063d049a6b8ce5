/**
 * Helpers shared by the hollow-node tests and the fan-out bench: a DaemonSet for every hollow
 * node (they report the label node.grove.io/hollow=true about themselves) and applying it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGrove } from './grove-cli.js';

/** A DaemonSet on every hollow node; `version` changes the image tag, hence the template. */
export function hollowDaemonSet(app: string, version: string, namespace?: string): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${app}${namespace ? `\n  namespace: ${namespace}` : ''}
spec:
  # Fan-out: the change goes to every node at once. The default (maxUnavailable 1, as in
  # Kubernetes) would roll a fleet node by node, each waiting for the previous to be ready.
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "100%" }
  selector:
    matchLabels: { app: ${app} }
  template:
    metadata:
      labels: { app: ${app} }
    spec:
      nodeSelector:
        node.grove.io/hollow: "true"
      containers:
        - name: main
          image: hollow.invalid/${app}:${version}
          command: ["sleep", "3600"]
          resources:
            limits: { memory: 16Mi, cpu: 10m }
`;
}

/** `grove apply -f` as the admin client of the server whose data dir is `serverDir`. */
export async function applyYaml(serverDir: string, yaml: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'grove-hollow-manifest-'));
  try {
    const file = join(dir, 'manifest.yaml');
    await writeFile(file, yaml);
    const r = await runGrove(['--data-dir', serverDir, 'apply', '-f', file]);
    if (r.code !== 0) throw new Error(`grove apply failed: ${r.stderr.trim()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
