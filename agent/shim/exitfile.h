/* Files the agent reads back: shim.pid, container.pid (written by the runtime), exit.json. */
#ifndef GROVE_EXITFILE_H
#define GROVE_EXITFILE_H

#include <sys/types.h>

int write_pid_file(const char *state_dir, const char *name, pid_t pid);
/* The pid the runtime wrote with --pid-file; -1 if missing or malformed. */
pid_t read_pid_file(const char *path);
/* 1 if the cgroup file's "oom_kill N" has N > 0, 0 if not, -1 if unreadable. */
int read_oom_killed(const char *path);
/* status is a waitpid status, or -1 when it could not be collected. */
int write_exit_file(const char *state_dir, int status, int oom_killed, const char *finished_at);

#endif
