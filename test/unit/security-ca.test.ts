import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  certificateFingerprint,
  certificateHosts,
  defaultServerHosts,
  ensureClusterCa,
  ensureServerCert,
  issueServerCert,
  leafProblem,
  type ClusterCa,
  type ServerCertificate,
} from '../../src/server/security/ca.js';

const logger = silentLogger();
const NOW = new Date('2030-01-15T12:00:00Z');
const now = () => NOW;
const YEAR_MS = 365 * 24 * 3600 * 1000;

async function handshake(leaf: ServerCertificate, caPem: string, servername: string, host = '127.0.0.1'): Promise<void> {
  const server = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end('ok'));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    await new Promise<void>((resolve, reject) => {
      const socket: TLSSocket = tlsConnect({ host, port, ca: caPem, servername }, () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('cluster CA', () => {
  let dir: string;
  let ca: ClusterCa;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-ca-'));
    // Real time: the handshake tests need certificates that are valid now.
    ca = await ensureClusterCa(dir, { logger });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates ca.crt 0644 and ca.key 0600 under tls/', async () => {
    expect((await stat(join(dir, 'tls', 'ca.crt'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'tls', 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'tls', 'ca.crt'), 'utf8')).toBe(ca.caCertPem);
  });

  it('is a self-signed CA valid for ten years with a DER sha256 fingerprint', () => {
    const cert = new X509Certificate(ca.caCertPem);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(ca.fingerprint).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(ca.fingerprint).toBe(createHash('sha256').update(cert.raw).digest('hex'));
    expect(ca.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(certificateFingerprint(ca.caCertPem)).toBe(ca.fingerprint);
    const lifetime = Date.parse(cert.validTo) - Date.now();
    expect(Math.abs(lifetime - 10 * YEAR_MS)).toBeLessThan(4 * 24 * 3600 * 1000);
    // Backdated for boards whose clock lags until NTP syncs.
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now() - 3600 * 1000);
    expect((cert.publicKey.asymmetricKeyDetails?.modulusLength)).toBe(2048);
  });

  it('loads the same CA on the next start', async () => {
    const again = await ensureClusterCa(dir, { logger });
    expect(again).toEqual(ca);
  });

  it('refuses to replace a CA whose key is missing, and rejects a mismatched key', async () => {
    const other = await mkdtemp(join(tmpdir(), 'grove-ca-other-'));
    try {
      const second = await ensureClusterCa(other, { logger });
      await unlink(join(other, 'tls', 'ca.key'));
      await expect(ensureClusterCa(other, { logger })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
      await writeFile(join(other, 'tls', 'ca.key'), ca.caKeyPem);
      await expect(ensureClusterCa(other, { logger })).rejects.toMatchObject({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('does not match'),
      });
      expect(second.fingerprint).not.toBe(ca.fingerprint);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('creates a fresh CA when only the key exists (a crash before the certificate was written)', async () => {
    const other = await mkdtemp(join(tmpdir(), 'grove-ca-crash-'));
    try {
      await ensureClusterCa(other, { logger });
      await unlink(join(other, 'tls', 'ca.crt'));
      const fresh = await ensureClusterCa(other, { logger });
      expect(new X509Certificate(fresh.caCertPem).checkPrivateKey((await import('node:crypto')).createPrivateKey(fresh.caKeyPem))).toBe(true);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  describe('server certificate', () => {
    let leaf: ServerCertificate;

    beforeAll(async () => {
      leaf = await issueServerCert(ca, { hosts: ['grove.local', '10.1.2.3', 'fd00::1'] });
    });

    it('is valid for two years from the injected clock', async () => {
      const cert = new X509Certificate((await issueServerCert(ca, { hosts: [], now })).certPem);
      const lifetime = Date.parse(cert.validTo) - NOW.getTime();
      expect(Math.abs(lifetime - 2 * YEAR_MS)).toBeLessThan(4 * 24 * 3600 * 1000);
      expect(Date.parse(cert.validFrom)).toBeLessThan(NOW.getTime());
    });

    it('is issued by the CA, with SANs for the hosts plus localhost, loopback and the hostname', () => {
      const cert = new X509Certificate(leaf.certPem);
      const caCert = new X509Certificate(ca.caCertPem);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.checkHost('grove.local')).toBe('grove.local');
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
      expect(cert.checkIP('::1')).toBeDefined();
      expect(cert.checkIP('10.1.2.4')).toBeUndefined();
      expect(certificateHosts(leaf.certPem)).toEqual(expect.arrayContaining(['grove.local', '10.1.2.3', 'fd00::1', '::1', 'localhost', hostname().toLowerCase()]));
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    });

    it('completes a TLS handshake against the CA, by IP and by name', async () => {
      await handshake(leaf, ca.caCertPem, 'localhost');
      await handshake(leaf, ca.caCertPem, 'grove.local');
    });

    it('fails a TLS handshake for a name it does not cover and against another CA', async () => {
      await expect(handshake(leaf, ca.caCertPem, 'elsewhere.example')).rejects.toThrow(/altnames|Hostname/i);
      const other = await mkdtemp(join(tmpdir(), 'grove-ca-x-'));
      try {
        const otherCa = await ensureClusterCa(other, { logger });
        await expect(handshake(leaf, otherCa.caCertPem, 'localhost')).rejects.toThrow(/certificate/);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    });

    it('refuses an invalid host name', async () => {
      await expect(issueServerCert(ca, { hosts: ['bad name'] })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    });

    it('reports why a leaf cannot be reused', () => {
      const t = new Date();
      expect(leafProblem(ca, leaf, ['grove.local', '10.1.2.3'], t)).toBeUndefined();
      expect(leafProblem(ca, leaf, ['[fd00:0:0::1]'], t)).toBeUndefined();
      expect(leafProblem(ca, leaf, ['10.9.9.9'], t)).toMatch(/does not cover 10.9.9.9/);
      expect(leafProblem(ca, leaf, [], new Date(t.getTime() + 2 * YEAR_MS - 24 * 3600 * 1000))).toBe('expires soon');
      expect(leafProblem(ca, { certPem: leaf.certPem, keyPem: ca.caKeyPem }, [], t)).toBe('key does not match');
    });
  });

  it('reuses the stored leaf while it covers the hosts, reissues (keeping old SANs) when not', async () => {
    const first = await ensureServerCert(dir, ca, { hosts: ['a.local'], logger });
    expect((await stat(join(dir, 'tls', 'server.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'tls', 'server.crt'))).mode & 0o777).toBe(0o644);
    const same = await ensureServerCert(dir, ca, { hosts: ['a.local'], logger });
    expect(same.certPem).toBe(first.certPem);
    const wider = await ensureServerCert(dir, ca, { hosts: ['b.local'], logger });
    expect(wider.certPem).not.toBe(first.certPem);
    expect(certificateHosts(wider.certPem)).toEqual(expect.arrayContaining(['a.local', 'b.local']));
    const later = new Date(Date.now() + 2 * YEAR_MS);
    const renewed = await ensureServerCert(dir, ca, { hosts: ['b.local'], logger, now: () => later });
    expect(renewed.certPem).not.toBe(wider.certPem);
  });

  it('lists loopback, localhost and the hostname among the default hosts', () => {
    expect(defaultServerHosts()).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1']));
  });
});
