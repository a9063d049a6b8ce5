/**
 * Issue 12, defect 5: a node answering an RPC with chunks that never start at seq 0 made a real
 * `grove server` hold every one of them (167 → 425 MB). Here a joined node does that with 1,200
 * chunks of ~200 KB and the server's resident set must stay within 10 MiB of where it was.
 */
import { readFile } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import type { NodeStatus, RpcRequest, RpcResponse } from '../../src/core/wire-types.js';
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';

const MIB = 1024 * 1024;
const CHUNKS = 1200;
/** Three 64 Ki-character lines: ~200 KB per chunk, under the wire's 256 KiB rpc limit. */
const LINES = [0, 1, 2].map((i) => ({ time: '2025-05-01T00:00:00.000Z', stream: 'stdout' as const, text: String(i).repeat(64 * 1024), container: 'c' }));

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

describe('RPC reassembly bounds against a real server process', () => {
  let cluster: TestCluster;
  let node: MqttClient;
  let topics: ReturnType<typeof topicsFor>;
  let token: string;
  /** What the fake node does with the next rpc request. */
  let answer: (req: RpcRequest) => Promise<void> = async () => undefined;

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.startServer();
    token = JSON.parse(await readFile(`${cluster.serverDir}/client.json`, 'utf8')).token as string;
    const joinToken = await cluster.token();
    const res = await fetch(`${cluster.apiUrl}/v1/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: joinToken, nodeName: 'rogue' }) });
    const join = (await res.json()) as { cluster: string; mqtt: { username: string; password: string } };
    topics = topicsFor(join.cluster, 'rogue');
    node = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.mqttPort}`, { username: join.mqtt.username, password: join.mqtt.password, clientId: join.mqtt.username, reconnectPeriod: 0 });
    node.on('message', (topic, payload) => {
      if (topic !== topics.rpcRequest) return;
      const req = decodeRpcRequest(payload);
      // The server cancels what it stopped waiting for; this node has nothing to stop.
      if (req.method !== 'cancel') void answer(req);
    });
    await node.subscribeAsync(topics.rpcRequest, { qos: 1 });
    await node.publishAsync(topics.presence, encodeMessage({ schema: 1, node: 'rogue', online: true, at: new Date().toISOString() }), { qos: 1, retain: true });
    const status: NodeStatus = {
      schema: 1,
      node: 'rogue',
      runId: 'rogue-run',
      seq: 1,
      observedRevision: 0,
      heartbeat: false,
      facts: { arch: 'amd64', os: 'linux', cpus: 2, memoryBytes: 2 ** 30, memoryAvailableBytes: 2 ** 29, diskFreeBytes: 2 ** 32, kernel: 'x', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: 'test', labels: {} },
      pods: [],
      sentAt: new Date().toISOString(),
    };
    await node.publishAsync(topics.status, encodeMessage(status), { qos: 1 });
    await cluster.waitForNodesReady(['rogue']);
  }, 120_000);

  afterAll(async () => {
    await node?.endAsync(true);
    await cluster?.destroy();
  });

  const listVolumes = async (): Promise<{ node: string; error?: string }[]> => {
    const res = await fetch(`${cluster.apiUrl}/v1/volumes?node=rogue`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
    return (await res.json()) as { node: string; error?: string }[];
  };
  const send = (id: string, seq: number, o: Partial<RpcResponse> = {}) =>
    node.publishAsync(topics.rpcResponse, encodeMessage({ schema: 1, id, seq, done: false, lines: LINES, ...o }), { qos: 1 });

  it('1,200 out-of-order chunks (never seq 0) leave the server RSS within 10 MiB of where it started', async () => {
    const pid = cluster.server!.pid!;
    // Warm up: the same amount of well-ordered answers, so what the flood is compared with is
    // a server that has already decoded and streamed big answers (heap and buffers grown).
    answer = async (req) => {
      for (let seq = 0; seq < CHUNKS; seq++) await send(req.id, seq);
      await send(req.id, CHUNKS, { lines: [], volumes: [], done: true });
    };
    expect(await listVolumes()).toEqual([{ node: 'rogue', volumes: [] }]);
    const before = await rss(pid);

    let sent = 0;
    answer = async (req) => {
      for (let seq = 1; seq <= CHUNKS; seq++, sent++) await send(req.id, seq);
    };
    const answered = listVolumes();
    answered.catch(() => undefined); // awaited below; a failed assertion before must not leave it unhandled
    await eventually(async () => sent === CHUNKS, 60_000, 'all chunks sent');
    // Let the last chunks through the broker and the server's MQTT client; measured before the
    // request's 10 s silence timeout would let go of whatever it held.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await rss(pid);
    console.log(`server RSS before the flood ${(before / MIB).toFixed(1)} MiB, after ${(after / MIB).toFixed(1)} MiB (${CHUNKS} chunks of ~${Math.round(encodeMessage(LINES).length / 1024)} KiB)`);
    expect(after - before).toBeLessThan(10 * MIB);
    const [result] = await answered;
    expect(result!.error).toMatch(/^node rogue answered the volume request out of order: /);
    expect(cluster.serverLog).toMatch(/volume request abandoned: chunk \d+ arrived while chunk 0 was expected|volume request abandoned: more than \d+ bytes arrived out of order/);
  }, 180_000);
});
