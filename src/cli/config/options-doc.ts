/**
 * The option table of docs/operations.md, generated from the role tables (role-options.ts):
 * one row per option, with every role that has it. test/unit/config-doc.test.ts fails when the
 * document and the tables disagree, and rewrites the section with UPDATE_DOCS=1.
 */
import { flagText, type OptionSpec } from './option.js';
import { fileKey } from './resolve.js';
import { CONFIG_FILE_OPTION, ROLE_TABLES } from './role-options.js';

export const DOC_BEGIN = '<!-- options: generated from src/cli/config/role-options.ts; do not edit -->';
export const DOC_END = '<!-- end of options -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function defaultText(spec: OptionSpec<unknown>): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined || typeof spec.default === 'function') return '';
  if (spec.unit.switch) return spec.default === true ? 'on' : 'off';
  const text = spec.unit.format(spec.default);
  return text === '' ? '' : `\`${text}\``;
}

export function renderOptionsDoc(): string {
  const rows = new Map<OptionSpec<unknown>, { key: string; roles: string[] }>();
  for (const { role, table } of ROLE_TABLES) {
    for (const [key, spec] of Object.entries(table)) {
      const row = rows.get(spec);
      if (row) row.roles.push(role);
      else rows.set(spec, { key, roles: [role] });
    }
  }
  const lines = [
    DOC_BEGIN,
    '| Flag | Variable | File key | Unit | Default | Roles | What it does |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [spec, { key, roles }] of rows) {
    const fileKeyText = spec.file ? `\`${fileKey(key, spec)}\`` : '';
    const env = [spec.env ? `\`${spec.env}\`` : '', spec.deprecatedEnv ? `(\`${spec.deprecatedEnv.name}\`, deprecated)` : ''].filter(Boolean).join(' ');
    const unit = spec.unit.switch ? 'boolean' : spec.unit.name;
    const what = spec === CONFIG_FILE_OPTION ? `${spec.description} (\`--config\` is written after \`server\` / \`agent\`)` : spec.description;
    lines.push(`| \`${flagText(key, spec)}\` | ${env} | ${fileKeyText} | ${cell(unit)} | ${cell(defaultText(spec))} | ${roles.join(', ')} | ${cell(what)} |`);
  }
  lines.push(DOC_END);
  return lines.join('\n');
}
