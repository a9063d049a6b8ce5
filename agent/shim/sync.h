/* NDJSON status messages to the agent on fd 3 (see agent/src/shim/protocol.ts). */
#ifndef GROVE_SYNC_H
#define GROVE_SYNC_H

#include <sys/types.h>

/* Adopts fd 3 if it is open; must run before anything else opens a file. */
void sync_init(void);
int sync_is_open(void);
void sync_error(const char *stage, const char *message);
void sync_started(pid_t shim_pid, pid_t pid, const char *started_at);
/* Closing is what tells the launcher we are done talking. */
void sync_close(void);

#endif
