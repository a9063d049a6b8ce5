import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import { many } from '../../config/option.js';
import { list } from '../../config/units.js';
import type { Act } from '../../verb.js';

interface ApplyResponse {
  results: { kind: string; name: string; action: 'created' | 'configured' | 'unchanged' }[];
  revision: number;
}

export function registerApply(program: Command, act: Act): void {
  act(
    program.command('apply').description('create or update resources from Kubernetes manifests or docker-compose files'),
    { filename: many({ unit: list('path'), short: '-f', description: 'file, directory or - for stdin (repeatable)' }) },
    async (ctx, _args, options) => {
      const files = options.filename;
      if (files.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'apply needs -f FILE, -f DIR or -f -');
      // Everything is parsed and validated before anything is sent: all or nothing.
      const resources = await (await import('../../client/read-manifests.js')).loadResources(files);
      const client = await openClient(ctx);
      const response = await client.post<ApplyResponse>('/v1/apply', { resources });
      for (const r of response.results) writeLine(ctx.io.stdout, `${r.kind.toLowerCase()}/${r.name} ${r.action}`);
    },
  );
}
