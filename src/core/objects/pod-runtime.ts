/**
 * The pod fields that reach into the node's kernel rather than the container's image: sharing
 * the host's PID and IPC namespaces (hostPID, hostIPC), extra /etc/hosts lines (hostAliases),
 * and namespaced sysctls (securityContext.sysctls). Their schemas and the rules a schema cannot
 * say live in pod-runtime-rules.ts (no TypeBox: the agent loads the rules, not the schemas).
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsSubdomain, IPV4, pattern } from './kit.js';
import { SYSCTL_NAME } from './pod-runtime-rules.js';

export const POD_RUNTIME_LIMITS = Object.freeze({ hostAliases: 64, hostnames: 32, sysctls: 64, sysctlValue: 1024 });

/** One line of the pod's /etc/hosts: `ip<TAB>hostname…`, after Grove's own lines (as the kubelet writes them). */
export const HostAlias = closed({
  ip: pattern(IPV4, 'must be an IPv4 address', { maxLength: 15 }),
  hostnames: Type.Optional(Type.Array(dnsSubdomain(), { maxItems: POD_RUNTIME_LIMITS.hostnames })),
});
export type HostAlias = Static<typeof HostAlias>;

export const HostAliases = Type.Array(HostAlias, { maxItems: POD_RUNTIME_LIMITS.hostAliases });

export const Sysctl = closed({
  name: pattern(SYSCTL_NAME, 'must be a sysctl name written with dots, such as net.ipv4.ip_unprivileged_port_start', { minLength: 1, maxLength: 253 }),
  // Printable text and tabs: "1024 65000" is a value, a newline would be a second write.
  value: pattern('^[\\t\\x20-\\x7e]*$', 'must be printable text on one line', { maxLength: POD_RUNTIME_LIMITS.sysctlValue }),
});
export type Sysctl = Static<typeof Sysctl>;

export const Sysctls = Type.Array(Sysctl, { maxItems: POD_RUNTIME_LIMITS.sysctls });
