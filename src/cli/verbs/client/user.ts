/**
 * `grove user create NAME --role admin|edit|view`, `grove user list`, `grove user delete NAME`:
 * the API's named users (docs/kubectl.md, "Users, roles and kubeconfig"). The token is printed
 * once, at creation: the server keeps only its hash.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { DATA_OUTPUT_OPTION, printData } from '../../client/output.js';
import { option } from '../../config/option.js';
import { oneOf } from '../../config/units.js';
import { ago, table } from '../../format.js';
import { writeLine } from '../../io.js';
import { argText, NO_OPTIONS, type Act } from '../../verb.js';

/** GET /v1/users: never a token or its hash. */
export interface UserView {
  name: string;
  role: string;
  createdAt: string;
  tokens: number;
  certificates: number;
}

export const USER_CREATE_OPTIONS = {
  role: option({ unit: oneOf(['admin', 'edit', 'view'] as const, 'role'), description: 'admin: everything; edit: all objects, no users/tokens/node identity; view: read all but Secrets' }),
};

export function userRows(users: readonly UserView[], now: Date): string[][] {
  return users.map((u) => [u.name, u.role, ago(u.createdAt, now), String(u.tokens), String(u.certificates)]);
}

export function registerUser(program: Command, act: Act): void {
  const user = program.command('user').description('manage API users (kubectl and grove verbs): tokens and client certificates with a role');
  act(
    user.command('create').description('create a user; prints its token once (grove kubeconfig --user NAME makes a kubeconfig)').argument('<name>', 'a DNS label: lowercase letters, digits and -'),
    USER_CREATE_OPTIONS,
    async (ctx, [nameArg], options) => {
      const name = argText(nameArg, 'name');
      if (options.role === undefined) throw new GroveError(ErrorCode.InvalidArgument, '--role is required: admin, edit or view');
      const created = await (await openClient(ctx)).post<{ user: UserView; token: string }>('/v1/users', { name, role: options.role });
      writeLine(ctx.io.stdout, created.token);
      writeLine(ctx.io.stderr, `user/${created.user.name} created with role ${created.user.role}: the token above is shown only now`);
    },
  );
  act(user.command('list').description('list users: name, role, age, how many tokens and client certificates'), { output: DATA_OUTPUT_OPTION }, async (ctx, _args, options) => {
    const users = await (await openClient(ctx)).get<UserView[]>('/v1/users');
    if (options.output) return printData(ctx.io, options.output, users);
    if (users.length === 0) return writeLine(ctx.io.stderr, 'No users (the admin token is not a user).');
    writeLine(ctx.io.stdout, table(['NAME', 'ROLE', 'AGE', 'TOKENS', 'CERTIFICATES'], userRows(users, new Date())));
  });
  act(user.command('delete').description("delete a user: its tokens and client certificates stop working at once").argument('<name>'), NO_OPTIONS, async (ctx, [nameArg]) => {
    const name = argText(nameArg, 'name');
    await (await openClient(ctx)).delete(`/v1/users/${encodeURIComponent(name)}`);
    writeLine(ctx.io.stdout, `user/${name} deleted`);
  });
}
