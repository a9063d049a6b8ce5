/* Small helpers: whole writes, bounded file reads, times, JSON escaping. */
#ifndef GROVE_UTIL_H
#define GROVE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "2026-11-22T05:05:27.123456789Z" is 30 characters. */
#define TIME_BUF 40

int write_all(int fd, const void *buf, size_t len);
/* Reads at most cap-1 bytes of a file and NUL-terminates; -1 on error. */
ssize_t read_small_file(const char *path, char *buf, size_t cap);
/* Reads up to cap-1 bytes starting at offset (or the last cap-1 bytes if later). */
ssize_t read_file_tail(const char *path, off_t from, char *buf, size_t cap);
/* dir + "/" + name; -1 when it does not fit. */
int path_join(char *out, size_t cap, const char *dir, const char *name);
/* Current UTC time as RFC 3339 with 9 (nanos) or 3 fractional digits. */
void format_now(char *out, int nanos);
/* Escapes in as the inside of a JSON string, truncating safely; returns length. */
size_t json_escape(char *out, size_t cap, const char *in);
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* tmp file + fsync + rename + fsync(dir) so readers never see half a file. */
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len);
/* "<who>: <what><arg>: <strerror(errno)>\n" on stderr (the in-container modes' one error line). */
void report_errno(const char *who, const char *what, const char *arg);
int set_nonblock(int fd);
int64_t monotonic_ms(void);

#endif
