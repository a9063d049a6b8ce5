/**
 * /etc/hosts of each pod on the node: PURE. localhost, the pod's own names (its FQDN with a
 * subdomain, its hostname) on its address, and every app with a pod on this node by app name,
 * then the pod's own hostAliases. An app's name resolves to the pod itself when
 * it is of that app, else to the ready pod of the app first by name. Apps on the host's network
 * resolve to 127.0.0.1 from host-network pods and to the node's address on the pod bridge (the
 * bridge gateway) from bridge pods. The agent rewrites a file in place when its content
 * changes (it is bind-mounted: a rename would not reach the containers).
 */
import { hostsFile } from '../runtime/cni/cni-config.js';
import type { PodSandbox } from './node-runtime.js';

export function renderPodHosts(sandboxes: readonly PodSandbox[]): Map<string, string> {
  const ready = sandboxes.filter((s) => s.ready).sort((a, b) => a.pod.localeCompare(b.pod));
  const byApp = new Map<string, PodSandbox>();
  for (const s of ready) if (!byApp.has(s.app)) byApp.set(s.app, s);
  const gateway = ready.find((s) => s.gateway)?.gateway;
  const out = new Map<string, string>();
  for (const viewer of ready) {
    const others: { name: string; ip: string }[] = [];
    for (const [app, first] of [...byApp].sort(([a], [b]) => a.localeCompare(b))) {
      if (app === viewer.pod) continue; // the pod's own line already names it
      const to = app === viewer.app ? viewer : first;
      const ip = addressFrom(viewer, to, gateway);
      if (ip) others.push({ name: app, ip });
    }
    out.set(viewer.pod, hostsFile((viewer.hostNames ?? [viewer.pod]).join('\t'), viewer.hostNetwork ? undefined : viewer.ip, others, viewer.hostAliases));
  }
  return out;
}

function addressFrom(viewer: PodSandbox, to: PodSandbox, gateway: string | undefined): string | undefined {
  if (!to.hostNetwork) return to.ip;
  return viewer.hostNetwork ? '127.0.0.1' : viewer.gateway ?? gateway;
}
