/**
 * The executor's handler table is typed over the Step union (a kind without a handler does not
 * compile: the @ts-expect-error below is checked by `tsc`, so `npm run build` fails if a table
 * missing a kind ever compiles), what a step needs is honoured, and failures are recorded under
 * typed ids, never matched by their message.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import type { HandlerTable } from '../../agent/src/agent/execute/context.js';
import { Executor } from '../../agent/src/agent/execute/executor.js';
import { HANDLERS } from '../../agent/src/agent/execute/handlers.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { emptyMemory, failureOf, shownFailure } from '../../agent/src/agent/plan/memory.js';
import { PHASE, workKey, type Step } from '../../agent/src/agent/plan/steps.js';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

const { 'write-hosts': _writeHosts, ...withoutWriteHosts } = HANDLERS;
// @ts-expect-error a table without a handler for 'write-hosts' is not a HandlerTable
const incomplete: HandlerTable = withoutWriteHosts;

const pod = (name: string): WirePodTarget => podTarget(name, { containers: [podContainer('main', { image: 'reg.lan/app:1' })] });

function setup() {
  const clock = new ManualClock();
  const runtime = new MemoryRuntime({ now: () => clock.now() });
  const memory = emptyMemory();
  const executor = new Executor({ runtime, clock, logger: silentLogger() });
  const run = async (steps: Step[]) => {
    const containers = await runtime.list();
    const before = { containers, sandboxes: await runtime.sandboxes.list() };
    return executor.execute(steps, { memory, before, observe: async () => ({ containers: await runtime.list(), sandboxes: await runtime.sandboxes.list() }) });
  };
  return { clock, runtime, memory, run };
}

describe('the handler table', () => {
  it('has one handler for every step kind, and no other', () => {
    expect(Object.keys(HANDLERS).sort()).toEqual(Object.keys(PHASE).sort());
    expect(Object.values(HANDLERS).every((h) => typeof h === 'function')).toBe(true);
    expect(Object.keys(incomplete)).not.toContain('write-hosts');
  });
});

describe('what a step needs', () => {
  it("skips the starts of a pod whose sandbox step failed, and shows the sandbox's failure on them", async () => {
    const { runtime, memory, run } = setup();
    runtime.sandboxes.failNextCreate(new GroveError(ErrorCode.RuntimeNotFound, 'CNI plugin "bridge" not found'));
    const web = pod('web-a');
    const { results } = await run([
      { type: 'create-sandbox', pod: web },
      { type: 'start-container', pod: web, container: web.spec.containers[0]!, needs: [{ kind: 'sandbox', pod: 'web-a' }] },
    ]);
    expect(results.map((r) => [r.step.type, r.ok, r.skipped ?? false])).toEqual([
      ['create-sandbox', false, false],
      ['start-container', false, true],
    ]);
    expect(runtime.calls).toEqual([]);
    expect(failureOf(memory, { kind: 'sandbox', pod: 'web-a' })).toMatchObject({ work: { kind: 'sandbox', pod: 'web-a' }, reason: 'CreateError', failures: 1 });
    // Nothing is recorded on the container itself; its status shows the sandbox's failure.
    expect(failureOf(memory, { kind: 'container', pod: 'web-a', container: 'main' })).toBeUndefined();
    expect(shownFailure(memory, { kind: 'container', pod: 'web-a', container: 'main' })).toMatchObject({ reason: 'CreateError', message: 'pod sandbox: CNI plugin "bridge" not found' });
  });

  it('starts an app only once no removal of its containers is in flight', async () => {
    const { memory, run, runtime } = setup();
    const web = pod('web-b');
    const start: Step = { type: 'start-container', pod: web, container: web.spec.containers[0]!, needs: [{ kind: 'app-stopped', app: 'web' }] };
    memory.removing.set('some-id', 'web');
    expect((await run([start])).results[0]).toMatchObject({ ok: false, skipped: true });
    memory.removing.clear();
    expect((await run([start])).results[0]).toMatchObject({ ok: true });
    expect(runtime.calls).toEqual(['start web-b_main']);
  });
});

describe('failures by typed id', () => {
  it('keeps a container failure whose message looks like a sandbox one when the sandbox is made', async () => {
    const { memory, run } = setup();
    const work = { kind: 'container' as const, pod: 'web-a', container: 'main' };
    memory.failures.set(workKey(work), { work, reason: 'CreateError', message: 'pod sandbox: said by the container', failures: 2, retryAt: 0 });
    await run([{ type: 'create-sandbox', pod: pod('web-a') }]);
    expect(failureOf(memory, work)).toMatchObject({ message: 'pod sandbox: said by the container', failures: 2 });
  });

  it('records a failed start under the container and counts on, and forgets it once it starts', async () => {
    const { clock, runtime, memory, run } = setup();
    const web = pod('web-a');
    const start: Step = { type: 'start-container', pod: web, container: web.spec.containers[0]! };
    runtime.failImage('reg.lan/app:1');
    await run([start]);
    await run([start]);
    expect(failureOf(memory, { kind: 'container', pod: 'web-a', container: 'main' })).toMatchObject({ reason: 'ImagePullError', failures: 2, retryAt: clock.now() + 2000 });
    runtime.failImage('reg.lan/app:1', null);
    await run([start]);
    expect(memory.failures.size).toBe(0);
  });
});
