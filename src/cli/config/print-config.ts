/**
 * `grove server --print-config` / `grove agent --print-config`: every option of the role, its
 * value in its unit, and where it came from (flag, variable, file, default); secrets redacted.
 */
import { table } from '../format.js';
import type { CommandConfig } from './command-config.js';
import { flagText, type OptionSpec } from './option.js';
import { originText } from './resolve.js';
import { CONFIG_FILE_OPTION, PRINT_CONFIG } from './role-options.js';

function valueText(spec: OptionSpec<unknown>, value: unknown, set: boolean): string {
  if (!set) return spec.defaultText ? `<unset: ${spec.defaultText}>` : '<unset>';
  if (spec.secret) return '<redacted>';
  const text = spec.unit.format(value);
  return text === '' ? '<none>' : text;
}

export function renderConfig(config: CommandConfig): string {
  const rows: string[][] = [];
  const shown = new Set<string>();
  // The running command's tables win: the program's --config (a client config) is not the role's.
  for (const resolved of [...config.chain].reverse()) {
    const tableRows: string[][] = [];
    for (const [key, spec] of Object.entries(resolved.table)) {
      if (shown.has(key) || spec === PRINT_CONFIG) continue;
      shown.add(key);
      const origin = resolved.origins[key];
      let value = valueText(spec, resolved.values[key], origin !== undefined);
      if (spec === CONFIG_FILE_OPTION && !config.file) value += ' (absent)';
      tableRows.push([flagText(key, { ...spec, negate: false }).slice(2), value, origin ? originText(origin) : '-']);
    }
    rows.unshift(...tableRows);
  }
  return table(['OPTION', 'VALUE', 'SOURCE'], rows);
}
