/**
 * apply's compose upgrade decision (src/cli/client/compose-upgrade.ts): a project whose workloads
 * an earlier Grove ran in `default` is translated into `default` again, with one line saying how
 * to move it; other projects go to their own namespaces; the server is asked only about projects
 * that would move.
 */
import { describe, expect, it } from 'vitest';
import { keepProjectsInDefault } from '../../src/cli/client/compose-upgrade.js';
import type { ApiResource, ListScope } from '../../src/cli/verbs/client/k8s/kube-client.js';
import { manifestsToObjects, type ManifestOptions } from '../../src/core/manifests/manifest-objects.js';
import type { AnyObject } from '../../src/core/objects/changes.js';

const file = (name: string) => ({ path: `/srv/${name}/compose.yaml`, dir: `/srv/${name}`, text: `name: ${name}\nservices:\n  db:\n    image: postgres:16\n    restart: always\n    expose: ["5432"]\n  web:\n    image: nginx:1.27\n    restart: always\n` });
const FILES = [file('shop'), file('blog')];
const translate = (options: ManifestOptions) => {
  const { objects, sources, problems } = manifestsToObjects(FILES, options);
  expect(problems).toEqual([]);
  return { objects, sources };
};

/** A server whose `default` namespace holds Deployments of the given projects; records what it was asked. */
function server(oldProjects: string[]) {
  const asked: string[] = [];
  return {
    asked,
    async list(kind: ApiResource, scope: ListScope): Promise<AnyObject[]> {
      asked.push(`${kind.plural} ${scope.namespace} ${scope.labelSelector}`);
      const project = scope.labelSelector?.split('=')[1] ?? '';
      return kind.kind === 'Deployment' && scope.namespace === 'default' && oldProjects.includes(project) ? [{ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'db' } } as AnyObject] : [];
    },
  };
}

const placed = (objects: AnyObject[]) => objects.map((o) => `${o.kind} ${(o.metadata as { namespace?: string }).namespace ?? '-'}/${o.metadata.name}`);

describe('apply keeps compose projects an earlier Grove ran in default', () => {
  it('translates such a project into default again and says how to move it; the others get their namespaces', async () => {
    const api = server(['shop']);
    const lines: string[] = [];
    const out = await keepProjectsInDefault(translate({}), translate, api, (l) => lines.push(l));
    expect(placed(out.objects)).toEqual([
      'Deployment default/db', 'Service default/db', 'Deployment default/web', 'Service default/web',
      'Namespace -/blog', 'Deployment blog/db', 'Service blog/db', 'Deployment blog/web', 'Service blog/web',
    ]);
    expect(out.sources.map((s) => s.file)).toEqual([...Array(4).fill('/srv/shop/compose.yaml'), ...Array(5).fill('/srv/blog/compose.yaml')]);
    expect(lines).toEqual([
      'compose project shop stays in namespace default, where it already runs (from before projects had namespaces of their own); to move it to namespace shop: grove delete -f /srv/shop/compose.yaml -n default, then grove apply -f /srv/shop/compose.yaml',
    ]);
    // Every old workload kind is looked at until one is found.
    expect(api.asked).toEqual([
      'deployments default com.docker.compose.project=shop',
      'deployments default com.docker.compose.project=blog', 'daemonsets default com.docker.compose.project=blog', 'jobs default com.docker.compose.project=blog',
    ]);
  });

  it('changes nothing and says nothing when no project runs in default', async () => {
    const lines: string[] = [];
    const first = translate({});
    const out = await keepProjectsInDefault(first, () => { throw new Error('not translated again'); }, server([]), (l) => lines.push(l));
    expect(out).toBe(first);
    expect(lines).toEqual([]);
    expect(placed(out.objects)[0]).toBe('Namespace -/shop');
  });

  it('asks nothing for a project that is in default anyway (name: default)', async () => {
    const api = server([]);
    const only = { path: '/srv/x/compose.yaml', dir: '/srv/x', text: 'name: default\nservices:\n  web:\n    image: nginx:1.27\n' };
    const { objects, sources } = manifestsToObjects([only]);
    await keepProjectsInDefault({ objects, sources }, translate, api, () => undefined);
    expect(api.asked).toEqual([]);
  });
});
