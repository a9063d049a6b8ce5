import { afterEach, describe, expect, it } from 'vitest';
import { describeOther, runDescribe } from '../../src/cli/verbs/client/k8s/describe.js';
import { deploymentReplicaSets, describeDeployment } from '../../src/cli/verbs/client/k8s/describe-deployment.js';
import { describeNode } from '../../src/cli/verbs/client/k8s/describe-node.js';
import { describePod, qosClass } from '../../src/cli/verbs/client/k8s/describe-pod.js';
import { describeTime, tabulate } from '../../src/cli/verbs/client/k8s/describe-writer.js';
import { parseResourceArgs } from '../../src/cli/verbs/client/k8s/resource-args.js';
import { POD_TEMPLATE_HASH_LABEL } from '../../src/core/objects/annotations.js';
import { capture, fakeKubeApi, kubeList, type FakeApi } from './cli-k8s-fake-api.js';
import { ago, deployment, node, NOW, pod, running, stored } from './cli-k8s-fixtures.js';

describe('describe text', () => {
  it('aligns a column over consecutive lines that have it, as Go\'s tabwriter', () => {
    expect(tabulate([['Name:', 'web'], ['Namespace:', 'default'], ['Containers:'], ['  web:'], ['    Image:', 'nginx'], ['    Restart Count:', '0']])).toBe(
      ['Name:       web', 'Namespace:  default', 'Containers:', '  web:', '    Image:          nginx', '    Restart Count:  0'].join('\n'),
    );
    expect(tabulate([['  Type', 'Status', 'Reason'], ['  Available', 'True', 'MinimumReplicasAvailable']])).toBe('  Type       Status  Reason\n  Available  True    MinimumReplicasAvailable');
  });

  it('writes times as kubectl (RFC 1123, numeric zone)', () => {
    expect(describeTime('2026-03-01T11:50:00Z')).toBe('Sun, 01 Mar 2026 11:50:00 +0000');
    expect(describeTime(undefined)).toBe('<unset>');
  });
});

const owned = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f6c8d', uid: 'uid-rs', controller: true, blockOwnerDeletion: true }] };
const webPod = pod(
  'web-5f6c8d-x2k4b',
  {
    phase: 'Running',
    hostIP: '192.168.1.21',
    podIP: '10.42.0.7',
    startTime: ago(600),
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ ...running('web', 2), containerID: 'crun://4f1c', lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: ago(900), finishedAt: ago(400) } } }],
  },
  {
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80, hostPort: 8080 }],
          resources: { limits: { memory: '64Mi' } },
          env: [{ name: 'MODE', value: 'fast' }, { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
          livenessProbe: { httpGet: { port: 80, path: '/healthz' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', hostPath: { path: '/srv/data', type: 'DirectoryOrCreate' } }],
    },
    metadata: { ...owned, annotations: { 'grove.io/devices': '/dev/ttyUSB0' } },
  },
);

describe('describe pod', () => {
  it('is kubectl\'s layout, with the Grove block for grove.io settings', () => {
    expect(describePod(webPod)).toBe(
      [
        'Name:         web-5f6c8d-x2k4b',
        'Namespace:    default',
        'Node:         pi-1/192.168.1.21',
        'Start Time:   Sun, 01 Mar 2026 11:50:00 +0000',
        'Labels:       app=web',
        'Annotations:  grove.io/devices: /dev/ttyUSB0',
        'Status:       Running',
        'IP:           10.42.0.7',
        'IPs:',
        '  IP:           10.42.0.7',
        'Controlled By:  ReplicaSet/web-5f6c8d',
        'Containers:',
        '  web:',
        '    Container ID:   crun://4f1c',
        '    Image:          nginx:1.27',
        '    Image ID:',
        '    Port:           80/TCP',
        '    Host Port:      8080/TCP',
        '    State:          Running',
        '      Started:      Sun, 01 Mar 2026 11:55:00 +0000',
        '    Last State:     Terminated',
        '      Reason:       OOMKilled',
        '      Exit Code:    137',
        '      Started:      Sun, 01 Mar 2026 11:45:00 +0000',
        '      Finished:     Sun, 01 Mar 2026 11:53:20 +0000',
        '    Ready:          True',
        '    Restart Count:  2',
        '    Limits:',
        '      memory:  64Mi',
        '    Liveness:  http-get http://:80/healthz delay=0s timeout=1s period=10s #success=1 #failure=3',
        '    Environment:',
        '      MODE:      fast',
        "      PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false",
        '    Mounts:',
        '      /data from data (rw)',
        'Conditions:',
        '  Type   Status',
        '  Ready  True',
        'Volumes:',
        '  data:',
        '    Type:          HostPath (bare host directory volume)',
        '    Path:          /srv/data',
        '    HostPathType:  DirectoryOrCreate',
        'QoS Class:         Burstable',
        'Node-Selectors:    <none>',
        'Grove:',
        '  Devices:  /dev/ttyUSB0:rwm',
      ].join('\n'),
    );
  });

  it('a pod waiting for a node says why, and Terminating once deleted', () => {
    const pending = pod('web-2', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' }] }, { spec: { nodeName: undefined } });
    const text = describePod(pending);
    expect(text).toContain('Node:         <none>');
    expect(text).toContain('  FailedScheduling:  0/3 nodes are available: 3 Insufficient memory.');
    expect(text).toContain('    State:          Waiting');
    expect(describePod(pod('web-3', { phase: 'Running' }, { metadata: { deletionTimestamp: ago(2) } }))).toContain('Status:       Terminating (lasts 30s)');
  });

  it('QoS class as Kubernetes derives it', () => {
    const withResources = (resources: Record<string, unknown>) => pod('p', {}, { spec: { containers: [{ name: 'c', image: 'nginx:1.27', resources }] } });
    expect(qosClass(pod('p'))).toBe('BestEffort');
    expect(qosClass(withResources({ limits: { memory: '64Mi', cpu: '500m' } }))).toBe('Guaranteed');
    expect(qosClass(withResources({ limits: { memory: '64Mi' } }))).toBe('Burstable');
  });
});

function replicaSet(name: string, template: ReturnType<typeof deployment>['spec']['template'], replicas: number, ownerUid = 'uid-web') {
  const hash = name.slice(name.lastIndexOf('-') + 1);
  const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  return stored('ReplicaSet', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: ownerUid, controller: true, blockOwnerDeletion: true }] },
    spec: { replicas, selector: { matchLabels: labels }, template: { ...template, metadata: { ...template.metadata, labels } } },
    status: { replicas },
  });
}

describe('describe deployment', () => {
  const web = deployment('web', 3, { replicas: 4, updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] });
  const older = structuredClone(web.spec.template);
  older.spec.containers[0]!.image = 'nginx:1.26';
  const current = replicaSet('web-5f6c8d', web.spec.template, 2);
  const previous = replicaSet('web-7b8c9d', older, 2);
  const ancient = replicaSet('web-1a2b3c', older, 0);
  const stranger = replicaSet('web-9z9z9z', web.spec.template, 1, 'uid-other');

  it('finds its ReplicaSets by owner, the current one by template (not by hash label)', () => {
    const found = deploymentReplicaSets(web, [previous, stranger, current, ancient]);
    expect(found.current?.metadata.name).toBe('web-5f6c8d');
    expect(found.old.map((rs) => rs.metadata.name)).toEqual(['web-7b8c9d']);
    // One migrated from 0.1 (its hash, 0.1's spelling of the image) is current too.
    const migrated = structuredClone(web.spec.template);
    migrated.spec.containers[0]!.image = 'docker.io/library/nginx:1.27';
    expect(deploymentReplicaSets(web, [previous, replicaSet('web-0a1b2c3d4e5f6a7b', migrated, 2)]).current?.metadata.name).toBe('web-0a1b2c3d4e5f6a7b');
  });

  it('is kubectl\'s layout with the Grove block', () => {
    const pending = pod('web-5f6c8d-q2', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient memory.' }] }, { spec: { nodeName: undefined } });
    const text = describeDeployment(web, [previous, current], [pending, structuredClone(pending)]);
    expect(text.split('\n').slice(5, 10)).toEqual([
      'Selector:               app=web,tier=front',
      'Replicas:               3 desired | 2 updated | 4 total | 3 available | 1 unavailable',
      'StrategyType:           RollingUpdate',
      'MinReadySeconds:        0',
      'RollingUpdateStrategy:  25% max unavailable, 25% max surge',
    ]);
    // A template's containers as kubectl indents them: names at 3 spaces, fields at 4.
    expect(text).toContain(['Pod Template:', '  Labels:  app=web', '           tier=front', '  Containers:', '   web:', '    Image:        nginx:1.27', '    Port:         <none>'].join('\n'));
    // The table's first column runs on into OldReplicaSets/NewReplicaSet: kubectl's output has the same width.
    expect(text).toContain(
      [
        'Conditions:',
        '  Type           Status  Reason',
        '  ----           ------  ------',
        '  Available      True    MinimumReplicasAvailable',
        '  Progressing    True    ReplicaSetUpdated',
        'OldReplicaSets:  web-7b8c9d (2/2 replicas created)',
        'NewReplicaSet:   web-5f6c8d (2/2 replicas created)',
      ].join('\n'),
    );
    expect(text.split('\n').slice(-3)).toEqual(['Grove:', '  Auto Rollback:     on (progress deadline 600s)', '  FailedScheduling:  0/2 nodes are available: 2 Insufficient memory. (2 pods Pending)']);
  });
});

describe('describe node', () => {
  it('shows conditions, addresses, capacity, system info and the pods bound to it', () => {
    const done = pod('job-1', { phase: 'Succeeded' });
    const elsewhere = pod('web-9', { phase: 'Running' }, { spec: { nodeName: 'pi-2' } });
    const text = describeNode(node('pi-1', { ready: 'True', unschedulable: true }), [webPod, done, elsewhere], NOW);
    expect(text).toContain('Unschedulable:      true');
    expect(text).toContain('  Ready  True    Sun, 01 Mar 2026 11:59:55 +0000  Sun, 01 Mar 2026 11:00:00 +0000  AgentReady');
    expect(text).toContain('  InternalIP:  192.168.1.21');
    expect(text).toContain('  Kubelet Version:            v0.2.0');
    // Only the pod bound here and not finished; the table's first column aligns with the line above it, as kubectl's does.
    expect(text.split('\n').slice(-4)).toEqual([
      'Non-terminated Pods:          (1 in total)',
      '  Namespace                   Name              CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age',
      '  ---------                   ----              ------------  ----------  ---------------  -------------  ---',
      '  default                     web-5f6c8d-x2k4b  0             0           64MiB            64MiB          10m',
    ]);
  });
});

describe('describe other kinds', () => {
  it('a Secret by its keys and decoded sizes, never its values', () => {
    const secret = stored('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: 'aHVudGVyMg==' } });
    const text = describeOther(secret);
    expect(text).toContain('Type:               Opaque');
    expect(text).toContain('Data\n====\npassword:  7 bytes');
    expect(text).not.toContain('aHVudGVyMg');
  });
});

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const EVENTS_OF_WEB = '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.kind%3DDeployment%2CinvolvedObject.uid%3Duid-web';

describe('runDescribe', () => {
  it('fetches what a Deployment needs around it and describes it', async () => {
    const web = deployment('web', 1, {});
    api = await fakeKubeApi({
      'GET /apis/apps/v1/namespaces/default/deployments/web': [200, web],
      'GET /apis/apps/v1/namespaces/default/replicasets': [200, kubeList('ReplicaSet', [replicaSet('web-5f6c8d', web.spec.template, 1)])],
      'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb%2Ctier%3Dfront': [200, kubeList('Pod', [])],
      [`GET ${EVENTS_OF_WEB}`]: [
        200,
        kubeList('Event', [
          { metadata: { name: 'web.2', namespace: 'default' }, involvedObject: { kind: 'Deployment', name: 'web', namespace: 'default', uid: 'uid-web' }, type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-5f6c8d to 1 ', source: { component: 'deployment-controller' }, count: 3, firstTimestamp: ago(600), lastTimestamp: ago(65) },
          { metadata: { name: 'web.1', namespace: 'default' }, involvedObject: { kind: 'Deployment', name: 'web', namespace: 'default', uid: 'uid-web' }, type: 'Normal', reason: 'Created', message: 'first', source: { component: 'deployment-controller' }, firstTimestamp: ago(700), lastTimestamp: ago(700) },
          // Another object's, which a server ignoring the selector would have sent.
          { metadata: { name: 'db.1', namespace: 'default' }, involvedObject: { kind: 'Deployment', name: 'db', namespace: 'default' }, type: 'Warning', reason: 'Other', message: 'not ours' },
        ]),
      ],
    });
    const c = capture();
    await runDescribe(api.client, c.io, { resources: parseResourceArgs(['deploy/web'], 'describe'), namespace: 'default' }, NOW);
    expect(c.out()).toMatch(/NewReplicaSet: +web-5f6c8d \(1\/1 replicas created\)/);
    // Its pods by its selector, evaluated by the server; its events by kubectl's field selector.
    expect(api.seen.map((s) => s.url).sort()).toEqual([EVENTS_OF_WEB, '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb%2Ctier%3Dfront', '/apis/apps/v1/namespaces/default/deployments/web', '/apis/apps/v1/namespaces/default/replicasets']);
    // kubectl's Events section, oldest first, repeats counted.
    expect(c.out().trimEnd().split('\n').slice(-5)).toEqual([
      'Events:',
      '  Type    Reason             Age                From                   Message',
      '  ----    ------             ----               ----                   -------',
      '  Normal  Created            11m                deployment-controller  first',
      '  Normal  ScalingReplicaSet  65s (x3 over 10m)  deployment-controller  Scaled up replica set web-5f6c8d to 1',
    ]);
  });

  it('nothing selected: says so on stderr, as kubectl, and is not an error', async () => {
    api = await fakeKubeApi({ 'GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dnone': [200, kubeList('Pod', [])] });
    const c = capture();
    await runDescribe(api.client, c.io, { resources: parseResourceArgs(['pods'], 'describe'), namespace: 'shop', labelSelector: 'app=none' }, NOW);
    expect([c.out(), c.err()]).toEqual(['', 'No resources found in shop namespace.\n']);
  });
});
