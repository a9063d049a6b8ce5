/*
 * grove-shim: one small process per container. It detaches from the agent, creates and
 * starts the container with runc/crun, then keeps its logs and records its exit, so that the
 * agent can restart (or die) without touching running containers. docs/runtime.md.
 */
#include "detach.h"
#include "exitfile.h"
#include "logs.h"
#include "runtime.h"
#include "envexec.h"
#include "init.h"
#include "pty.h"
#include "sdnotify.h"
#include "shim.h"
#include "supervise.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHIM_VERSION "grove-shim 0.1.0\n"
#define USAGE "usage: grove-shim --id ID --bundle DIR --state-dir DIR --runtime PATH " \
	      "--runtime-root DIR --log-max-bytes N --log-max-files N [--oom-file PATH]\n"

/* Large buffers live in static storage: only the pages actually used count towards RSS. */
static struct log_writer log_w;
static struct log_stream out_s, err_s;

static int bad(char *err, size_t cap, const char *what, const char *arg)
{
	snprintf(err, cap, "%s%s", what, arg ? arg : "");
	return -1;
}

/* Same rule as runc: the id becomes a directory name under --root. */
static int valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.' || id[0] == '-')
		return 0;
	for (; *id; id++) {
		char c = *id;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return 0;
	}
	return 1;
}

static int abs_path(const char *p)
{
	return p[0] == '/' && strlen(p) <= ARG_PATH_MAX;
}

static int parse_args(int argc, char **argv, struct shim_config *c, char *err, size_t cap)
{
	const char *max_bytes = NULL, *max_files = NULL;
	struct stat st;
	uint64_t v;
	memset(c, 0, sizeof *c);
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], **slot = NULL;
		if (!strcmp(k, "--id")) slot = &c->id;
		else if (!strcmp(k, "--bundle")) slot = &c->bundle;
		else if (!strcmp(k, "--state-dir")) slot = &c->state_dir;
		else if (!strcmp(k, "--runtime")) slot = &c->runtime;
		else if (!strcmp(k, "--runtime-root")) slot = &c->runtime_root;
		else if (!strcmp(k, "--log-max-bytes")) slot = &max_bytes;
		else if (!strcmp(k, "--log-max-files")) slot = &max_files;
		else if (!strcmp(k, "--oom-file")) slot = &c->oom_file;
		else return bad(err, cap, "unknown argument: ", k);
		if (i + 1 >= argc)
			return bad(err, cap, "missing value for ", k);
		if (*slot)
			return bad(err, cap, "duplicate argument: ", k);
		*slot = argv[i + 1];
	}
	if (!c->id) return bad(err, cap, "missing --id", NULL);
	if (!c->bundle) return bad(err, cap, "missing --bundle", NULL);
	if (!c->state_dir) return bad(err, cap, "missing --state-dir", NULL);
	if (!c->runtime) return bad(err, cap, "missing --runtime", NULL);
	if (!c->runtime_root) return bad(err, cap, "missing --runtime-root", NULL);
	if (!max_bytes) return bad(err, cap, "missing --log-max-bytes", NULL);
	if (!max_files) return bad(err, cap, "missing --log-max-files", NULL);

	if (!valid_id(c->id))
		return bad(err, cap, "invalid --id (1-128 of [A-Za-z0-9_.+-], not starting with . or -): ", c->id);
	/* We chdir("/") when detaching, so relative paths would silently change meaning. */
	if (!abs_path(c->bundle) || stat(c->bundle, &st) < 0 || !S_ISDIR(st.st_mode))
		return bad(err, cap, "--bundle must be an absolute path to a directory: ", c->bundle);
	if (!abs_path(c->runtime) || stat(c->runtime, &st) < 0 || !S_ISREG(st.st_mode) || access(c->runtime, X_OK) < 0)
		return bad(err, cap, "--runtime must be an absolute path to an executable: ", c->runtime);
	if (!abs_path(c->runtime_root))
		return bad(err, cap, "--runtime-root must be an absolute path: ", c->runtime_root);
	if (c->oom_file && !abs_path(c->oom_file))
		return bad(err, cap, "--oom-file must be an absolute path: ", c->oom_file);
	if (parse_u64(max_bytes, LOG_MIN_BYTES, (uint64_t)1 << 40, &v) < 0)
		return bad(err, cap, "--log-max-bytes must be an integer from 4096 to 2^40: ", max_bytes);
	c->log_max_bytes = v;
	if (parse_u64(max_files, 1, 1000, &v) < 0)
		return bad(err, cap, "--log-max-files must be an integer from 1 to 1000: ", max_files);
	c->log_max_files = (unsigned)v;
	if (!abs_path(c->state_dir))
		return bad(err, cap, "--state-dir must be an absolute path: ", c->state_dir);
	if (mkdir(c->state_dir, 0700) < 0 && errno != EEXIST)
		return bad(err, cap, "cannot create --state-dir: ", c->state_dir);
	if (stat(c->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return bad(err, cap, "--state-dir is not a directory: ", c->state_dir);
	return 0;
}

static int setup_failed(const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
	sync_error("setup", msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct shim_config cfg;
	struct runtime rt;
	char err[1200];
	int po[2], pe[2];

	/* First: inside a container this must not touch fds or sync state meant for the shim. */
	if (argc >= 2 && !strcmp(argv[1], "env-exec"))
		return envexec_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "init"))
		return init_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "pty"))
		return pty_main(argc, argv);
	ensure_std_fds();
	sync_init();
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		write_all(1, SHIM_VERSION, sizeof SHIM_VERSION - 1);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "sd-notify"))
		return sdnotify_main();
	if (parse_args(argc, argv, &cfg, err, sizeof err) < 0) {
		if (sync_is_open()) {
			sync_error("setup", err);
		} else {
			write_all(2, "grove-shim: ", 12);
			write_all(2, err, strlen(err));
			write_all(2, "\n" USAGE, sizeof USAGE);
		}
		return 2;
	}
	if (detach() < 0)
		return setup_failed("fork");
	int sfd = setup_signals();
	if (sfd < 0)
		return setup_failed("signalfd");
	/* Orphaned container inits get reparented to us, so we can waitpid() them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return setup_failed("prctl(PR_SET_CHILD_SUBREAPER)");
	if (write_pid_file(cfg.state_dir, "shim.pid", getpid()) < 0)
		return setup_failed("writing shim.pid");
	if (runtime_init(&rt, &cfg, sfd) < 0) {
		errno = ENAMETOOLONG;
		return setup_failed("state dir");
	}
	/* A reused state dir must not report the previous run's exit or pid. */
	if (path_join(err, sizeof err, cfg.state_dir, "exit.json") == 0)
		unlink(err);
	unlink(rt.pid_path);
	if (log_open(&log_w, &cfg) < 0)
		return setup_failed("opening container.log");
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return setup_failed("pipe");

	if (runtime_create(&rt, po[1], pe[1], pe[0], err, sizeof err) < 0) {
		runtime_delete(&rt); /* clean up before answering: "error" means nothing is left */
		sync_error("create", err);
		return 1;
	}
	/* Only the container init may hold the write ends now, so its exit gives us EOF. */
	close(po[1]);
	close(pe[1]);
	pid_t pid = read_pid_file(rt.pid_path);
	if (pid < 0) {
		runtime_delete(&rt);
		sync_error("create", "the runtime did not write a valid container.pid");
		return 1;
	}
	if (runtime_start(&rt, err, sizeof err) < 0) {
		runtime_delete(&rt);
		sync_error("start", err);
		return 1;
	}
	char stamp[TIME_BUF];
	format_now(stamp, 0);
	sync_started(getpid(), pid, stamp);
	sync_close();

	set_nonblock(po[0]);
	set_nonblock(pe[0]);
	log_stream_init(&out_s, po[0], "stdout");
	log_stream_init(&err_s, pe[0], "stderr");
	int status = supervise(&log_w, &out_s, &err_s, sfd, pid, stamp);
	write_exit_file(cfg.state_dir, status, read_oom_killed(cfg.oom_file), stamp);
	runtime_delete(&rt);
	return 0;
}
