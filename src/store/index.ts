export type { Store, StoreChange, StoreEntry, StoreOp } from './store.js';
export { MemoryStore, MAX_KEY_LENGTH, validateKey, type MemoryStoreOptions } from './memory-store.js';
export { LevelStore, META_REVISION_KEY, type LevelStoreOptions } from './level-store.js';
