import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { formatBytes } from '../../../core/quantity.js';
import { collectionFor, openClient, singular } from '../../client/open-client.js';
import { OUTPUT_OPTION, printData } from '../../client/output.js';
import { ago, table } from '../../format.js';
import { writeLine } from '../../io.js';
import { onOff, option } from '../../config/option.js';
import { text } from '../../config/units.js';
import { argOptional, argText, type Act } from '../../verb.js';
import { batchKind, batchRows } from './get-jobs.js';
import { labelsText, nodeStatusText, podStatusText, type AppView, type ConfigMapView, type NodeView, type PodView, type SecretView } from './views.js';

type Row = string[];

function age(iso: string | undefined, now: Date): string {
  return iso ? ago(iso, now).replace(/ ago$/, '') : '';
}

function rows(collection: string, items: unknown[], wide: boolean, now: Date): { headers: string[]; rows: Row[] } {
  switch (collection) {
    case 'nodes': {
      const nodes = items as NodeView[];
      const headers = ['NAME', 'STATUS', 'AGE', 'VERSION', 'ARCH', 'PODS'];
      if (wide) headers.push('KERNEL', 'RUNTIME', 'CPUS', 'MEMORY', 'LABELS');
      return {
        headers,
        rows: nodes.map((n) => {
          const row = [n.name, nodeStatusText(n), age(n.joinedAt, now), n.facts?.agentVersion ?? '', n.facts?.arch ?? '', String(n.pods.length)];
          if (wide) row.push(n.facts?.kernel ?? '', n.facts?.ociRuntime ?? '', String(n.facts?.cpus ?? ''), n.facts ? formatBytes(n.facts.memoryBytes) : '', labelsText(n.labels));
          return row;
        }),
      };
    }
    case 'apps': {
      const apps = items as AppView[];
      const headers = ['NAME', 'KIND', 'READY', 'UP-TO-DATE', 'AGE'];
      if (wide) headers.push('IMAGES', 'SELECTOR');
      return {
        headers,
        rows: apps.map((a) => {
          const row = [a.meta.name, a.spec.kind, `${a.pods.ready}/${a.pods.desired}`, String(a.pods.upToDate), age(a.meta.createdAt, now)];
          if (wide) row.push(a.spec.template.containers.map((c) => c.image).join(','), labelsText(a.spec.template.nodeSelector));
          return row;
        }),
      };
    }
    case 'pods': {
      const pods = items as PodView[];
      const headers = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
      if (wide) headers.push('IP', 'NODE', 'APP', 'REVISION');
      return {
        headers,
        rows: pods.map((p) => {
          const ready = p.containers.filter((c) => c.ready).length;
          const row = [p.name, `${ready}/${Math.max(p.containers.length, 1)}`, podStatusText(p), String(p.restarts), age(p.createdAt, now)];
          if (wide) row.push(p.podIP ?? '<none>', p.node ?? '<none>', p.app, p.revision !== undefined ? String(p.revision) : '<none>');
          return row;
        }),
      };
    }
    case 'configmaps':
      return { headers: ['NAME', 'DATA', 'AGE'], rows: (items as ConfigMapView[]).map((c) => [c.meta.name, String(Object.keys(c.data).length), age(c.meta.createdAt, now)]) };
    default:
      return { headers: ['NAME', 'TYPE', 'DATA', 'AGE'], rows: (items as SecretView[]).map((s) => [s.meta.name, s.type ?? 'Opaque', String(Object.keys(s.data).length), age(s.meta.createdAt, now)]) };
  }
}

function nameOf(item: unknown): string {
  const i = item as { name?: string; meta?: { name: string } };
  return i.meta?.name ?? i.name ?? '';
}

export function registerGet(program: Command, act: Act): void {
  act(
    program
      .command('get')
      .description('list nodes, apps, pods, jobs, cronjobs, configmaps or secrets')
      .argument('<kind>', 'nodes | apps | pods | jobs | cronjobs | configmaps | secrets')
      .argument('[name]', 'one resource'),
    {
      output: OUTPUT_OPTION,
      app: option({ unit: text('app'), description: 'pods of this app' }),
      node: option({ unit: text('node'), description: 'pods on this node' }),
      showValues: onOff({ description: 'secrets: include the values' }),
    },
    async (ctx, [kindArg, nameArg], options) => {
      const kind = argText(kindArg, 'kind');
      const name = argOptional(nameArg, 'name');
      const batch = batchKind(kind);
      const collection = batch ? 'apps' : collectionFor(kind);
      if (!collection) throw new GroveError(ErrorCode.InvalidArgument, `get: unknown kind "${kind}" (nodes, apps, pods, jobs, cronjobs, configmaps, secrets)`);
      const format = options.output;
      const client = await openClient(ctx);
      if (batch) {
        // Jobs and CronJobs are apps of those kinds: one list, filtered here.
        let apps = (await client.get<AppView[]>('/v1/apps')).filter((a) => a.spec.kind === batch);
        if (name !== undefined) {
          apps = apps.filter((a) => a.meta.name === name);
          if (apps.length === 0) throw new GroveError(ErrorCode.NotFound, `${batch.toLowerCase()} "${name}" not found`);
        }
        if (format === 'json' || format === 'yaml') return printData(ctx.io, format, name !== undefined ? apps[0] : apps);
        if (format === 'name') {
          for (const a of apps) writeLine(ctx.io.stdout, `${batch.toLowerCase()}/${a.meta.name}`);
          return;
        }
        if (apps.length === 0) return writeLine(ctx.io.stderr, `No ${batch.toLowerCase()}s found.`);
        const t = batchRows(batch, apps, new Date());
        return writeLine(ctx.io.stdout, table(t.headers, t.rows));
      }
      const query = new URLSearchParams();
      if (collection === 'pods') {
        if (options.app) query.set('app', options.app);
        if (options.node) query.set('node', options.node);
      }
      if (collection === 'secrets' && options.showValues) query.set('showValues', 'true');
      const qs = query.size ? `?${query}` : '';
      let items: unknown[];
      if (name !== undefined && collection !== 'pods') {
        items = [await client.get(`/v1/${collection}/${encodeURIComponent(name)}${qs}`)];
      } else {
        items = await client.get<unknown[]>(`/v1/${collection}${qs}`);
        if (name !== undefined) {
          items = items.filter((i) => nameOf(i) === name);
          if (items.length === 0) throw new GroveError(ErrorCode.NotFound, `pod "${name}" not found`);
        }
      }
      if (format === 'json' || format === 'yaml') return printData(ctx.io, format, name !== undefined ? items[0] : items);
      if (format === 'name') {
        for (const item of items) writeLine(ctx.io.stdout, `${singular(collection)}/${nameOf(item)}`);
        return;
      }
      if (items.length === 0) {
        writeLine(ctx.io.stderr, `No ${collection} found.`);
        return;
      }
      const t = rows(collection, items, format === 'wide', new Date());
      writeLine(ctx.io.stdout, table(t.headers, t.rows));
    },
  );
}
