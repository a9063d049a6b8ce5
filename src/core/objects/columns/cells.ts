/** Cells several kinds' tables share, written as kubectl writes them. */
import { selectorText } from '../../label-selector.js';
import type { LabelSelector } from '../meta.js';
import type { KindObject } from '../validate.js';

/** "a=1,b=2" sorted by key, "<none>" when empty (labels.FormatLabels). */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`);
  return pairs.length ? pairs.join(',') : '<none>';
}

/** A label selector as kubectl prints it, "<none>" when empty. */
export function formatSelector(selector: LabelSelector | undefined): string {
  return selectorText(selector) || '<none>';
}

type Containers = KindObject<'Pod'>['spec']['containers'];

/** The CONTAINERS and IMAGES cells of `-o wide`: names and images, comma-separated. */
export function containerCells(containers: Containers): [string, string] {
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(',')];
}

/** A count the status may not have yet. */
export function n(value: number | undefined): string {
  return String(value ?? 0);
}
