/**
 * API validation of container ports and the hostPorts a pod template claims (the decoder is
 * the agent's, src/core/wire-ports.ts, so what the API accepts a node accepts).
 */
import type { ContainerPort, ContainerTemplate } from '../core/model.js';
import { checkPodHostPorts, decodePorts } from '../core/wire-ports.js';
import { invalid } from './validate-primitives.js';

const fail = (field: string, reason: string): never => {
  throw invalid(field, reason);
};

/** containers[i].ports, or undefined when absent (templates without ports keep their hash). */
export function containerPorts(v: unknown, path: string): ContainerPort[] | undefined {
  return v === undefined ? undefined : decodePorts(v, path, fail);
}

/** Two containers of one pod cannot publish the same hostPort/protocol. */
export function checkTemplateHostPorts(containers: readonly ContainerTemplate[], path: string): void {
  checkPodHostPorts(containers, path, fail);
}
