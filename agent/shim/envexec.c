/*
 * `grove-shim env-exec FILE PROG [ARG...]`, run INSIDE a container as its first process: adds
 * the NUL-separated KEY=VALUE entries of FILE to the environment and execs PROG. Grove uses it
 * for variables taken from Secrets, so their values stay in a tmpfs file on the node instead of
 * the OCI config.json, the runtime's state and the container record, which all live on flash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envexec.h"
#include "util.h"

#define MAX_ENV_FILE (1024 * 1024)

static int fail(const char *what, const char *arg)
{
	report_errno("grove-shim env-exec", what, arg);
	return 127;
}

int envexec_main(int argc, char **argv)
{
	if (argc < 4) {
		static const char usage[] = "usage: grove-shim env-exec FILE PROG [ARG...]\n";
		write_all(2, usage, sizeof usage - 1);
		return 2;
	}
	int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("opening ", argv[2]);
	/* One spare byte: the buffer always ends in NUL, whatever the file holds. */
	char *buf = calloc(MAX_ENV_FILE + 1, 1);
	if (!buf)
		return fail("reading ", argv[2]);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, MAX_ENV_FILE - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("reading ", argv[2]);
		if (n == 0 || (len += (size_t)n) == MAX_ENV_FILE)
			break;
	}
	close(fd);
	/* putenv keeps pointers into buf, which lives until exec replaces the process. */
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		char *entry = buf + i;
		if (entry[0] != '\0' && entry[0] != '=' && strchr(entry, '='))
			putenv(entry);
	}
	execvp(argv[3], argv + 3);
	return fail("running ", argv[3]);
}
