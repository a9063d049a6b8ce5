/* Shared configuration of grove-shim. See docs/runtime.md, section "grove-shim". */
#ifndef GROVE_SHIM_H
#define GROVE_SHIM_H

#include <stdint.h>

/* fd on which the agent reads our NDJSON status messages (protocol.ts SYNC_FD). */
#define SYNC_FD 3
/* Paths are bounded so that every path buffer can live on a small stack. */
#define PATH_CAP 1100
#define ARG_PATH_MAX 1000

struct shim_config {
	const char *id;
	const char *bundle;
	const char *state_dir;
	const char *runtime;
	const char *runtime_root;
	const char *oom_file; /* NULL when not given */
	uint64_t log_max_bytes;
	unsigned log_max_files;
};

#endif
