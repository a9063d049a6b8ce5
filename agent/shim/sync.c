#include "sync.h"
#include "shim.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int sync_fd = -1;

void sync_init(void)
{
	if (fcntl(SYNC_FD, F_GETFD) < 0)
		return;
	sync_fd = SYNC_FD;
	/* The runtime and the container must never inherit the agent's pipe. */
	fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
}

int sync_is_open(void)
{
	return sync_fd >= 0;
}

void sync_error(const char *stage, const char *message)
{
	/* Bounded so the message always fits the launcher's MAX_SYNC_BYTES. */
	char esc[2048], line[2200];
	if (sync_fd < 0)
		return;
	json_escape(esc, sizeof esc, message);
	int n = snprintf(line, sizeof line, "{\"type\":\"error\",\"stage\":\"%s\",\"message\":\"%s\"}\n",
			 stage, esc);
	if (n > 0 && (size_t)n < sizeof line)
		write_all(sync_fd, line, (size_t)n);
}

void sync_started(pid_t shim_pid, pid_t pid, const char *started_at)
{
	char line[160];
	if (sync_fd < 0)
		return;
	int n = snprintf(line, sizeof line,
			 "{\"type\":\"started\",\"shimPid\":%d,\"pid\":%d,\"startedAt\":\"%s\"}\n",
			 (int)shim_pid, (int)pid, started_at);
	if (n > 0 && (size_t)n < sizeof line)
		write_all(sync_fd, line, (size_t)n);
}

void sync_close(void)
{
	if (sync_fd >= 0)
		close(sync_fd);
	sync_fd = -1;
}
