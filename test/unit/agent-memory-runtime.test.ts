import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';
import { EXEC_OK, LISTEN_PORT, nodeRuntimeContract } from '../contract/node-runtime.contract.js';

/** The harness's containers describe their behaviour in env, which MemoryRuntime's hook reads. */
function target(name: string, lines: string[], exit?: number): Container {
  const env = [{ name: 'LINES', value: JSON.stringify(lines) }];
  if (exit !== undefined) env.push({ name: 'EXIT', value: String(exit) });
  return { name, image: 'mem/busybox:1', env };
}

describe('MemoryRuntime: NodeRuntime contract', () => {
  nodeRuntimeContract(async () => {
    const runtime = new MemoryRuntime({
      behaviour: (_pod, c) => {
        const get = (n: string) => c.env?.find((e) => e.name === n)?.value;
        const exit = get('EXIT');
        return { logs: JSON.parse(get('LINES') ?? '[]') as string[], ...(exit !== undefined ? { exitCode: Number(exit) } : {}) };
      },
    });
    return {
      runtime,
      longRunning: (name, lines) => target(name, lines),
      exiting: (name, lines, code) => target(name, lines, code),
      listening: (name) => target(name, []),
      scriptProbes: (name) =>
        runtime.answerProbes(name, (req) => ('argv' in req ? req.argv.join(' ') === EXEC_OK.join(' ') : (req.check.tcpSocket ?? req.check.httpGet)?.port === LISTEN_PORT)),
      eventually: async (check, what) => {
        const v = await check();
        if (!v) throw new Error(`MemoryRuntime is synchronous, yet ${what} did not happen`);
        return v;
      },
      cleanup: async () => undefined,
    };
  });
});

describe('MemoryRuntime controls', () => {
  const pod: WirePodTarget = podTarget('web-a', { hash: 'h', containers: [target('main', [])] });

  it('is deterministic: ids count up, times come from the injected clock', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const rt = new MemoryRuntime({ now: () => clock.now() });
    const a = await rt.start(pod, pod.spec.containers[0] as Container);
    expect(a.id).toBe('0'.repeat(63) + '1');
    expect(a.createdAt).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(5000);
    rt.exit(a.id, 7, { oomKilled: true });
    expect(rt.get('web-a_main')).toMatchObject({ state: 'exited', exitCode: 7, oomKilled: true, finishedAt: '2030-01-01T00:00:05.000Z' });
    expect(rt.calls).toEqual(['start web-a_main']);
  });

  it('fails starts on demand: per image until cleared, or just the next one', async () => {
    const rt = new MemoryRuntime();
    rt.failImage('mem/busybox:1');
    await expect(rt.start(pod, pod.spec.containers[0] as Container)).rejects.toThrow(/not found/);
    rt.failImage('mem/busybox:1', null);
    rt.failNextStart(new Error('disk full'));
    await expect(rt.start(pod, pod.spec.containers[0] as Container)).rejects.toThrow('disk full');
    await expect(rt.start(pod, pod.spec.containers[0] as Container)).resolves.toMatchObject({ state: 'running' });
  });

  it('streams appended lines to a follower until the container exits', async () => {
    const rt = new MemoryRuntime();
    const c = await rt.start(pod, pod.spec.containers[0] as Container);
    rt.appendLog(c.id, 'a');
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of rt.logs(c.id, { follow: true })) seen.push(l.text);
    })();
    await new Promise((r) => setImmediate(r));
    rt.appendLog(c.id, 'b', 'stderr');
    rt.exit(c.id, 0);
    await done;
    expect(seen).toEqual(['a', 'b']);
  });
});
