#include "exitfile.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

int write_pid_file(const char *state_dir, const char *name, pid_t pid)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
	return write_file_atomic(state_dir, name, buf, (size_t)n);
}

pid_t read_pid_file(const char *path)
{
	char buf[32];
	uint64_t v;
	ssize_t n = read_small_file(path, buf, sizeof buf);
	if (n <= 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return parse_u64(buf, 1, 0x7fffffff, &v) == 0 ? (pid_t)v : -1;
}

int read_oom_killed(const char *path)
{
	char buf[1024];
	if (!path || read_small_file(path, buf, sizeof buf) < 0)
		return -1;
	/* v1 memory.oom_control and v2 memory.events both carry an exact "oom_kill N" line. */
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "oom_kill ", 9) == 0) {
			uint64_t v;
			return parse_u64(line + 9, 0, UINT64_MAX, &v) == 0 ? v > 0 : -1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

int write_exit_file(const char *state_dir, int status, int oom_killed, const char *finished_at)
{
	char sig[24] = "", buf[192];
	int code;
	if (status == -1) {
		code = 255; /* the init was not our child: its status is unknowable */
	} else if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status); /* shell convention, as docker and CRI report it */
		snprintf(sig, sizeof sig, "\"signal\":%d,", WTERMSIG(status));
	} else {
		code = WEXITSTATUS(status);
	}
	int n = snprintf(buf, sizeof buf, "{\"exitCode\":%d,%s\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n",
			 code, sig, oom_killed > 0 ? "true" : "false", finished_at);
	return write_file_atomic(state_dir, "exit.json", buf, (size_t)n);
}
