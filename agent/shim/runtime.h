/* Running the OCI runtime (runc or crun) and turning its failures into one line. */
#ifndef GROVE_RUNTIME_H
#define GROVE_RUNTIME_H

#include <stddef.h>

#include "shim.h"

struct runtime {
	const struct shim_config *cfg;
	int sfd; /* signalfd: SIGCHLD wakes us while waiting for the runtime */
	char log_path[PATH_CAP];
	char pid_path[PATH_CAP];
};

int runtime_init(struct runtime *rt, const struct shim_config *cfg, int sfd);
/* `create` with the container's stdout/stderr pipes as its stdio (inherited by the init).
 * err_read_fd is the stderr pipe's read end, a fallback source of the error text. */
int runtime_create(struct runtime *rt, int out_fd, int err_fd, int err_read_fd, char *err, size_t cap);
int runtime_start(struct runtime *rt, char *err, size_t cap);
/* `delete --force`: best effort, also used for cleanup after a failed create/start. */
void runtime_delete(struct runtime *rt);

#endif
