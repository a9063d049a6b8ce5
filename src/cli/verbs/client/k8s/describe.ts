/**
 * `grove describe` on the Kubernetes paths: `describe TYPE [NAME…]`, `describe TYPE/NAME…`, -n,
 * -l. Workloads, Pods and Nodes in kubectl's layout with what each needs from around it (a
 * Deployment its ReplicaSets and pods, a DaemonSet/ReplicaSet/Job the pods it selects, a CronJob
 * its Jobs, a Node the pods bound to it); ConfigMaps and Secrets by their keys and sizes (never
 * Secret values); other kinds (Namespace, ControllerRevision) by their metadata.
 */
import { describeService } from './describe-service.js';
import { SERVICE_NAME_LABEL } from '../../../../core/objects/service.js';
import type { Command } from 'commander';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { KINDS } from '../../../../core/objects/kinds.js';
import { selectorText, type SelectorObject } from '../../../../core/label-selector.js';

/** The label Kubernetes puts on a Job's pods (phase 2's naming rules). */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
import type { KindObject } from '../../../../core/objects/validate.js';
import { openClient } from '../../../client/open-client.js';
import { writeLine, type CliIO } from '../../../io.js';
import { argList, type Act } from '../../../verb.js';
import { describeDeployment } from './describe-deployment.js';
import { describeNode } from './describe-node.js';
import { describePod } from './describe-pod.js';
import { describeCronJob, describeDaemonSet, describeJob, describeReplicaSet } from './describe-workloads.js';
import { describeTime, DescribeText, type EventRows } from './describe-writer.js';
import { describeEventRows, eventsOf } from './events.js';
import { KubeClient } from './kube-client.js';
import { parseResourceArgs, type ResourceRequest } from './resource-args.js';
import { NAMESPACE_OPTION, namespaceOf, noResourcesLine, SELECTOR_OPTION } from './scope-options.js';

/** What little kubectl shows of any object: its metadata; ConfigMap and Secret keys with sizes. */
export function describeOther(o: AnyObject, events?: EventRows): string {
  const out = new DescribeText();
  out.field(0, 'Name', o.metadata.name);
  if (o.metadata.namespace !== undefined) out.field(0, 'Namespace', o.metadata.namespace);
  out.labels(0, 'Labels', o.metadata.labels);
  out.annotations(0, 'Annotations', o.metadata.annotations);
  out.field(0, 'CreationTimestamp', describeTime(o.metadata.creationTimestamp));
  if (o.kind === 'Secret') {
    out.field(0, 'Type', o.type ?? 'Opaque');
    out.line(0, 'Data');
    out.line(0, '====');
    // base64 in the object: the decoded size is what kubectl reports.
    for (const [k, v] of Object.entries(o.data ?? {})) out.field(0, k, `${Buffer.from(v, 'base64').length} bytes`);
  } else if (o.kind === 'ConfigMap') {
    out.line(0, 'Data');
    out.line(0, '====');
    for (const [k, v] of Object.entries(o.data ?? {})) out.field(0, k, `${Buffer.byteLength(v)} bytes`);
    if (o.binaryData && Object.keys(o.binaryData).length > 0) {
      out.line(0, 'BinaryData');
      out.line(0, '====');
      for (const [k, v] of Object.entries(o.binaryData)) out.field(0, k, `${Buffer.from(v, 'base64').length} bytes`);
    }
  }
  return out.events(events).toString();
}

/** The pods in `namespace` that `selector` selects (the server evaluates it). */
async function selectedPods(client: KubeClient, namespace: string | undefined, selector: SelectorObject): Promise<KindObject<'Pod'>[]> {
  const labelSelector = selectorText(selector);
  return (await client.list(KINDS.Pod, { ...(namespace !== undefined ? { namespace } : {}), labelSelector })) as KindObject<'Pod'>[];
}

/** Kinds whose describe kubectl ends without events: Secrets, Namespaces, ControllerRevisions. */
const WITHOUT_EVENTS = new Set(['Secret', 'Namespace', 'ControllerRevision']);

async function describeOne(client: KubeClient, o: AnyObject, now: Date): Promise<string> {
  const ns = o.metadata.namespace;
  const found = WITHOUT_EVENTS.has(o.kind) ? undefined : await eventsOf(client, o);
  const events = found && describeEventRows(found, now);
  switch (o.kind) {
    case 'Pod':
      return describePod(o, events);
    case 'Deployment': {
      const [replicaSets, pods] = await Promise.all([client.list(KINDS.ReplicaSet, { ...(ns !== undefined ? { namespace: ns } : {}) }), selectedPods(client, ns, o.spec.selector)]);
      return describeDeployment(o, replicaSets as KindObject<'ReplicaSet'>[], pods, events);
    }
    case 'ReplicaSet':
      return describeReplicaSet(o, await selectedPods(client, ns, o.spec.selector), events);
    case 'DaemonSet':
      return describeDaemonSet(o, await selectedPods(client, ns, o.spec.selector), events);
    case 'Job':
      // A Job's pods carry its name (batch.kubernetes.io/job-name) whether or not it has a selector.
      return describeJob(o, await selectedPods(client, ns, o.spec.selector ?? { matchLabels: { [JOB_NAME_LABEL]: o.metadata.name } }), events);
    case 'CronJob':
      return describeCronJob(o, (await client.list(KINDS.Job, { ...(ns !== undefined ? { namespace: ns } : {}) })) as KindObject<'Job'>[], events);
    case 'Node':
      return describeNode(o, (await client.list(KINDS.Pod)) as KindObject<'Pod'>[], now, events);
    case 'Service': {
      const slices = await client.list(KINDS.EndpointSlice, { ...(ns !== undefined ? { namespace: ns } : {}), labelSelector: `${SERVICE_NAME_LABEL}=${o.metadata.name}` });
      return describeService(o, slices as KindObject<'EndpointSlice'>[], events);
    }
    default:
      return describeOther(o, events);
  }
}

export interface DescribeRequest {
  resources: ResourceRequest[];
  namespace: string;
  labelSelector?: string | undefined;
}

export async function runDescribe(client: KubeClient, io: CliIO, request: DescribeRequest, now: Date): Promise<void> {
  const texts: string[] = [];
  for (const { kind, names } of request.resources) {
    const namespace = kind.namespaced ? request.namespace : undefined;
    const objects = names.length
      ? await Promise.all(names.map((name) => client.get(kind, namespace, name)))
      : await client.list(kind, { ...(namespace !== undefined ? { namespace } : {}), ...(request.labelSelector ? { labelSelector: request.labelSelector } : {}) });
    for (const o of objects) texts.push(await describeOne(client, o, now));
  }
  // Nothing selected is not an error to kubectl either: it says so on stderr.
  if (texts.length === 0) return writeLine(io.stderr, noResourcesLine(request.resources, request.namespace, false));
  writeLine(io.stdout, texts.join('\n\n\n'));
}

export function registerKubeDescribe(program: Command, act: Act): void {
  act(
    program
      .command('describe')
      .description('show objects in detail: deployments, pods and nodes in kubectl\'s layout (secrets: keys and sizes only)')
      .argument('<resources...>', 'TYPE [NAME…] or TYPE/NAME…'),
    { namespace: NAMESPACE_OPTION, selector: SELECTOR_OPTION },
    async (ctx, [args], options) => {
      const request: DescribeRequest = { resources: parseResourceArgs(argList(args, 'resources'), 'describe'), namespace: namespaceOf(options.namespace), labelSelector: options.selector };
      await runDescribe(new KubeClient(await openClient(ctx)), ctx.io, request, new Date());
    },
  );
}
