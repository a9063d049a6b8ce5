import { describe, expect, it } from 'vitest';
import { Encoder } from 'cbor-x';
import { MAX_PRESENCE_BYTES, MAX_RPC_BYTES, MAX_STATUS_BYTES, MAX_TARGET_BYTES, decodeNodeTarget, encodeMessage, makeNodeTarget, podsChecksum } from '../../src/core/wire.js';
import { decodeNodeStatus, decodePresence, decodeRpcResponse } from '../../src/core/wire-from-agent.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import { ErrorCode, GroveError, isGroveError } from '../../src/core/errors.js';
import type { NodeStatus, PodTarget, Presence, RpcRequest, RpcResponse } from '../../src/core/wire-types.js';

const pod = (name = 'web-5f6c7d-x2k4'): PodTarget => ({
  name,
  app: 'web',
  templateHash: '5f6c7d',
  restartPolicy: 'Always',
  hostNetwork: false,
  containers: [
    {
      name: 'nginx',
      image: 'docker.io/library/nginx:1.27',
      command: ['/docker-entrypoint.sh'],
      args: ['nginx', '-g', 'daemon off;'],
      env: [{ name: 'MODE', value: 'prod' }],
      workingDir: '/srv',
      resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 100, requestMemoryBytes: 32 * 1024 * 1024 },
    },
  ],
});

const target = () =>
  makeNodeTarget({ cluster: 'default', node: 'pi-1', revision: 7, pods: [pod(), pod('web-2')], issuedAt: '2025-01-02T03:04:05.000Z' });

const status = (): NodeStatus => ({
  schema: 1,
  node: 'pi-1',
  seq: 12,
  observedRevision: 7,
  heartbeat: false,
  facts: {
    arch: 'arm64',
    os: 'linux',
    cpus: 4,
    memoryBytes: 8 * 2 ** 30,
    memoryAvailableBytes: 6 * 2 ** 30,
    diskFreeBytes: 20 * 2 ** 30,
    kernel: '6.6.31-v8+',
    ociRuntime: 'runc 1.1.12',
    cgroupVersion: 2,
    agentVersion: '0.1.0',
    labels: { zone: 'barn', 'grove.dev/role': 'edge' },
  },
  pods: [0, 1, 2].map((i) => ({
    name: `web-${i}`,
    app: 'web',
    templateHash: 'abc',
    phase: 'Running' as const,
    ready: true,
    restarts: 0,
    containers: [
      {
        name: 'nginx',
        state: 'running' as const,
        oomKilled: false,
        restarts: 0,
        startedAt: '2025-01-02T03:04:05Z',
        imageDigest: 'sha256:' + 'a'.repeat(64),
      },
      { name: 'side', state: 'exited' as const, reason: 'Error', message: 'boom', exitCode: 2, oomKilled: false, restarts: 3, finishedAt: '2025-01-02T03:04:06Z' },
    ],
  })),
  sentAt: '2025-01-02T03:04:07Z',
});

const presence = (): Presence => ({ schema: 1, node: 'pi-1', online: true, at: '2025-01-02T03:04:05Z' });
const rpcReq = (): RpcRequest => ({ schema: 1, id: 'r-1', method: 'logs', params: { pod: 'web-1', container: 'nginx', tail: 100, follow: true } });
const rpcRes = (): RpcResponse => ({
  schema: 1,
  id: 'r-1',
  seq: 0,
  done: false,
  lines: [{ time: '2025-01-02T03:04:05Z', stream: 'stdout', text: 'hello', container: 'nginx' }],
});

/** Encodes a mutated copy of `base`. */
function mutate<T>(base: T, fn: (m: any) => void): Buffer {
  const copy = structuredClone(base);
  fn(copy);
  return encodeMessage(copy as object);
}

function wireError(fn: () => unknown): GroveError {
  try {
    fn();
  } catch (err) {
    if (isGroveError(err, ErrorCode.WireInvalid)) return err;
    throw err;
  }
  throw new Error('expected a WireInvalid error');
}

describe('wire round trips', () => {
  it('node target', () => {
    const t = target();
    expect(decodeNodeTarget(encodeMessage(t))).toEqual(t);
    expect(t.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
  it('node target with no pods and minimal containers', () => {
    const p = pod();
    p.containers = [{ name: 'c', image: 'busybox', env: [], resources: {} }];
    const t = makeNodeTarget({ cluster: 'c', node: 'n', revision: 0, pods: [p], issuedAt: '2025-01-01T00:00:00Z' });
    expect(decodeNodeTarget(encodeMessage(t))).toEqual(t);
    const empty = makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods: [], issuedAt: '2025-01-01T00:00:00Z' });
    expect(decodeNodeTarget(encodeMessage(empty))).toEqual(empty);
  });
  it('node target with terminationGracePeriodSeconds and imagePullPolicy', () => {
    const p: PodTarget = { ...pod(), terminationGracePeriodSeconds: 45 };
    p.containers = [
      { ...p.containers[0]!, imagePullPolicy: 'Always' },
      { name: 'never', image: 'busybox', env: [], resources: {}, imagePullPolicy: 'Never' },
      { name: 'missing', image: 'busybox', env: [], resources: {}, imagePullPolicy: 'IfNotPresent' },
    ];
    const edge: PodTarget = { ...pod('web-0'), terminationGracePeriodSeconds: 0 };
    const t = makeNodeTarget({ cluster: 'c', node: 'n', revision: 2, pods: [p, edge, { ...pod('web-max'), terminationGracePeriodSeconds: 3600 }], issuedAt: '2025-01-01T00:00:00Z' });
    const decoded = decodeNodeTarget(encodeMessage(t));
    expect(decoded).toEqual(t);
    expect(decoded.pods[0]!.terminationGracePeriodSeconds).toBe(45);
    expect(decoded.pods[1]!.terminationGracePeriodSeconds).toBe(0);
    expect(decoded.pods[0]!.containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'Never', 'IfNotPresent']);
    // Absent stays absent (older servers never send them).
    const plain = decodeNodeTarget(encodeMessage(target()));
    expect('terminationGracePeriodSeconds' in plain.pods[0]!).toBe(false);
    expect('imagePullPolicy' in plain.pods[0]!.containers[0]!).toBe(false);
  });
  it('node status', () => {
    const s = status();
    expect(decodeNodeStatus(encodeMessage(s))).toEqual(s);
    const withIP = { ...s, pods: s.pods.map((p, i) => (i === 0 ? { ...p, podIP: '10.42.0.7' } : p)) };
    expect(decodeNodeStatus(encodeMessage(withIP))).toEqual(withIP);
  });
  it('node status with a run id (absent from older agents stays absent)', () => {
    const s = { ...status(), runId: '6f1c2d3e-0a1b-4c5d-8e9f-a0b1c2d3e4f5' };
    expect(decodeNodeStatus(encodeMessage(s))).toEqual(s);
    expect('runId' in decodeNodeStatus(encodeMessage(status()))).toBe(false);
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => (m.runId = 'a b')))).message).toMatch(/runId: expected letters, digits and "-"/);
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => (m.runId = 'x'.repeat(65))))).message).toMatch(/runId: longer than 64 characters/);
  });
  it('presence', () => {
    expect(decodePresence(encodeMessage(presence()))).toEqual(presence());
  });
  it('rpc request and response', () => {
    expect(decodeRpcRequest(encodeMessage(rpcReq()))).toEqual(rpcReq());
    const minimal: RpcRequest = { schema: 1, id: 'x', method: 'logs', params: { pod: 'p' } };
    expect(decodeRpcRequest(encodeMessage(minimal))).toEqual(minimal);
    expect(decodeRpcResponse(encodeMessage(rpcRes()))).toEqual(rpcRes());
    const err: RpcResponse = { schema: 1, id: 'x', seq: 3, done: true, error: { code: 'POD_NOT_FOUND', message: 'no pod p' } };
    expect(decodeRpcResponse(encodeMessage(err))).toEqual(err);
  });
  it('treats undefined and null optional fields as absent', () => {
    const buf = mutate(status(), (m) => {
      m.pods[0].containers[0].reason = undefined;
      m.pods[0].containers[0].message = null;
    });
    const c = decodeNodeStatus(buf).pods[0]!.containers[0]!;
    expect('reason' in c).toBe(false);
    expect('message' in c).toBe(false);
    const t = decodeNodeTarget(
      mutate(target(), (m) => {
        m.pods[0].terminationGracePeriodSeconds = null;
        m.pods[0].containers[0].imagePullPolicy = null;
        // The checksum covers the pods as sent, nils included.
        m.checksum = podsChecksum(m.pods);
      }),
    );
    expect('terminationGracePeriodSeconds' in t.pods[0]!).toBe(false);
    expect('imagePullPolicy' in t.pods[0]!.containers[0]!).toBe(false);
  });
});

describe('wire validation', () => {
  it('names the field path in the message', () => {
    const e = wireError(() => decodeNodeStatus(mutate(status(), (m) => (m.pods[2].containers[0].state = 'sleeping'))));
    expect(e.message).toBe('node status from pi-1: pods[2].containers[0].state: expected one of waiting, running, exited');
    expect(e.details.path).toBe('pods[2].containers[0].state');
  });
  it('rejects wrong types', () => {
    const cases: [(m: any) => void, RegExp][] = [
      [(m) => (m.seq = '12'), /seq: expected a number, got string/],
      [(m) => (m.seq = 1.5), /seq: expected an integer/],
      [(m) => (m.seq = -1), /seq: must be ≥ 0/],
      [(m) => (m.heartbeat = 1), /heartbeat: expected a boolean, got number/],
      [(m) => (m.facts = []), /facts: expected a map, got array/],
      [(m) => (m.facts.labels.zone = 5), /facts\.labels\.zone: expected a string/],
      [(m) => (m.pods = {}), /pods: expected an array, got map/],
      [(m) => (m.pods[1] = 'x'), /pods\[1\]: expected a map, got string/],
      [(m) => (m.pods[0].phase = 'Sleeping'), /pods\[0\]\.phase: expected one of Pending/],
      [(m) => (m.sentAt = 'yesterday'), /sentAt: expected an ISO 8601 timestamp/],
      [(m) => (m.facts.cpus = Infinity), /facts\.cpus: expected a number/],
      [(m) => (m.pods[0].podIP = '10.42.0.300'), /pods\[0\]\.podIP: expected an IPv4 address/],
      [(m) => (m.pods[0].podIP = 7), /pods\[0\]\.podIP: expected a string/],
    ];
    for (const [fn, re] of cases) expect(wireError(() => decodeNodeStatus(mutate(status(), fn))).message).toMatch(re);
  });
  it('rejects missing required fields', () => {
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => delete m.facts))).message).toMatch(/facts: required/);
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => delete m.pods[0].containers[1].oomKilled))).message).toMatch(
      /pods\[0\]\.containers\[1\]\.oomKilled: required/,
    );
    expect(wireError(() => decodePresence(mutate(presence(), (m) => delete m.online))).message).toMatch(/online: required/);
    expect(wireError(() => decodeRpcRequest(mutate(rpcReq(), (m) => delete m.params))).message).toMatch(/params: required/);
    expect(wireError(() => decodeRpcRequest(mutate(rpcReq(), (m) => delete m.params.pod))).message).toMatch(/params\.pod: required/);
  });
  it('rejects bad target fields', () => {
    const t = target();
    const cases: [(m: any) => void, RegExp][] = [
      [(m) => (m.node = 'pi/1'), /node: invalid name/],
      [(m) => (m.cluster = '+'), /cluster: invalid name/],
      [(m) => (m.revision = -3), /revision: must be ≥ 0/],
      [(m) => (m.checksum = 'abc'), /checksum: expected 64 lowercase hex digits/],
      [(m) => (m.pods[0].containers = []), /pods\[0\]\.containers: at least 1 item required/],
      [(m) => (m.pods[0].restartPolicy = 'Sometimes'), /restartPolicy: expected one of Always, OnFailure, Never/],
      [(m) => (m.pods[0].containers[0].env[0].name = ''), /env\[0\]\.name: must not be empty/],
      [(m) => (m.pods[0].containers[0].args[1] = 7), /args\[1\]: expected a string/],
      [(m) => (m.pods[0].containers[0].resources.cpus = -1), /resources\.cpus: must be ≥ 0/],
      [(m) => delete m.pods[0].containers[0].resources, /resources: required/],
      [(m) => (m.pods[0].terminationGracePeriodSeconds = -1), /pods\[0\]\.terminationGracePeriodSeconds: must be ≥ 0/],
      [(m) => (m.pods[0].terminationGracePeriodSeconds = 3601), /pods\[0\]\.terminationGracePeriodSeconds: must be ≤ 3600, got 3601/],
      [(m) => (m.pods[0].terminationGracePeriodSeconds = 1.5), /terminationGracePeriodSeconds: expected an integer/],
      [(m) => (m.pods[0].terminationGracePeriodSeconds = '30'), /terminationGracePeriodSeconds: expected a number, got string/],
      [(m) => (m.pods[1].containers[0].imagePullPolicy = 'always'), /pods\[1\]\.containers\[0\]\.imagePullPolicy: expected one of Always, IfNotPresent, Never/],
      [(m) => (m.pods[0].containers[0].imagePullPolicy = 1), /imagePullPolicy: expected one of Always, IfNotPresent, Never/],
    ];
    for (const [fn, re] of cases) expect(wireError(() => decodeNodeTarget(mutate(t, fn))).message).toMatch(re);
  });
  it('enforces string and array length limits', () => {
    const long = 'a'.repeat(254);
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => (m.pods[0].name = long)))).message).toMatch(
      /pods\[0\]\.name: longer than 253 characters/,
    );
    const manyContainers = mutate(status(), (m) => (m.pods[0].containers = Array(33).fill(m.pods[0].containers[0])));
    expect(wireError(() => decodeNodeStatus(manyContainers)).message).toMatch(/pods\[0\]\.containers: more than 32 items/);
    const manyPods = mutate(status(), (m) => (m.pods = Array(1001).fill({})));
    expect(wireError(() => decodeNodeStatus(manyPods)).message).toMatch(/pods: more than 1000 items/);
    const t = target();
    const manyEnv = mutate(t, (m) => (m.pods[0].containers[0].env = Array(1001).fill({ name: 'A', value: '' })));
    expect(wireError(() => decodeNodeTarget(manyEnv)).message).toMatch(/env: more than 1000 items/);
  });
  it('rejects oversized payloads before decoding', () => {
    const cases: [(b: Uint8Array) => unknown, number][] = [
      [decodeNodeTarget, MAX_TARGET_BYTES],
      [decodeNodeStatus, MAX_STATUS_BYTES],
      [decodePresence, MAX_PRESENCE_BYTES],
      [decodeRpcRequest, MAX_RPC_BYTES],
      [decodeRpcResponse, MAX_RPC_BYTES],
    ];
    for (const [decode, max] of cases) {
      const e = wireError(() => decode(new Uint8Array(max + 1)));
      expect(e.message).toMatch(new RegExp(`payload of ${max + 1} bytes exceeds the limit of ${max} bytes`));
    }
    expect(MAX_TARGET_BYTES).toBe(1 << 20);
    expect(MAX_PRESENCE_BYTES).toBe(1024);
  });
  it('rejects an unsupported schema version clearly', () => {
    expect(wireError(() => decodePresence(mutate(presence(), (m) => (m.schema = 2)))).message).toBe(
      'presence of pi-1: unsupported schema version 2 (this build speaks 1)',
    );
    expect(wireError(() => decodeNodeTarget(mutate(target(), (m) => delete m.schema))).message).toMatch(
      /unsupported schema version undefined/,
    );
  });
  it('verifies the target checksum', () => {
    const tampered = mutate(target(), (m) => (m.pods[0].containers[0].image = 'evil:latest'));
    const e = wireError(() => decodeNodeTarget(tampered));
    expect(e.message).toMatch(/^node target for pi-1: checksum: mismatch/);
  });
  it('strips unknown fields at every level', () => {
    const s = decodeNodeStatus(
      mutate(status(), (m) => {
        m.extra = 1;
        m.facts.gpu = 'none';
        m.pods[0].extra = { a: 1 };
        m.pods[0].containers[0].pid = 1234;
      }),
    );
    expect(s).toEqual(status());
    expect('extra' in s).toBe(false);
    expect('pid' in s.pods[0]!.containers[0]!).toBe(false);
    const r = decodeRpcRequest(mutate(rpcReq(), (m) => (m.params.since = 'x')));
    expect(r.params).toEqual(rpcReq().params);
  });
  it('keeps the sent checksum valid when a newer server adds pod fields', () => {
    const pods: any[] = [{ ...pod(), priority: 5 }];
    const t = { ...makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods: pods as PodTarget[], issuedAt: '2025-01-01T00:00:00Z' }) };
    const decoded = decodeNodeTarget(encodeMessage(t));
    expect('priority' in decoded.pods[0]!).toBe(false);
    expect(decoded.checksum).toBe(t.checksum);
  });
  it('rejects garbage and non-map payloads', () => {
    expect(wireError(() => decodePresence(Buffer.from('hello, world'))).message).toMatch(/^presence: /);
    expect(wireError(() => decodePresence(Buffer.from([0xa5, 0x01]))).message).toMatch(/not valid CBOR/);
    expect(wireError(() => decodePresence(new Uint8Array(0))).message).toMatch(/empty payload/);
    expect(wireError(() => decodePresence(encodeMessage([1, 2]))).message).toMatch(/\(root\): expected a map, got array/);
    expect(wireError(() => decodePresence(Buffer.from([0x05]))).message).toMatch(/expected a map, got number/);
    // A CBOR Map with non-string keys (tag 259) decodes to a Map, which is not a plain map.
    const tagged = new Encoder({ useRecords: false }).encode(new Map<unknown, unknown>([[1, 2]]));
    expect(wireError(() => decodePresence(tagged)).message).toMatch(/expected a map, got Map/);
  });
  it('turns absurd nesting into WireInvalid, not a crash', () => {
    const deep = Buffer.concat([Buffer.from([0xa1, 0x66, ...Buffer.from('schema'), 0x01, 0xa1, 0x61, 0x78]), Buffer.alloc(200_000, 0x81), Buffer.from([0x00])]);
    // {schema: 1, x: [[[…]]]} with 200 000 levels: either the parser or the validator rejects it.
    const presenceSized = deep.subarray(0, 900);
    expect(wireError(() => decodePresence(presenceSized)).code).toBe(ErrorCode.WireInvalid);
    expect(wireError(() => decodeNodeStatus(deep)).code).toBe(ErrorCode.WireInvalid);
    // The same inside an unknown pod field, which only the checksum walks.
    const marker = 'ZZZZZZZZ';
    const t = makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods: [{ ...pod(), deep: marker } as PodTarget], issuedAt: '2025-01-01T00:00:00Z' });
    const bytes = encodeMessage(t);
    const at = bytes.indexOf(Buffer.concat([Buffer.from([0x68]), Buffer.from(marker)]));
    expect(at).toBeGreaterThan(0);
    const nested = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(500_000, 0x81), Buffer.from([0x00]), bytes.subarray(at + 9)]);
    expect(wireError(() => decodeNodeTarget(nested)).code).toBe(ErrorCode.WireInvalid);
  });

  it('does not let __proto__ keys pollute anything', () => {
    const raw = JSON.parse('{"zone":"a","__proto__":"x"}');
    const s = decodeNodeStatus(mutate(status(), (m) => (m.facts.labels = raw)));
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(s.facts.labels)).toBe(Object.prototype);
    expect(s.facts.labels.zone).toBe('a');
    // A map value under __proto__ is still just a non-string label value.
    const nested = JSON.parse('{"__proto__":{"polluted":true}}');
    expect(wireError(() => decodeNodeStatus(mutate(status(), (m) => (m.facts.labels = nested)))).message).toMatch(/expected a string/);
    expect(({} as any).polluted).toBeUndefined();
  });
  it('labels errors with the rpc id', () => {
    const e = wireError(() => decodeRpcResponse(mutate(rpcRes(), (m) => (m.lines[0].stream = 'stdin'))));
    expect(e.message).toBe('rpc response "r-1": lines[0].stream: expected one of stdout, stderr');
    expect(wireError(() => decodeRpcRequest(mutate(rpcReq(), (m) => (m.method = 'reboot')))).message).toMatch(/method: expected one of logs/);
  });
});

describe('podsChecksum', () => {
  it('does not depend on key order at any depth', () => {
    const a = pod();
    const c = a.containers[0]!;
    const reordered = {
      containers: [
        {
          resources: { requestMemoryBytes: c.resources.requestMemoryBytes, pidsLimit: 100, cpus: 0.5, memoryBytes: c.resources.memoryBytes },
          workingDir: c.workingDir,
          env: c.env.map((e) => ({ value: e.value, name: e.name })),
          args: c.args,
          command: c.command,
          image: c.image,
          name: c.name,
        },
      ],
      hostNetwork: a.hostNetwork,
      restartPolicy: a.restartPolicy,
      templateHash: a.templateHash,
      app: a.app,
      name: a.name,
    } as PodTarget;
    expect(podsChecksum([reordered])).toBe(podsChecksum([a]));
  });
  it('handles integer-like keys and undefined values canonically', () => {
    expect(podsChecksum([{ '10': 1, '9': 2, b: undefined }])).toBe(podsChecksum([{ '9': 2, '10': 1 }]));
  });
  it('changes when content or pod order changes', () => {
    const base = podsChecksum([pod('a'), pod('b')]);
    expect(podsChecksum([pod('b'), pod('a')])).not.toBe(base);
    const changed = pod('a');
    changed.containers[0]!.env[0]!.value = 'dev';
    expect(podsChecksum([changed, pod('b')])).not.toBe(base);
  });
  it('makeNodeTarget validates its inputs', () => {
    expect(() => makeNodeTarget({ cluster: 'a#', node: 'n', revision: 1, pods: [], issuedAt: 'x' })).toThrow(/cluster/);
    expect(() => makeNodeTarget({ cluster: 'a', node: 'n', revision: -1, pods: [], issuedAt: 'x' })).toThrow(/revision/);
  });
});
