/*
 * Diagnostics for the api-scale bench (GROVE_BENCH_MALLOC_PROBE=1), never shipped: preloaded
 * into the measured server (LD_PRELOAD), it starts one thread that waits for a trigger file
 * ($GROVE_MALLOC_PROBE_TRIGGER) and then writes glibc's own account of the heap (mallinfo2: bytes
 * in use and free, over all arenas) to TRIGGER.json, and with "trim" in the trigger file calls
 * malloc_trim(0) between the two readings: what trimming returns is free memory glibc kept, not live memory.
 * A thread of its own, because calling malloc functions from outside (gdb) deadlocks the server
 * when its main thread is stopped inside malloc, holding the arena lock.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char trigger[512];

static void report(void) {
  char request[16] = "";
  FILE *in = fopen(trigger, "r");
  if (!in) return;
  size_t n = fread(request, 1, sizeof request - 1, in);
  request[n] = '\0';
  fclose(in);
  struct mallinfo2 before = mallinfo2();
  int trimmed = strstr(request, "trim") != NULL;
  int released = trimmed ? malloc_trim(0) : 0;
  struct mallinfo2 after = mallinfo2();
  char path[600], tmp[610];
  snprintf(path, sizeof path, "%s.json", trigger);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *out = fopen(tmp, "w");
  if (!out) return;
  fprintf(out,
          "{\"heapBytes\":%zu,\"inUseBytes\":%zu,\"freeBytes\":%zu,\"topFreeBytes\":%zu,\"mmappedBytes\":%zu,"
          "\"trimmed\":%d,\"released\":%d,\"afterHeapBytes\":%zu,\"afterFreeBytes\":%zu}\n",
          before.arena, before.uordblks, before.fordblks, before.keepcost, before.hblkhd, trimmed, released, after.arena,
          after.fordblks);
  fclose(out);
  rename(tmp, path);
  unlink(trigger);
}

static void *watch(void *unused) {
  (void)unused;
  for (;;) {
    usleep(200 * 1000);
    if (access(trigger, F_OK) == 0) report();
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  const char *path = getenv("GROVE_MALLOC_PROBE_TRIGGER");
  if (!path || strlen(path) >= sizeof trigger) return;
  strcpy(trigger, path);
  /* Only the server: the processes it starts do not inherit the probe. */
  unsetenv("GROVE_MALLOC_PROBE_TRIGGER");
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_create(&thread, &attr, watch, NULL);
  pthread_attr_destroy(&attr);
}
