/**
 * A docker-compose file → one App per service (a Deployment, or a DaemonSet for
 * `deploy.mode: global`). Compose semantics are kept where they differ from Kubernetes: the
 * default restart is "no", mem_limit "32m" means 32 MiB, `$` is interpolated.
 */
import { formatImageRef, parseImageRef } from '../image-ref.js';
import type { App, ContainerTemplate } from '../model.js';
import { checkGroup, parseDeviceSpec } from '../device-spec.js';
import { parseGoDurationSeconds } from './compose-text.js';
import { atField, manifestError, quote, type DocContext, type FieldPath, type LocatedResource, type ManifestDocument } from './location.js';
import type { ManifestValidator } from './validate.js';
import { serviceVolumes, type ComposeTopVolumes } from './compose-volumes.js';
import {
  checkServiceName,
  environment,
  interpolateAll,
  isObject,
  labelMap,
  MAX_GRACE_SECONDS,
  nodeSelector,
  PULL,
  readUpdateConfig,
  resources,
  RESTART,
  text,
  words,
  type Service,
} from './compose-service.js';

/** What a service needs of the file around it: top-level volumes, the file's directory. */
interface ComposeFiles {
  volumes?: ComposeTopVolumes;
  dir?: string;
}
import { dependsOn, healthcheckProbes } from './compose-order.js';
import { dependencyCycle } from '../wire-init.js';
import { composePorts } from './manifest-ports.js';
import { composeSeccomp } from './compose-security.js';

function serviceApp(ctx: DocContext, doc: ManifestDocument, name: string, s: Service, services: ReadonlyMap<string, Service>, files: ComposeFiles = {}): App {
  const base = ['services', name];
  const image = atField(ctx, [...base, 'image'], () => formatImageRef(parseImageRef(s.image)));
  const c: ContainerTemplate = { name, image, env: environment(ctx, [...base, 'environment'], s.environment), resources: resources(ctx, base, s) };
  // Compose entrypoint/command are the image ENTRYPOINT/CMD, which Kubernetes calls command/args.
  if (s.entrypoint !== undefined) c.command = words(ctx, [...base, 'entrypoint'], s.entrypoint);
  if (s.command !== undefined) c.args = words(ctx, [...base, 'command'], s.command);
  if (s.working_dir !== undefined) c.workingDir = s.working_dir;
  if (s.pull_policy !== undefined) c.imagePullPolicy = PULL[s.pull_policy];
  if (s.privileged === true) c.privileged = true;
  const seccomp = composeSeccomp(ctx, [...base, 'security_opt'], s.security_opt);
  if (seccomp) c.seccompProfile = seccomp;
  const probes = healthcheckProbes(ctx, base, s.healthcheck, RESTART[s.restart ?? 'no']);
  if (probes) c.probes = probes;
  if (s.ports?.length) c.ports = composePorts(ctx, [...base, 'ports'], s.ports);
  const labels = labelMap(ctx, [...base, 'labels'], s.labels);
  const deploy = s.deploy ?? {};
  const global = deploy.mode === 'global';
  if (global && deploy.replicas !== undefined) {
    throw manifestError(ctx, [...base, 'deploy', 'replicas'], 'cannot be combined with mode: global (one container per node)');
  }
  const app: App = {
    kind: 'App',
    meta: { name, labels, annotations: {}, source: { format: 'compose', file: doc.file, document: doc.index } },
    spec: {
      kind: global ? 'DaemonSet' : 'Deployment',
      template: {
        labels: { ...labels },
        annotations: {},
        nodeSelector: nodeSelector(ctx, [...base, 'deploy', 'placement', 'constraints'], deploy.placement?.constraints ?? []),
        restartPolicy: RESTART[s.restart ?? 'no'],
        hostNetwork: s.network_mode === 'host',
        containers: [c],
      },
    },
  };
  if (!global) app.spec.replicas = deploy.replicas ?? 1;
  const deps = dependsOn(ctx, base, s.depends_on, services);
  if (deps) app.spec.template.dependsOn = deps;
  if (deploy.update_config) Object.assign(app.spec, updateSettings(readUpdateConfig(ctx, [...base, 'deploy', 'update_config'], deploy.update_config)));
  if (s.devices?.length) app.spec.template.devices = s.devices.map((d, i) => atField(ctx, [...base, 'devices', i], (f) => parseDeviceSpec(d, f)));
  if (s.group_add?.length) app.spec.template.supplementalGroups = s.group_add.map((g, i) => atField(ctx, [...base, 'group_add', i], (f) => checkGroup(String(g), f)));
  const volumes = serviceVolumes(ctx, base, s, files.volumes, files.dir);
  if (volumes) {
    app.spec.template.volumes = volumes.volumes;
    c.volumeMounts = volumes.mounts;
  }
  if (s.stop_grace_period !== undefined) {
    const path = [...base, 'stop_grace_period'];
    const seconds = text(ctx, path, () => parseGoDurationSeconds(s.stop_grace_period!));
    if (seconds > MAX_GRACE_SECONDS) throw manifestError(ctx, path, `${quote(s.stop_grace_period)} must be at most 1h`);
    app.spec.template.terminationGracePeriodSeconds = seconds;
  }
  return app;
}

/** update_config as the App model keeps it. */
function updateSettings(u: ReturnType<typeof readUpdateConfig>): Partial<App['spec']> {
  const out: Partial<App['spec']> = {
    strategy: u.startFirst ? { type: 'RollingUpdate', maxSurge: u.step, maxUnavailable: 0 } : { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: u.step },
  };
  if (u.autoRollback !== undefined) out.autoRollback = u.autoRollback;
  if (u.progressDeadlineSeconds !== undefined) out.progressDeadlineSeconds = u.progressDeadlineSeconds;
  return out;
}

/** The Apps of one compose document. */
export function composeResources(doc: ManifestDocument, raw: Record<string, unknown>, validator: ManifestValidator, dir?: string): LocatedResource<App>[] {
  const fileCtx: DocContext = { doc, label: 'compose file' };
  const serviceCtx = (name: string): DocContext => ({ doc, label: `service ${quote(name)}` });
  if (isObject(raw.services)) for (const name of Object.keys(raw.services)) checkServiceName(serviceCtx(name), name);
  const ctxFor = (path: FieldPath) => (path[0] === 'services' && path.length > 1 ? serviceCtx(String(path[1])) : fileCtx);
  const value = interpolateAll(ctxFor, raw, []) as Record<string, unknown>;
  // Services first, each under its own name in messages; then the file around them.
  if (isObject(value.services)) {
    for (const [name, s] of Object.entries(value.services)) validator.check('ComposeService', s, serviceCtx(name), ['services', name]);
  }
  validator.check('ComposeFile', value, fileCtx);
  const services = new Map(Object.entries(value.services as Record<string, Service>));
  const out = [...services].map(([name, s]) => {
    const ctx = serviceCtx(name);
    const files: ComposeFiles = { volumes: value.volumes as ComposeTopVolumes, ...(dir !== undefined ? { dir } : {}) };
    return { resource: serviceApp(ctx, doc, name, s, services, files), ctx, namePath: ['services', name], nameIsKey: true };
  });
  const cycle = dependencyCycle(new Map(out.map((r) => [r.resource.meta.name, (r.resource.spec.template.dependsOn ?? []).map((d) => d.app)])));
  if (cycle) throw manifestError(serviceCtx(cycle[0]!), ['services', cycle[0]!, 'depends_on'], `forms a cycle: ${cycle.join(' → ')}`);
  return out;
}
