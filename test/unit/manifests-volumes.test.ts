/**
 * Volumes in manifests → objects: the PodSpec's volume rules as the client words them, and
 * compose's volumes, binds and tmpfs as pod volumes (ported from the 0.1 parser's tests).
 */
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The workloads (a compose file's Namespace and Services are compose-network.test.ts's). */
function parse(text: string, dir?: string): any[] {
  const r = manifestsToObjects([{ path: 'app.yaml', text, ...(dir ? { dir } : {}) }]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects.filter((o) => o.kind !== 'Service' && o.kind !== 'Namespace');
}
const problems = (text: string) => manifestsToObjects([{ path: 'app.yaml', text }]).problems.map((p) => p.text);

/** A Deployment whose pod spec ends with `podLines` and whose one container ends with `containerLines`. */
const deployment = (podLines: string, containerLines = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: main
          image: busybox
${containerLines}${podLines}`;

describe('Kubernetes volumes', () => {
  it.each([
    ['a mount of an unknown volume', '', '          volumeMounts: [{ name: nope, mountPath: /x }]\n', 'app.yaml:12 (document 1, Deployment "web"): spec.template.spec.containers[0].volumeMounts[0].name: no volume named "nope" in this pod\'s volumes'],
    ['two mounts at one path', '      volumes: [{ name: a, emptyDir: {} }, { name: b, emptyDir: {} }]\n', '          volumeMounts: [{ name: a, mountPath: /x }, { name: b, mountPath: /x/ }]\n', 'containers[0].volumeMounts[1].mountPath: "/x/" is the mount path of another mount of this container'],
    ['a relative mount path', '      volumes: [{ name: a, emptyDir: {} }]\n', '          volumeMounts: [{ name: a, mountPath: data }]\n', 'containers[0].volumeMounts[0].mountPath: "data" must be an absolute path'],
    ['a mount over /proc', '      volumes: [{ name: a, emptyDir: {} }]\n', '          volumeMounts: [{ name: a, mountPath: /proc }]\n', 'containers[0].volumeMounts[0].mountPath: "/proc" is managed by the runtime'],
    ['a subPath escaping', '      volumes: [{ name: a, emptyDir: {} }]\n', '          volumeMounts: [{ name: a, mountPath: /a, subPath: ../etc }]\n', 'volumeMounts[0].subPath: "../etc" must be a relative path inside the volume'],
    ['two volumes of one name', '      volumes: [{ name: a, emptyDir: {} }, { name: a, emptyDir: {} }]\n', '', 'spec.template.spec.volumes[1].name: "a" is used by another volume of this pod'],
    ['two sources', '      volumes: [{ name: a, emptyDir: {}, hostPath: { path: /x } }]\n', '', 'spec.template.spec.volumes[0]: has emptyDir and hostPath: only one of'],
    ['a relative hostPath', '      volumes: [{ name: a, hostPath: { path: x } }]\n', '', 'spec.template.spec.volumes[0].hostPath.path: "x" must be an absolute path'],
    ['a huge sizeLimit', '      volumes: [{ name: a, emptyDir: { sizeLimit: 2Ti } }]\n', '', 'spec.template.spec.volumes[0].emptyDir.sizeLimit: "2Ti" must be from 4Ki to 1Ti'],
    ['an item path with ..', '      volumes: [{ name: a, configMap: { name: c, items: [{ key: k, path: ../k }] } }]\n', '', 'volumes[0].configMap.items[0].path: "../k" must be a relative path inside the volume'],
    ['value and valueFrom', '', '          env: [{ name: A, value: x, valueFrom: { configMapKeyRef: { name: c, key: k } } }]\n', 'containers[0].env[0].value: "x" cannot be combined with valueFrom'],
    ['envFrom with both refs', '', '          envFrom: [{ configMapRef: { name: c }, secretRef: { name: s } }]\n', 'containers[0].envFrom[0]: has configMapRef and secretRef: only one of configMapRef, secretRef is allowed'],
  ])('rejects %s', (_what, podLines, containerLines, message) => {
    const lines = problems(deployment(podLines, containerLines));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });
});

const compose = (service: string, top = '') => `services:\n  web:\n    image: busybox\n    restart: always\n${service}${top}`;
const podSpec = (o: any) => o.spec.template.spec;

describe('compose volumes', () => {
  it('maps named volumes, binds, tmpfs and anonymous volumes', () => {
    const [d] = parse(
      compose(
        `    volumes:
      - data:/var/lib/data
      - /etc/ssl:/etc/ssl:ro
      - ./conf:/conf
      - /cache
      - { type: volume, source: data, target: /backup, read_only: true, volume: { subpath: old } }
      - { type: bind, source: /srv/www, target: /www }
      - { type: tmpfs, target: /run/app, tmpfs: { size: 16m } }
    tmpfs: /tmp
`,
        'volumes:\n  data:\n  other: { name: shared-data }\n',
      ),
      '/home/me/project',
    );
    expect(podSpec(d).volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'bind-1', hostPath: { path: '/etc/ssl', type: 'ComposeBind' } },
      { name: 'bind-2', hostPath: { path: '/home/me/project/conf', type: 'ComposeBind' } },
      { name: 'anon-3', emptyDir: {} },
      { name: 'bind-5', hostPath: { path: '/srv/www' } },
      { name: 'tmpfs-6', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'tmpfs-t0', emptyDir: { medium: 'Memory' } },
    ]);
    expect(podSpec(d).containers[0].volumeMounts).toEqual([
      { name: 'data', mountPath: '/var/lib/data' },
      { name: 'bind-1', mountPath: '/etc/ssl', readOnly: true },
      { name: 'bind-2', mountPath: '/conf' },
      { name: 'anon-3', mountPath: '/cache' },
      { name: 'data', mountPath: '/backup', readOnly: true, subPath: 'old' },
      { name: 'bind-5', mountPath: '/www' },
      { name: 'tmpfs-6', mountPath: '/run/app' },
      { name: 'tmpfs-t0', mountPath: '/tmp' },
    ]);
  });

  it('binds files, sockets and directories as docker does: ComposeBind for short syntax and create_host_path', () => {
    const [d] = parse(
      compose(`    volumes:
      - ./Caddyfile:/etc/caddy/Caddyfile
      - /etc/localtime:/etc/localtime:ro
      - /run/mosquitto/mosquitto.sock:/run/mosquitto.sock
      - { type: bind, source: ./site, target: /srv, bind: { create_host_path: true } }
`),
      '/home/me/project',
    );
    expect(podSpec(d).volumes).toEqual([
      { name: 'bind-0', hostPath: { path: '/home/me/project/Caddyfile', type: 'ComposeBind' } },
      { name: 'bind-1', hostPath: { path: '/etc/localtime', type: 'ComposeBind' } },
      { name: 'bind-2', hostPath: { path: '/run/mosquitto/mosquitto.sock', type: 'ComposeBind' } },
      { name: 'bind-3', hostPath: { path: '/home/me/project/site', type: 'ComposeBind' } },
    ]);
  });

  it('uses the top-level name: as the node volume name', () => {
    const [d] = parse(compose('    volumes: ["db:/db"]\n', 'volumes:\n  db: { name: pg-data }\n'));
    expect(podSpec(d).volumes).toEqual([{ name: 'pg-data', persistentVolumeClaim: { claimName: 'pg-data' } }]);
  });

  it.each([
    ['an undeclared named volume', '    volumes: ["data:/data"]\n', '', 'app.yaml:5 (document 1, service "web"): services.web.volumes[0]: volume "data" is not declared under the top-level volumes:'],
    ['a relative bind without a directory', '    volumes: ["./conf:/conf"]\n', '', 'services.web.volumes[0]: "./conf" is relative and the compose file\'s directory is unknown (stdin)'],
    ['a home-relative bind', '    volumes: ["~/conf:/conf"]\n', '', '"~" is not supported'],
    ['a relative target', '    volumes: ["/srv:srv"]\n', '', 'services.web.volumes[0]: container path "srv" must be an absolute path'],
    ['a bad mode', '    volumes: ["/srv:/srv:z"]\n', '', 'services.web.volumes[0]: "z" is not supported: only ro, rw (and the hints cached, delegated, consistent, nocopy) are'],
    ['two mounts at one path', '    volumes: ["/a:/x", "/b:/x"]\n', '', 'services.web: two volumes are mounted at "/x"'],
    ['a volume name that is no DNS label', '    volumes: ["Data_1:/d"]\n', 'volumes:\n  Data_1:\n', 'volume name "Data_1" must be a DNS label'],
    ['an unknown tmpfs option', '    tmpfs: ["/t:uid=1"]\n', '', 'services.web.tmpfs[0]: tmpfs option "uid" is not supported (only size is)'],
    ['a tmpfs mode', '    volumes: [{ type: tmpfs, target: /t, tmpfs: { mode: 0755 } }]\n', '', 'services.web.volumes[0].tmpfs.mode: not supported'],
    ['an npipe', '    volumes: [{ type: npipe, source: x, target: /x }]\n', '', 'services.web.volumes[0].type: "npipe" must be volume, bind or tmpfs'],
    // The PodSpec's own rules, said at the compose field they came from.
    ['a bind over /proc', '    volumes: ["/srv:/proc"]\n', '', 'services.web.volumes: "/proc" is managed by the runtime and cannot be a mount target (spec.template.spec.containers[0].volumeMounts[0].mountPath of Deployment "web")'],
  ])('rejects %s', (_what, service, top, message) => {
    expect(problems(compose(service, top)).join('\n')).toContain(message);
  });
});
