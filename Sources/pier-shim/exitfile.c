#define _GNU_SOURCE
#include "exitfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "json.h"
#include "timestamp.h"

int exitfile_write(const char *path, const struct exit_record *r) {
    char started[TIMESTAMP_MAX], finished[TIMESTAMP_MAX], head[256];
    timestamp_format(&r->started_at, started);
    timestamp_format(&r->finished_at, finished);
    snprintf(head, sizeof(head),
             "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"startedAt\":\"%s\",\"finishedAt\":\"%s\",\"error\":",
             r->exit_code, r->signal, r->oom_killed ? "true" : "false", started, finished);
    struct bytes b = {0};
    const char *error = r->error != NULL ? r->error : "";
    int rc = -1;
    if (bytes_append(&b, head, strlen(head)) == 0 && json_append_string(&b, error, strlen(error)) == 0 &&
        bytes_append(&b, "}\n", 2) == 0) {
        size_t n = strlen(path) + 5;
        char *tmp = malloc(n);
        if (tmp != NULL) {
            snprintf(tmp, n, "%s.tmp", path);
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                rc = write_all(fd, bytes_head(&b), bytes_pending(&b));
                if (close(fd) < 0) rc = -1;
                if (rc == 0) rc = rename(tmp, path);
                if (rc < 0) unlink(tmp);
            }
            free(tmp);
        }
    }
    bytes_free(&b);
    return rc;
}

static void sync_path(const char *path, int flags) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

void exitfile_sync(const char *path) {
    sync_path(path, O_RDONLY);
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        sync_path(".", O_RDONLY | O_DIRECTORY);
        return;
    }
    size_t n = (size_t)(slash - path);
    char *directory = strndup(path, n == 0 ? 1 : n);
    if (directory == NULL) return;
    sync_path(directory, O_RDONLY | O_DIRECTORY);
    free(directory);
}
