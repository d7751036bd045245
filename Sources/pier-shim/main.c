// pier-shim: the per-container monitor and namespace setup. See docs/runtime.md.
//
//   pier-shim run  --bundle DIR --id ID [--log-max-size N] [--log-max-files N]
//   pier-shim exec --bundle DIR --id EXECID --pid PID --process FILE
//
// The files, one concept each:
//   main.c       arguments and the mode          shim.c      from options to a monitored process
//   spec.c       reading config.json             json.c      the JSON reader, Go-style escaping
//   daemon.c     detaching from pierd            container.c clone and the child's setup steps
//   mounts.c     the root filesystem, /dev        process.c   steps every container process takes
//   security.c   capabilities, seccomp            exec.c      joining a running container
//   console.c    the terminal                     sync.c      the shim <-> child socket
//   cgroup.c     cgroup.procs, OOM kills          monitor.c   poll loop, stdio, control and attach
//   logfile.c    json-file log, rotation          exitfile.c  the exit file
//   io.c, arena.c, timestamp.c                    byte queue and fds, the spec's arena, RFC 3339
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static const char USAGE[] =
    "usage: pier-shim run  --bundle DIR --id ID [--log-max-size N] [--log-max-files N]\n"
    "       pier-shim exec --bundle DIR --id EXECID --pid PID --process FILE\n";

__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...);

static void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("pier-shim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    fputs(USAGE, stderr);
    va_end(ap);
    exit(125);
}

// A size in bytes, with an optional k, m or g suffix (as `--log-opt max-size=10m`).
static long long parse_size(const char *flag, const char *s) {
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    long long unit = 1;
    if (*end == 'k' || *end == 'K') unit = 1024, end++;
    else if (*end == 'm' || *end == 'M') unit = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G') unit = 1024 * 1024 * 1024, end++;
    if (errno != 0 || end == s || *end != '\0' || n < 0 || n > (1LL << 50) / unit)
        usage_error("%s: \"%s\" is not a size", flag, s);
    return n * unit;
}

static long long parse_number(const char *flag, const char *s, long long max) {
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || n < 0 || n > max)
        usage_error("%s: \"%s\" is not a number from 0 to %lld", flag, s, max);
    return n;
}

// IDs name files in the container directory.
static void check_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 80 || strchr(id, '/') != NULL || id[0] == '.') usage_error("--id: \"%s\" is not a valid id", id);
}

static void parse(int argc, char **argv, bool exec_mode, struct shim_options *o) {
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i], *value = NULL;
        char name[32];
        const char *eq = strchr(flag, '=');
        if (eq != NULL && (size_t)(eq - flag) < sizeof(name)) {
            memcpy(name, flag, (size_t)(eq - flag));
            name[eq - flag] = '\0';
            flag = name;
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            usage_error("%s needs a value", flag);
        }
        if (strcmp(flag, "--bundle") == 0) o->bundle = value;
        else if (strcmp(flag, "--id") == 0) o->id = value;
        else if (!exec_mode && strcmp(flag, "--log-max-size") == 0) o->log_max_size = parse_size(flag, value);
        else if (!exec_mode && strcmp(flag, "--log-max-files") == 0)
            o->log_max_files = (int)parse_number(flag, value, 1000);
        else if (exec_mode && strcmp(flag, "--pid") == 0) o->pid = (pid_t)parse_number(flag, value, 1 << 22);
        else if (exec_mode && strcmp(flag, "--process") == 0) o->process = value;
        else usage_error("unknown flag %s", flag);
    }
    if (o->bundle == NULL) usage_error("--bundle is required");
    if (o->id == NULL) usage_error("--id is required");
    check_id(o->id);
    if (exec_mode && o->pid <= 0) usage_error("--pid is required");
    if (exec_mode && o->process == NULL) usage_error("--process is required");
}

int main(int argc, char **argv) {
    struct shim_options o = {.log_max_files = 1};
    // The monitor lives as long as the container in <= 2 MB: buffers of a burst go back
    // to the kernel when freed instead of staying in the heap.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024);
    // Whatever the spawner leaked (say, the other end of its stderr pipe) would stay open
    // as long as the container runs and keep pierd waiting for an end of file.
    close_range(3, ~0U, 0);
    if (argc < 2) usage_error("a mode is required");
    if (strcmp(argv[1], "run") == 0) {
        parse(argc, argv, false, &o);
        return shim_run(&o);
    }
    if (strcmp(argv[1], "exec") == 0) {
        parse(argc, argv, true, &o);
        return shim_exec(&o);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    usage_error("unknown mode %s", argv[1]);
}
