// Release targets: which compiler builds grove-shim and which native addons ship for each.
// Compilers are tried in order; musl-gcc (Debian musl-tools) only targets the host, so the ARM
// shims are linked statically against the cross glibc instead (larger, see docs/operations.md).
export const TARGETS = {
  'linux-arm64': {
    name: 'linux-arm64',
    compilers: ['aarch64-linux-musl-gcc', 'aarch64-linux-gnu-gcc'],
    apt: 'gcc-aarch64-linux-gnu',
    fileArch: 'ARM aarch64',
    qemu: 'qemu-aarch64-static',
    classicLevel: 'linux-arm64/classic-level.armv8.node',
    cborExtract: '@cbor-extract/cbor-extract-linux-arm64/node.napi.glibc.node',
  },
  'linux-armv7': {
    name: 'linux-armv7',
    compilers: ['arm-linux-musleabihf-gcc', 'arm-linux-gnueabihf-gcc'],
    apt: 'gcc-arm-linux-gnueabihf',
    fileArch: 'ARM, EABI5',
    qemu: 'qemu-arm-static',
    classicLevel: 'linux-arm/classic-level.armv7.node',
    cborExtract: '@cbor-extract/cbor-extract-linux-arm/node.napi.glibc.node',
  },
  'linux-amd64': {
    name: 'linux-amd64',
    compilers: ['musl-gcc', 'x86_64-linux-gnu-gcc', 'gcc'],
    apt: 'musl-tools',
    fileArch: 'x86-64',
    qemu: null,
    classicLevel: 'linux-x64/classic-level.node',
    cborExtract: '@cbor-extract/cbor-extract-linux-x64/node.napi.glibc.node',
  },
};
