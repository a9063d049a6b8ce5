/**
 * Real kubectl against a test server: a kubeconfig with the cluster CA and a bearer token
 * (kubectl sends tokens over HTTPS only), and a runner that never throws (exit code, stdout,
 * stderr), with HOME pointed at a scratch directory so kubectl's cache stays out of the user's.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (...args: string[]) => Promise<KubectlResult>;

/** Writes a kubeconfig (mode 0600) for `server` with the CA (PEM) and the token. */
export async function writeKubeconfig(path: string, server: string, caCertPem: string, token: string): Promise<void> {
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: grove, cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(caCertPem).toString('base64')}}}]`,
      `users: [{name: admin, user: {token: "${token}"}}]`,
      'contexts: [{name: grove, context: {cluster: grove, user: admin}}]',
      'current-context: grove',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

/** kubectl with `kubeconfig`, HOME = `home`, 30 s at most per call. */
export function kubectlWith(kubeconfig: string, home: string): Kubectl {
  return async (...args) => {
    try {
      const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig }, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
}
