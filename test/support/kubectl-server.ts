/**
 * Test-only: a real `grove server --tls` (no node) in a temporary directory, with a kubeconfig
 * for the real kubectl and the small helpers kubectl tests share: run (never throws), ok (exit 0
 * expected, stdout), file (a manifest written into the directory). stop() removes it all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runKubectl, writeKubeconfig, type KubectlResult } from './kubectl.js';
import { LoggedServer } from './logged-server.js';

export interface KubectlServer {
  dir: string;
  server: LoggedServer;
  kubectl(...args: string[]): Promise<KubectlResult>;
  ok(...args: string[]): Promise<string>;
  file(name: string, text: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKubectlServer(prefix: string, namespace = 'default'): Promise<KubectlServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await server.start({ GROVE_TLS: 'true' });
  } catch (err) {
    await stop();
    throw err;
  }
  const kubeconfig = await writeKubeconfig(dir, join(dir, 'data'), namespace);
  const kubectl = (...args: string[]) => runKubectl(kubeconfig, dir, args);
  return {
    dir,
    server,
    kubectl,
    async ok(...args) {
      const r = await kubectl(...args);
      expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    stop,
  };
}
