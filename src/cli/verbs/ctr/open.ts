import type { ImageStore } from '../../../../agent/src/images/image-store.js';
import { RUNTIME_OPTIONS } from '../../config/role-options.js';
import type { CliContext } from '../../context.js';
import type { LocalRuntime } from '../../local-runtime.js';

// The runtime and image stack load on first use, not when the command table is built, so
// `grove --version`, `grove help` and argument errors answer without paying for them.

/** Opens the local runtime for a ctr verb, honouring `ctr --runtime`, `--shim`, `--rootfs-mode`. */
export async function openRuntime(ctx: CliContext): Promise<LocalRuntime> {
  const { openLocalRuntime } = await import('../../local-runtime.js');
  return openLocalRuntime({ dataDir: ctx.dataDir, logger: ctx.logger, settings: ctx.options(RUNTIME_OPTIONS), searchPath: ctx.host.searchPath });
}

export async function openImages(ctx: CliContext): Promise<ImageStore> {
  const { imageStoreFor } = await import('../../local-runtime.js');
  return imageStoreFor(ctx.dataDir, ctx.logger);
}

/** Manifest digests of the images that containers on this node were created from. */
export async function imagesInUse(ctx: CliContext): Promise<Set<string>> {
  const { ContainerStore } = await import('../../../../agent/src/runtime/container-store.js');
  return new Set((await new ContainerStore(ctx.dataDir).list()).map((c) => c.imageDigest));
}
