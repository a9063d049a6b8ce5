/**
 * The Kubernetes corpus (test/fixtures/k8s-corpus: home automation, media, monitoring,
 * databases, IoT gateways, backups, in the shapes home-lab and example repositories write)
 * is read as `grove apply -f` reads it (manifestsToObjects, the path of loadObjects) and gives
 * exactly the objects below without a problem. refused/ holds realistic documents Grove does
 * not take yet: each one's refusal line is asserted, so the gaps stay written down.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { readYamlDocuments } from '../../src/core/manifests/parse.js';

const DIR = fileURLToPath(new URL('../fixtures/k8s-corpus/', import.meta.url)).replace(/\/$/, '');
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const text = (name: string) => readFileSync(`${DIR}/${name}`, 'utf8');
const read = (name: string) => manifestsToObjects([{ path: name, text: text(name), dir: DIR }]);
const documents = (name: string) => readYamlDocuments(text(name), name).documents.filter((d) => d.value != null).length;
/* eslint-disable @typescript-eslint/no-explicit-any */
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

/** Per file: its objects as `Kind/name`, in file order (a List's items in its place). */
const ACCEPTED: Record<string, string[]> = {
  'backup-cronjobs.yaml': ['CronJob/postgres-backup', 'CronJob/prune-backups'],
  'db-postgres.yaml': ['Namespace/databases', 'Secret/postgres-credentials', 'Service/postgres', 'StatefulSet/postgres'],
  'db-redis.yaml': ['ConfigMap/redis-config', 'Deployment/redis', 'PersistentVolumeClaim/redis-data', 'Service/redis'],
  'dump-deployment.yaml': ['Deployment/whoami'],
  'dump-get-o-yaml.yaml': ['ConfigMap/shop-env', 'Service/whoami'],
  'home-assistant.yaml': ['Namespace/home', 'Service/home-assistant', 'StatefulSet/home-assistant'],
  'iot-gateway.yaml': ['Namespace/iot', 'DaemonSet/sensor-gateway'],
  'jellyfin.yaml': ['Namespace/media', 'PersistentVolumeClaim/jellyfin-config', 'Deployment/jellyfin', 'Service/jellyfin'],
  'jobs.yaml': ['Job/db-migrate', 'Job/firmware-index'],
  'list-configs.yaml': ['ConfigMap/shop-settings', 'ConfigMap/shop-nginx', 'Service/shop-legacy'],
  'monitoring-grafana.yaml': ['Secret/grafana-admin', 'ConfigMap/grafana-datasources', 'Deployment/grafana', 'Service/grafana', 'Secret/grafana-tls', 'Ingress/grafana'],
  'monitoring-node-exporter.yaml': ['Namespace/monitoring', 'DaemonSet/node-exporter'],
  'monitoring-prometheus.yaml': ['ServiceAccount/prometheus', 'ConfigMap/prometheus-config', 'Service/prometheus', 'StatefulSet/prometheus'],
  'mosquitto.yaml': ['ConfigMap/mosquitto-config', 'Secret/mosquitto-passwd', 'Deployment/mosquitto', 'PersistentVolumeClaim/mosquitto-data', 'Service/mosquitto'],
  'pihole.yaml': ['Deployment/pihole', 'Secret/pihole-web'],
  'services-external.yaml': ['Service/nas', 'Service/router-dns', 'Pod/netshoot'],
  'storage.yaml': ['StorageClass/nas-retain', 'PersistentVolume/nas-photos', 'PersistentVolumeClaim/photos'],
  'uptime-kuma.yaml': ['Deployment/uptime-kuma'],
  'web-spread.yaml': ['Namespace/web', 'ServiceAccount/shop-api', 'Deployment/shop-api', 'Service/shop-api', 'Ingress/shop', 'Secret/shop-tls'],
  'zigbee2mqtt.yaml': ['Deployment/zigbee2mqtt', 'Secret/zigbee2mqtt-mqtt', 'Service/zigbee2mqtt'],
};

const NOT_YET = (kind: string) =>
  `kind ${kind} is not supported yet (supported: Namespace, ConfigMap, Secret, Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, EndpointSlice, Ingress, IngressClass, PersistentVolumeClaim, PersistentVolume, StorageClass, ServiceAccount)`;

/** Per refused file: every line `grove apply -f` prints for it. */
const REFUSED: Record<string, string[]> = {
  'refused/debug-pod-tty.yaml': [
    'refused/debug-pod-tty.yaml:14 (document 1, Pod "debug"): spec.containers[0].stdin: not supported yet',
    'refused/debug-pod-tty.yaml:15 (document 1, Pod "debug"): spec.containers[0].stdinOnce: not supported yet',
    'refused/debug-pod-tty.yaml:16 (document 1, Pod "debug"): spec.containers[0].tty: not supported yet',
  ],
  'refused/gpu-transcode.yaml': [
    'refused/gpu-transcode.yaml:22 (document 1, Deployment "jellyfin-qsv"): spec.template.spec.containers[0].resources.requests["gpu.intel.com/i915"]: not supported yet: Grove limits memory, cpu and grove.io/pids only',
    'refused/gpu-transcode.yaml:24 (document 1, Deployment "jellyfin-qsv"): spec.template.spec.containers[0].resources.limits["gpu.intel.com/i915"]: not supported yet: Grove limits memory, cpu and grove.io/pids only',
  ],
  'refused/hpa.yaml': [`refused/hpa.yaml:2 (document 1, HorizontalPodAutoscaler "shop-api"): ${NOT_YET('HorizontalPodAutoscaler')}`],
  'refused/image-pull-secrets.yaml': [
    'refused/image-pull-secrets.yaml:25 (document 2, Deployment "private-telemetry"): spec.template.spec.imagePullSecrets: not supported yet: give the node its registry credentials in <data-dir>/registries.json (docs/images.md)',
  ],
  'refused/min-ready-seconds.yaml': ['refused/min-ready-seconds.yaml:8 (document 1, Deployment "frontend"): spec.minReadySeconds: not supported yet'],
  'refused/node-exporter-mount-propagation.yaml': [
    'refused/node-exporter-mount-propagation.yaml:24 (document 1, DaemonSet "node-exporter-rootfs"): spec.template.spec.containers[0].volumeMounts[0].mountPropagation: not supported yet',
  ],
  'refused/pod-disruption-budget.yaml': [`refused/pod-disruption-budget.yaml:2 (document 1, PodDisruptionBudget "shop-api"): ${NOT_YET('PodDisruptionBudget')}`],
  'refused/rbac.yaml': [
    `refused/rbac.yaml:2 (document 1, ClusterRole "prometheus"): ${NOT_YET('ClusterRole')}`,
    `refused/rbac.yaml:11 (document 2, ClusterRoleBinding "prometheus"): ${NOT_YET('ClusterRoleBinding')}`,
  ],
};

describe('Kubernetes corpus', () => {
  it('lists every file of the corpus, and holds at least 40 accepted documents', () => {
    expect(yamlFiles(DIR)).toEqual(Object.keys(ACCEPTED));
    expect(yamlFiles(`${DIR}/refused`).map((f) => `refused/${f}`)).toEqual(Object.keys(REFUSED));
    const accepted = Object.keys(ACCEPTED).reduce((n, f) => n + documents(f), 0);
    const refused = Object.keys(REFUSED).reduce((n, f) => n + documents(f), 0);
    expect([accepted, refused]).toEqual([59, 10]);
    expect(accepted).toBeGreaterThanOrEqual(40);
  });

  it.each(Object.entries(ACCEPTED))('%s gives its objects without a problem', (name, objects) => {
    const r = read(name);
    expect(r.problems.map((p) => p.text)).toEqual([]);
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(objects);
  });

  it.each(Object.entries(REFUSED))('%s is refused, one line per field', (name, lines) => {
    const r = read(name);
    expect(r.objects).toEqual([]);
    expect(r.problems.map((p) => p.text)).toEqual(lines);
  });

  it('keeps what the files mean', () => {
    const z2m = read('zigbee2mqtt.yaml').objects;
    expect(find(z2m, 'Deployment', 'zigbee2mqtt').spec.template.metadata.annotations['grove.io/devices']).toBe('/dev/ttyUSB0:/dev/ttyACM0:rw');
    const mosquitto = read('mosquitto.yaml').objects;
    expect(Buffer.from(find(mosquitto, 'Secret', 'mosquitto-passwd').data.passwd, 'base64').toString()).toMatch(/^zigbee2mqtt:/);
    const gateway = find(read('iot-gateway.yaml').objects, 'DaemonSet', 'sensor-gateway').spec.template.spec;
    expect(gateway.containers[0].env[0]).toEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(gateway.containers[0].env[3].value).toBe('gateway-$(NODE_NAME)');
    expect(gateway.volumes[0].downwardAPI.items.map((i: any) => i.path)).toEqual(['labels', 'name']);
    const redis = find(read('db-redis.yaml').objects, 'Deployment', 'redis').spec.template.spec;
    expect(redis.initContainers[0].restartPolicy).toBe('Always');
    const cron = read('backup-cronjobs.yaml').objects;
    expect(find(cron, 'CronJob', 'postgres-backup').spec).toMatchObject({ startingDeadlineSeconds: 600, concurrencyPolicy: 'Forbid', timeZone: 'Europe/Berlin' });
    expect(find(cron, 'CronJob', 'prune-backups').spec.schedule).toBe('0 0 * * 0');
    const web = find(read('web-spread.yaml').objects, 'Deployment', 'shop-api').spec.template.spec;
    expect(web.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(web.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(web.containers[0].livenessProbe.grpc).toEqual({ port: 9000, service: 'liveness' });
  });

  it('applies a get -o yaml dump with one warning naming the server-set fields', () => {
    expect(read('dump-get-o-yaml.yaml').warnings).toEqual([
      'dump-get-o-yaml.yaml: fields set by the server are ignored: metadata.uid, metadata.resourceVersion, metadata.creationTimestamp, metadata.managedFields, status',
    ]);
  });
});
