/**
 * Sorting strings by UTF-16 code units, as Go's sort.Strings does: for the lowercase names,
 * digits, dots and dashes that Kubernetes resource and group names are made of, the same order
 * as `localeCompare`, without loading ICU's collation tables into the process (about 0.7 MiB of
 * memory and 3.7 MiB of mapped binary, for as long as the daemon runs).
 */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
