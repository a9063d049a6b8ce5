/**
 * The schemas others reference by `$id`: every generated validator module gets them all (only
 * what it reaches is emitted, generate.ts), and the published manifest schema takes the ones
 * the applied kinds reach (src/core/manifests/schema-objects.ts).
 */
import type { TSchema } from '@sinclair/typebox';
import { NodeSelectorTerm, PodAffinityTerm } from './affinity.js';
import { JobPodTemplate, JobSpec } from './batch.js';
import { Annotations, Condition, LabelSelector, Labels, ObjectMeta, TemplateMeta } from './meta.js';
import { Container, Probe } from './pod-container.js';
import { Volume } from './pod-volumes.js';
import { ContainerState, ContainerStatus, PodSpec, PodStatus } from './pod.js';
import { WireContainerStatus, WireJobStatus, WireNodeFacts, WirePodStatus, WirePodTarget } from './wire.js';
import { AlwaysPodTemplate } from './workloads.js';

export const SHARED_SCHEMAS: readonly TSchema[] = [
  Labels, Annotations, ObjectMeta, TemplateMeta, LabelSelector, Condition,
  Probe, Container, Volume, PodSpec, ContainerState, ContainerStatus, PodStatus,
  AlwaysPodTemplate, JobPodTemplate, JobSpec,
  NodeSelectorTerm, PodAffinityTerm,
  WirePodTarget, WireNodeFacts, WireContainerStatus, WireJobStatus, WirePodStatus,
];
