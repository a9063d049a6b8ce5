/**
 * The sandbox part of a reconcile: plans sandbox steps (sandbox-plan.ts) and performs them
 * before the container steps, holds back starts of pods whose sandbox is not ready, and keeps
 * every pod's /etc/hosts current afterwards. A failed create backs off like a failed container
 * create and shows as CreateError on each container of the pod; the agent never crashes on it.
 */
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { PodTarget } from '../../../src/core/wire-types.js';
import type { Executor } from './executor.js';
import { podContainerKey, type ManagedContainer, type SandboxOps } from './node-runtime.js';
import type { Step } from './planner.js';
import { renderPodHosts } from './pod-hosts.js';
import { planSandboxes, sandboxKey, sandboxReady, type SandboxStep } from './sandbox-plan.js';
import { podContainers } from '../runtime/sandbox-model.js';

const SANDBOX_PREFIX = 'pod sandbox: ';

export class SandboxRound {
  private readonly log: Logger;
  /** /etc/hosts contents last handed to the runtime, so unchanged files are not rewritten. */
  private written = new Map<string, string>();
  /** Pod → its bridge address, as of the last refreshHosts (for the pods' status). */
  private ips: ReadonlyMap<string, string> = new Map();

  constructor(
    private readonly ops: SandboxOps,
    private readonly executor: Executor,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'agent-sandboxes' });
  }

  /** Performs the sandbox steps; returns the container steps that may run now. */
  async prepare(current: ManagedContainer[], pods: PodTarget[], steps: Step[]): Promise<Step[]> {
    let sandboxes = await this.ops.list();
    // Twice at most: a removal can free a hostPort that a creation waited for (planSandboxes).
    for (let pass = 0; pass < 2; pass++) {
      const planned = planSandboxes(sandboxes, current, pods, { held: this.executor.isHeld });
      for (const step of planned) await this.perform(step);
      if (planned.length > 0) sandboxes = await this.ops.list();
      if (!planned.some((s) => s.type === 'remove')) break;
    }
    return steps.filter((s) => s.type === 'remove' || sandboxReady(sandboxes, s.pod));
  }

  /** Rewrites the /etc/hosts of pods whose content changed (pods came, went or moved). */
  async refreshHosts(): Promise<void> {
    const sandboxes = await this.ops.list();
    this.ips = new Map(sandboxes.filter((s) => s.ready && s.ip).map((s) => [s.pod, s.ip!]));
    const files = renderPodHosts(sandboxes);
    const changed = new Map([...files].filter(([pod, content]) => this.written.get(pod) !== content));
    if (changed.size > 0) await this.ops.writeHosts(changed);
    this.written = files;
  }

  /** The pod's address on the node bridge, when its sandbox has one. */
  podIP(pod: string): string | undefined {
    return this.ips.get(pod);
  }

  private async perform(step: SandboxStep): Promise<void> {
    if (step.type === 'remove') {
      try {
        await this.ops.remove(step.pod);
        this.executor.clearFailure(sandboxKey(step.pod));
        this.log.info({ pod: step.pod, reason: step.reason }, 'removed pod sandbox');
      } catch (err) {
        this.executor.recordFailure(sandboxKey(step.pod), 'RemoveError', err);
      }
      return;
    }
    const { pod } = step;
    try {
      if (step.type === 'recreate') await this.ops.remove(pod.name);
      const made = await this.ops.create(pod);
      this.executor.clearFailure(sandboxKey(pod.name));
      // Starts held only by the sandbox's failure may go at once.
      for (const c of podContainers(pod)) this.executor.clearFailure(podContainerKey(pod.name, c.name), SANDBOX_PREFIX);
      this.log.info({ pod: pod.name, ip: made.ip, network: made.networkKey, ...(step.type === 'recreate' ? { reason: step.reason } : {}) }, `${step.type === 'create' ? 'created' : 'recreated'} pod sandbox`);
    } catch (err) {
      this.log.warn({ pod: pod.name, err: errorMessage(err) }, 'pod sandbox failed');
      this.executor.recordFailure(sandboxKey(pod.name), 'CreateError', err);
      for (const c of podContainers(pod)) this.executor.recordFailure(podContainerKey(pod.name, c.name), 'CreateError', err, SANDBOX_PREFIX);
    }
  }
}
