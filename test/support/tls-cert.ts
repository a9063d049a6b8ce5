/**
 * Test-only: a self-signed certificate and its key, made by the real openssl (EC P-256: fast),
 * for the names given (the first is the CN; all are DNS subjectAltNames), valid two days.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

export function selfSignedCert(hosts: readonly string[]): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'grove-cert-'));
  try {
    const [key, cert] = [join(dir, 'tls.key'), join(dir, 'tls.crt')];
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`, '-days', '2',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
