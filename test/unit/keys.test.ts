import { describe, expect, it } from 'vitest';
import { AgentKeys, GROVE_PREFIX, GroveKeys, kindPrefix, LEGACY_KEYS, namespacePrefix, objectKey, parseObjectKey, SEALED_KEY_PREFIXES } from '../../src/core/keys.js';
import { ALL_KINDS, KINDS } from '../../src/core/objects/kinds.js';
import { APPLIED_REVISION_KEY, TARGET_KEY } from '../../agent/src/agent/sync-client.js';
import { JOB_KEY_PREFIX } from '../../agent/src/agent/jobs/runner.js';
import { NODE_KEY_PREFIX } from '../../src/server/node-keys.js';
import { CONFIG_RECORD_PREFIX } from '../../src/server/config-distributor.js';
import { TOKEN_KEY_PREFIX } from '../../src/server/security/tokens.js';
import { SEALED_PREFIXES } from '../../src/server/sealed-store.js';

describe('store keys', () => {
  it('spell objects as <plural>/<namespace>/<name> or <plural>/<name>', () => {
    expect(objectKey(KINDS.Deployment, 'default', 'web')).toBe('deployments/default/web');
    expect(objectKey(KINDS.Pod, 'team-a', 'web-5f6c-x2k4')).toBe('pods/team-a/web-5f6c-x2k4');
    expect(objectKey(KINDS.Node, undefined, 'pi-1')).toBe('nodes/pi-1');
    expect(objectKey(KINDS.Namespace, undefined, 'default')).toBe('namespaces/default');
    expect(kindPrefix(KINDS.Pod)).toBe('pods/');
    expect(namespacePrefix(KINDS.Pod, 'default')).toBe('pods/default/');
  });

  it('refuse a key that could name another object', () => {
    expect(() => objectKey(KINDS.Pod, undefined, 'web')).toThrow(/pods are namespaced/);
    expect(() => objectKey(KINDS.Node, 'default', 'pi-1')).toThrow(/nodes are cluster-scoped/);
    expect(() => objectKey(KINDS.Pod, 'default', 'a/b')).toThrow(/invalid name "a\/b"/);
    expect(() => objectKey(KINDS.Pod, '', 'web')).toThrow(/invalid namespace/);
    expect(() => namespacePrefix(KINDS.Node, 'default')).toThrow(/cluster-scoped/);
    expect(() => GroveKeys.target('../x')).toThrow(/invalid node/);
  });

  it('parse back, for every kind, and leave Grove\'s own records alone', () => {
    for (const kind of ALL_KINDS) {
      const key = objectKey(kind, kind.namespaced ? 'default' : undefined, 'x');
      expect(parseObjectKey(key, ALL_KINDS)).toEqual({ plural: kind.plural, ...(kind.namespaced ? { namespace: 'default' } : {}), name: 'x' });
    }
    expect(parseObjectKey('pods/web', ALL_KINDS)).toBeUndefined();
    expect(parseObjectKey('nodes/a/b', ALL_KINDS)).toBeUndefined();
    expect(parseObjectKey('networkpolicies/default/web', ALL_KINDS)).toBeUndefined();
    expect(parseObjectKey(GroveKeys.target('pi-1'), ALL_KINDS)).toBeUndefined();
  });

  it('keep Grove\'s records under grove/, apart from every object prefix', () => {
    const internal = [GroveKeys.target('n'), GroveKeys.token('t'), GroveKeys.nodeCredential('n'), GroveKeys.nodeKey('n'), GroveKeys.configBundle('n'), GroveKeys.schemaVersion, GroveKeys.cluster];
    for (const key of internal) expect(key.startsWith(GROVE_PREFIX)).toBe(true);
    expect(new Set(internal).size).toBe(internal.length);
    for (const kind of ALL_KINDS) expect(kindPrefix(kind).startsWith(GROVE_PREFIX)).toBe(false);
    expect(SEALED_KEY_PREFIXES).toEqual([kindPrefix(KINDS.Secret), GroveKeys.nodeKeyPrefix]);
  });

  it('name the agent\'s keys and the 0.1 layout as the code of 0.1 spells them', () => {
    expect(AgentKeys).toMatchObject({ target: TARGET_KEY, appliedRevision: APPLIED_REVISION_KEY, jobPrefix: JOB_KEY_PREFIX });
    expect(AgentKeys.job('backup-1')).toBe(`${JOB_KEY_PREFIX}backup-1`);
    // As Grove 0.1 spelled them (git show abd5294:src/server/resources.ts, revisions.ts, …).
    expect(LEGACY_KEYS).toEqual({
      appPrefix: 'apps/',
      revisionPrefix: 'revisions/',
      rolloutPrefix: 'rollouts/',
      podPrefix: 'pods/',
      configMapPrefix: 'configmaps/',
      secretPrefix: 'secrets/',
      nodePrefix: 'nodes/',
      tokenPrefix: 'tokens/',
      targetPrefix: 'targets/',
      nodeKeyPrefix: 'nodekeys/',
      configRecordPrefix: 'configs/',
      cluster: 'cluster',
    });
  });

  it('are what the server\'s modules write (tokens, node keys, config bundles, sealing)', () => {
    expect(TOKEN_KEY_PREFIX).toBe(GroveKeys.tokenPrefix);
    expect(NODE_KEY_PREFIX).toBe(GroveKeys.nodeKeyPrefix);
    expect(CONFIG_RECORD_PREFIX).toBe(GroveKeys.configBundlePrefix);
    expect(SEALED_PREFIXES).toEqual(SEALED_KEY_PREFIXES);
  });
});
