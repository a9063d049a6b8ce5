import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import {
  SERVER_USERNAME,
  createAuthenticator,
  ensureServerCredentials,
  hashPassword,
  issueNodeCredentials,
  nodeUsername,
  parseNodeUsername,
  serverCredentialsPath,
  storeNodeLookup,
  verifyPassword,
} from '../../src/server/security/credentials.js';

const logger = silentLogger();

describe('node credentials', () => {
  it('issues node.<name>, a 256-bit base64url password and its sha256', () => {
    const creds = issueNodeCredentials('pi-1');
    expect(creds.username).toBe('node.pi-1');
    expect(creds.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(creds.hash).toBe(createHash('sha256').update(creds.password).digest('hex'));
    expect(issueNodeCredentials('pi-1').password).not.toBe(creds.password);
  });

  it('maps node names and user names both ways, rejecting anything else', () => {
    expect(nodeUsername('pi-10')).toBe('node.pi-10');
    expect(() => nodeUsername('Pi/1')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(parseNodeUsername('node.pi-10')).toBe('pi-10');
    for (const u of [undefined, '', 'node.', 'node:pi-1', 'node.pi/1', 'node.+', 'grove-server', 'xnode.pi-1']) {
      expect(parseNodeUsername(u)).toBeUndefined();
    }
  });

  it('verifies passwords against the hash and refuses malformed hashes', () => {
    const { password, hash } = issueNodeCredentials('a');
    expect(verifyPassword(password, hash)).toBe(true);
    expect(verifyPassword(password + 'x', hash)).toBe(false);
    expect(verifyPassword(password, hash.toUpperCase())).toBe(false);
    expect(verifyPassword(password, hash.slice(2))).toBe(false);
    expect(verifyPassword(password, '')).toBe(false);
  });
});

describe('server credentials and the authenticator', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-creds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates <dataDir>/server/mqtt-server.json 0600 once and reuses it', async () => {
    const first = await ensureServerCredentials(dir, { logger });
    expect(first.username).toBe(SERVER_USERNAME);
    const path = serverCredentialsPath(dir);
    expect(path).toBe(join(dir, 'server', 'mqtt-server.json'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(first);
    expect(await ensureServerCredentials(dir, { logger })).toEqual(first);
  });

  it('refuses a corrupt credentials file instead of replacing it', async () => {
    await ensureServerCredentials(dir, { logger });
    await writeFile(serverCredentialsPath(dir), '{"username":"grove-server"}');
    await expect(ensureServerCredentials(dir, { logger })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
    await writeFile(serverCredentialsPath(dir), 'not json');
    await expect(ensureServerCredentials(dir, { logger })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
  });

  it('authenticates the server and nodes with a stored record, nobody else', async () => {
    const store = new MemoryStore();
    await store.open();
    const server = await ensureServerCredentials(dir, { logger });
    const node = issueNodeCredentials('pi-1');
    await store.commit([
      { type: 'put', key: 'grove/nodecreds/pi-1', value: { credentialHash: node.hash, joinedAt: 'x' } },
    ]);
    const auth = createAuthenticator(server, storeNodeLookup(store));
    expect(await auth(SERVER_USERNAME, server.password)).toBe(true);
    expect(await auth(SERVER_USERNAME, node.password)).toBe(false);
    expect(await auth('node.pi-1', node.password)).toBe(true);
    expect(await auth('node.pi-1', server.password)).toBe(false);
    expect(await auth('node.pi-2', node.password)).toBe(false);
    expect(await auth('node:pi-1', node.password)).toBe(false);
    await store.commit([{ type: 'delete', key: 'grove/nodecreds/pi-1' }]);
    expect(await auth('node.pi-1', node.password)).toBe(false);
    expect(hashPassword(node.password)).toBe(node.hash);
  });
});
