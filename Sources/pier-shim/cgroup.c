#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cgroup_join(const char *const *procs, size_t n, pid_t pid, char *err, size_t errlen) {
    char value[24];
    int len = snprintf(value, sizeof(value), "%d\n", (int)pid);
    for (size_t i = 0; i < n; i++) {
        int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
        int rc = fd < 0 ? -1 : (int)write(fd, value, (size_t)len);
        int e = errno;
        if (fd >= 0) close(fd);
        if (rc < 0) {
            snprintf(err, errlen, "join cgroup %s: %s", procs[i], strerror(e));
            errno = e;
            return -1;
        }
    }
    return 0;
}

// "oom_kill N" in memory.events (v2) or memory.oom_control (v1).
static long long read_oom_kill(const char *dir, const char *file) {
    char path[PATH_MAX], buf[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0) return 0;
    buf[r] = '\0';
    for (char *line = buf; line != NULL && *line;) {
        if (strncmp(line, "oom_kill ", 9) == 0) return atoll(line + 9);
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return 0;
}

long long cgroup_oom_kills(const char *const *procs, size_t n) {
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", procs[i]);
        char *slash = strrchr(dir, '/');
        if (slash == NULL) continue;
        *slash = '\0';
        total += read_oom_kill(dir, "memory.events") + read_oom_kill(dir, "memory.oom_control");
    }
    return total;
}
