#include "runtime.h"
#include "detach.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* runc create may run hooks and mount things on slow SD cards: generous but finite. */
#define CREATE_TIMEOUT_MS 120000
#define OTHER_TIMEOUT_MS 60000
#define LOG_TAIL 8192

int runtime_init(struct runtime *rt, const struct shim_config *cfg, int sfd)
{
	rt->cfg = cfg;
	rt->sfd = sfd;
	if (path_join(rt->log_path, sizeof rt->log_path, cfg->state_dir, "runtime.log") < 0 ||
	    path_join(rt->pid_path, sizeof rt->pid_path, cfg->state_dir, "container.pid") < 0)
		return -1;
	return 0;
}

static pid_t spawn(const char *const argv[], int out_fd, int err_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	reset_signals_for_exec();
	/* fds 0-2 are /dev/null after detach; only replace what the caller asked for. */
	if (out_fd >= 0 && dup2(out_fd, 1) < 0)
		_exit(126);
	if (err_fd >= 0 && dup2(err_fd, 2) < 0)
		_exit(126);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* waitpid with a deadline; SIGCHLD on the signalfd wakes us early. 1 = timed out (killed). */
static int wait_child(pid_t pid, int sfd, int timeout_ms, int *status)
{
	int64_t deadline = monotonic_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		int64_t left = deadline - monotonic_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 1;
		}
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		poll(&p, 1, left > 1000 ? 1000 : (int)left);
		drain_signals(sfd);
	}
}

/* Decodes the JSON string starting after its opening quote into out (control chars → space). */
static void json_unquote(const char *p, const char *end, char *out, size_t cap)
{
	size_t o = 0;
	while (p < end && *p != '"' && o + 4 < cap) {
		char c = *p++;
		if (c == '\\' && p < end) {
			char e = *p++;
			if (e == 'u') {
				unsigned v = 0;
				int i;
				for (i = 0; i < 4 && p < end; i++, p++) {
					char h = *p;
					v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
				}
				if (v < 0x20 || (v >= 0xd800 && v < 0xe000)) {
					out[o++] = v < 0x20 ? ' ' : '?';
				} else if (v < 0x80) {
					out[o++] = (char)v;
				} else if (v < 0x800) {
					out[o++] = (char)(0xc0 | (v >> 6));
					out[o++] = (char)(0x80 | (v & 0x3f));
				} else {
					out[o++] = (char)(0xe0 | (v >> 12));
					out[o++] = (char)(0x80 | ((v >> 6) & 0x3f));
					out[o++] = (char)(0x80 | (v & 0x3f));
				}
				continue;
			}
			c = (e == 'n' || e == 't' || e == 'r' || e == 'b' || e == 'f') ? ' ' : e;
		} else if ((unsigned char)c < 0x20) {
			c = ' ';
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

/* Finds "key": "value" in [p, end) and decodes the value; 0 when found. */
static int json_field(const char *p, const char *end, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (; p + klen + 2 < end; p++) {
		if (p[0] != '"' || memcmp(p + 1, key, klen) != 0 || p[klen + 1] != '"')
			continue;
		const char *q = p + klen + 2;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q++ != ':')
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != '"')
			continue;
		json_unquote(q + 1, end, out, cap);
		return 0;
	}
	return -1;
}

/*
 * runc writes one JSON object per line, crun writes them back to back without newlines.
 * `{"` can only start an object (inside a string the quote would be escaped), so records
 * are the spans between occurrences of it. Prefer the last error-level message.
 */
static int message_from_log(const char *buf, char *out, size_t cap)
{
	char msg[1024], level[16];
	int have_error = 0, have_any = 0;
	const char *rec = strstr(buf, "{\"");
	while (rec) {
		const char *next = strstr(rec + 2, "{\"");
		const char *end = next ? next : rec + strlen(rec);
		if (json_field(rec, end, "msg", msg, sizeof msg) == 0 && msg[0]) {
			if (json_field(rec, end, "level", level, sizeof level) < 0)
				level[0] = '\0';
			int is_error = !strcmp(level, "error") || !strcmp(level, "fatal") || !strcmp(level, "panic");
			if (is_error || !have_error) {
				snprintf(out, cap, "%s", msg);
				have_any = 1;
				have_error |= is_error;
			}
		}
		rec = next;
	}
	return have_any ? 0 : -1;
}

/* Last non-empty line of whatever the runtime printed on the stderr pipe. */
static int message_from_pipe(int fd, char *out, size_t cap)
{
	char buf[1024];
	ssize_t n;
	if (fd < 0 || set_nonblock(fd) < 0 || (n = read(fd, buf, sizeof buf - 1)) <= 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!*line)
		return -1;
	snprintf(out, cap, "%s", line);
	return 0;
}

static int run(struct runtime *rt, const char *const *verb_args, int out_fd, int err_fd,
	       int err_read_fd, int timeout_ms, char *err, size_t cap)
{
	const char *argv[16], *verb = verb_args[0];
	int n = 0;
	argv[n++] = rt->cfg->runtime;
	argv[n++] = "--root";
	argv[n++] = rt->cfg->runtime_root;
	argv[n++] = "--log";
	argv[n++] = rt->log_path;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	while (*verb_args && n < 15)
		argv[n++] = *verb_args++;
	argv[n] = NULL;

	/* Only what this command appends to the (shared, appended) runtime.log is its error. */
	struct stat st;
	off_t log_start = stat(rt->log_path, &st) == 0 ? st.st_size : 0;
	int status = 0;
	pid_t pid = spawn(argv, out_fd, err_fd);
	if (pid < 0) {
		snprintf(err, cap, "cannot fork %s: %s", rt->cfg->runtime, strerror(errno));
		return -1;
	}
	int w = wait_child(pid, rt->sfd, timeout_ms, &status);
	if (w == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!err)
		return -1;

	char logbuf[LOG_TAIL];
	if (read_file_tail(rt->log_path, log_start, logbuf, sizeof logbuf) > 0 &&
	    message_from_log(logbuf, err, cap) == 0)
		return -1;
	if (message_from_pipe(err_read_fd, err, cap) == 0)
		return -1;
	if (w == 1)
		snprintf(err, cap, "%s %s timed out after %d s", rt->cfg->runtime, verb, timeout_ms / 1000);
	else if (w < 0)
		snprintf(err, cap, "waiting for %s failed: %s", rt->cfg->runtime, strerror(errno));
	else if (WIFSIGNALED(status))
		snprintf(err, cap, "%s killed by signal %d", rt->cfg->runtime, WTERMSIG(status));
	else if (WEXITSTATUS(status) == 127)
		snprintf(err, cap, "cannot execute %s", rt->cfg->runtime);
	else
		snprintf(err, cap, "%s exited with status %d", rt->cfg->runtime, WEXITSTATUS(status));
	return -1;
}

int runtime_create(struct runtime *rt, int out_fd, int err_fd, int err_read_fd, char *err, size_t cap)
{
	const char *args[] = { "create", "--bundle", rt->cfg->bundle, "--pid-file", rt->pid_path, rt->cfg->id, NULL };
	return run(rt, args, out_fd, err_fd, err_read_fd, CREATE_TIMEOUT_MS, err, cap);
}

int runtime_start(struct runtime *rt, char *err, size_t cap)
{
	const char *args[] = { "start", rt->cfg->id, NULL };
	return run(rt, args, -1, -1, -1, OTHER_TIMEOUT_MS, err, cap);
}

void runtime_delete(struct runtime *rt)
{
	const char *args[] = { "delete", "--force", rt->cfg->id, NULL };
	run(rt, args, -1, -1, -1, OTHER_TIMEOUT_MS, NULL, 0);
}
