/**
 * The container and volume blocks of `kubectl describe` (pods and pod templates): image, ports,
 * command, limits, probes, environment, mounts, and for a pod the state each container is in.
 */
import type { KindObject } from '../../../../core/objects/validate.js';
import type { ContainerState, ContainerStatus, PodSpec, PodTemplateSpec } from '../../../../core/objects/pod.js';
import { formatLabels } from '../../../../core/objects/columns/cells.js';
import type { Probe } from '../../../../core/objects/pod-container.js';
import { describeTime, type DescribeText } from './describe-writer.js';

type Container = KindObject<'Pod'>['spec']['containers'][number];

function portsText(c: Container): { ports: string; hostPorts: string; plural: boolean } {
  const ports = c.ports ?? [];
  if (ports.length === 0) return { ports: '<none>', hostPorts: '<none>', plural: false };
  return {
    ports: ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', '),
    hostPorts: ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', '),
    plural: ports.length > 1,
  };
}

/** "http-get http://:80/healthz delay=0s timeout=1s period=10s #success=1 #failure=3", as kubectl. */
export function probeText(p: Probe): string {
  let action = 'unknown';
  if (p.httpGet) action = `http-get http://${p.httpGet.host ?? ''}:${p.httpGet.port}${p.httpGet.path ?? '/'}`;
  else if (p.tcpSocket) action = `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port}`;
  else if (p.exec) action = `exec [${p.exec.command.join(' ')}]`;
  return `${action} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function list(out: DescribeText, level: number, title: string, values: readonly string[] | undefined): void {
  if (!values?.length) return;
  out.line(level, `${title}:`);
  for (const v of values) out.line(level + 1, v);
}

function resources(out: DescribeText, level: number, title: string, values: Readonly<Record<string, string | number | undefined>> | undefined): void {
  const keys = Object.keys(values ?? {}).filter((k) => values![k] !== undefined).sort();
  if (!keys.length) return;
  out.line(level, `${title}:`);
  for (const k of keys) out.field(level + 1, k, values![k]);
}

function environment(out: DescribeText, level: number, c: Container): void {
  if (c.envFrom?.length) {
    out.line(level, 'Environment Variables from:');
    for (const f of c.envFrom) {
      const [name, kind, optional] = f.configMapRef ? [f.configMapRef.name, 'ConfigMap', f.configMapRef.optional] : [f.secretRef!.name, 'Secret', f.secretRef!.optional];
      out.row(level + 1, [name, `${kind}${f.prefix ? ` with prefix '${f.prefix}'` : ''}`, `Optional: ${optional ?? false}`]);
    }
  }
  if (!c.env?.length) return void out.field(level, 'Environment', undefined);
  out.line(level, 'Environment:');
  for (const e of c.env) {
    const from = e.valueFrom;
    if (from?.secretKeyRef) out.row(level + 1, [`${e.name}:`, `<set to the key '${from.secretKeyRef.key}' in secret '${from.secretKeyRef.name}'>`, `Optional: ${from.secretKeyRef.optional ?? false}`]);
    else if (from?.configMapKeyRef) out.row(level + 1, [`${e.name}:`, `<set to the key '${from.configMapKeyRef.key}' of config map '${from.configMapKeyRef.name}'>`, `Optional: ${from.configMapKeyRef.optional ?? false}`]);
    // kubectl's forms: the field as (apiVersion:fieldPath), the resource as (resource).
    else if (from?.fieldRef) out.row(level + 1, [`${e.name}:`, ` (${from.fieldRef.apiVersion ?? 'v1'}:${from.fieldRef.fieldPath})`]);
    else if (from?.resourceFieldRef) out.row(level + 1, [`${e.name}:`, ` (${from.resourceFieldRef.containerName ? `${from.resourceFieldRef.containerName}:` : ''}${from.resourceFieldRef.resource})`]);
    else out.text(level + 1, e.name, e.value);
  }
}

function mounts(out: DescribeText, level: number, c: Container): void {
  if (!c.volumeMounts?.length) return void out.field(level, 'Mounts', undefined);
  out.line(level, 'Mounts:');
  for (const m of c.volumeMounts) out.line(level + 1, `${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'}${m.subPath ? `,path="${m.subPath}"` : ''})`);
}

function state(out: DescribeText, level: number, title: string, s: ContainerState | undefined): void {
  if (s?.running) {
    out.field(level, title, 'Running');
    out.field(level + 1, 'Started', describeTime(s.running.startedAt));
  } else if (s?.waiting) {
    out.field(level, title, 'Waiting');
    if (s.waiting.reason) out.field(level + 1, 'Reason', s.waiting.reason);
    if (s.waiting.message) out.field(level + 1, 'Message', s.waiting.message);
  } else if (s?.terminated) {
    const t = s.terminated;
    out.field(level, title, 'Terminated');
    if (t.reason) out.field(level + 1, 'Reason', t.reason);
    if (t.message) out.field(level + 1, 'Message', t.message);
    out.field(level + 1, 'Exit Code', t.exitCode);
    if (t.signal) out.field(level + 1, 'Signal', t.signal);
    out.field(level + 1, 'Started', describeTime(t.startedAt));
    out.field(level + 1, 'Finished', describeTime(t.finishedAt));
  } else if (title === 'State') {
    out.field(level, title, 'Waiting');
  }
}

/**
 * Where kubectl puts the entries of a block titled at `level`: a pod's (level 0) names at 2
 * spaces and their fields at 4; a pod template's (level 1) names at 3 spaces and fields at 4 too.
 */
function nested(level: number): { name: { level: number; pad: string }; inner: number } {
  return level === 0 ? { name: { level: 1, pad: '' }, inner: 2 } : { name: { level, pad: ' ' }, inner: level + 1 };
}

/**
 * The containers of a pod (with their statuses) or of a template (without): each as kubectl
 * describes it, Grove's security settings shown where kubectl would show them.
 */
export function describeContainers(out: DescribeText, level: number, title: string, containers: readonly Container[], statuses?: readonly ContainerStatus[]): void {
  out.line(level, `${title}:`);
  const { name, inner } = nested(level);
  for (const c of containers) {
    const s = statuses?.find((x) => x.name === c.name);
    out.line(name.level, `${name.pad}${c.name}:`);
    if (statuses) out.text(inner, 'Container ID', s?.containerID);
    out.field(inner, 'Image', c.image);
    if (statuses) out.text(inner, 'Image ID', s?.imageID);
    const p = portsText(c);
    out.field(inner, p.plural ? 'Ports' : 'Port', p.ports);
    out.field(inner, p.plural ? 'Host Ports' : 'Host Port', p.hostPorts);
    list(out, inner, 'Command', c.command);
    list(out, inner, 'Args', c.args);
    if (c.workingDir) out.field(inner, 'Working Dir', c.workingDir);
    if (statuses) {
      state(out, inner, 'State', s?.state);
      state(out, inner, 'Last State', s?.lastState);
      out.field(inner, 'Ready', s?.ready ? 'True' : 'False');
      out.field(inner, 'Restart Count', s?.restartCount ?? 0);
    }
    resources(out, inner, 'Limits', c.resources?.limits);
    resources(out, inner, 'Requests', c.resources?.requests);
    if (c.livenessProbe) out.field(inner, 'Liveness', probeText(c.livenessProbe));
    if (c.readinessProbe) out.field(inner, 'Readiness', probeText(c.readinessProbe));
    if (c.startupProbe) out.field(inner, 'Startup', probeText(c.startupProbe));
    if (c.securityContext?.privileged) out.field(inner, 'Privileged', 'true (all capabilities and devices)');
    if (c.securityContext?.seccompProfile) {
      const sp = c.securityContext.seccompProfile;
      out.field(inner, 'Seccomp', sp.type === 'Localhost' ? `Localhost (${sp.localhostProfile})` : sp.type);
    }
    environment(out, inner, c);
    mounts(out, inner, c);
  }
}

/** The Volumes block, each source as kubectl words it. */
export function describeVolumes(out: DescribeText, level: number, volumes: PodSpec['volumes']): void {
  if (!volumes?.length) return void out.field(level, 'Volumes', undefined);
  out.line(level, 'Volumes:');
  const { name, inner: l } = nested(level);
  for (const v of volumes) {
    out.line(name.level, `${name.pad}${v.name}:`);
    if (v.hostPath) {
      out.field(l, 'Type', 'HostPath (bare host directory volume)');
      out.field(l, 'Path', v.hostPath.path);
      out.text(l, 'HostPathType', v.hostPath.type);
    } else if (v.emptyDir) {
      out.field(l, 'Type', 'EmptyDir (a temporary directory that shares a pod\'s lifetime)');
      out.text(l, 'Medium', v.emptyDir.medium);
      out.field(l, 'SizeLimit', v.emptyDir.sizeLimit ?? '<unset>');
    } else if (v.configMap) {
      out.field(l, 'Type', 'ConfigMap (a volume populated by a ConfigMap)');
      out.field(l, 'Name', v.configMap.name);
      out.field(l, 'Optional', v.configMap.optional ?? false);
    } else if (v.secret) {
      out.field(l, 'Type', 'Secret (a volume populated by a Secret)');
      out.field(l, 'SecretName', v.secret.secretName);
      out.field(l, 'Optional', v.secret.optional ?? false);
    } else if (v.persistentVolumeClaim) {
      // No PVC objects yet: the claim names a volume kept on the node (docs/volumes.md).
      out.field(l, 'Type', 'PersistentVolumeClaim (a volume kept on the node, by name)');
      out.field(l, 'ClaimName', v.persistentVolumeClaim.claimName);
      out.field(l, 'ReadOnly', v.persistentVolumeClaim.readOnly ?? false);
    }
  }
}

/** The "Pod Template:" block of a workload: its labels, annotations, containers, volumes, node selector. */
export function describePodTemplate(out: DescribeText, t: PodTemplateSpec): void {
  out.line(0, 'Pod Template:');
  out.labels(1, 'Labels', t.metadata?.labels);
  if (Object.keys(t.metadata?.annotations ?? {}).length) out.annotations(1, 'Annotations', t.metadata?.annotations);
  if (t.spec.initContainers?.length) describeContainers(out, 1, 'Init Containers', t.spec.initContainers);
  describeContainers(out, 1, 'Containers', t.spec.containers);
  describeVolumes(out, 1, t.spec.volumes);
  out.field(1, 'Node-Selectors', formatLabels(t.spec.nodeSelector));
}
