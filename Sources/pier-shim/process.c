// The steps every container process takes once its namespaces and root are ready
// (the first process and exec'd ones alike), and how the child reports a failure.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "sync.h"

void errno_text(int err, char out[64]) {
    const char *text = strerrordesc_np(err);
    if (text == NULL) {
        snprintf(out, 64, "errno %d", err);
        return;
    }
    snprintf(out, 64, "%s", text);
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z')) out[0] = (char)(out[0] - 'A' + 'a');
}

int child_fail(struct child *c, const char *fmt, ...) {
    int err = errno;
    char text[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    errno_text(err, text);
    if (n >= 0 && (size_t)n < sizeof(c->message))
        snprintf(c->message + n, sizeof(c->message) - (size_t)n, ": %s", text);
    c->code = 125;
    errno = err;
    return -1;
}

int child_fail_code(struct child *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    c->code = code;
    return -1;
}

noreturn void child_exit_with_error(struct child *c) {
    char line[sizeof(c->message) + 32];
    int code = c->code > 0 ? c->code : 125;
    snprintf(line, sizeof(line), "error %d %s", code, c->message);
    for (char *p = line; *p; p++)
        if (*p == '\n') *p = ' ';
    (void)sync_send(c->sync_fd, line, -1);
    _exit(code);
}

static int set_oom_score_adj(struct child *c) {
    const struct spec_process *p = &c->spec->process;
    if (!p->has_oom_score_adj) return 0;
    char value[16];
    int n = snprintf(value, sizeof(value), "%d", p->oom_score_adj);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return child_fail(c, "set oom_score_adj");
    ssize_t w = write(fd, value, (size_t)n);
    close(fd);
    if (w < 0) return child_fail(c, "set oom_score_adj to %d", p->oom_score_adj);
    return 0;
}

static int set_rlimits(struct child *c) {
    const struct spec_process *p = &c->spec->process;
    for (size_t i = 0; i < p->nrlimits; i++) {
        const struct spec_rlimit *l = &p->rlimits[i];
        if (setrlimit(l->resource, &l->limit) < 0)
            return child_fail(c, "set %s to %llu (soft), %llu (hard)", l->name, (unsigned long long)l->limit.rlim_cur,
                              (unsigned long long)l->limit.rlim_max);
    }
    return 0;
}

static int make_directories(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof(buf)) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    return 0;
}

static int enter_cwd(struct child *c) {
    const char *cwd = c->spec->process.cwd;
    if (c->create_cwd && make_directories(cwd) < 0) return child_fail(c, "create working directory %s", cwd);
    if (chdir(cwd) < 0) return child_fail(c, "chdir to working directory %s", cwd);
    return 0;
}

static int drop_bounding(struct child *c) {
    const struct spec_process *p = &c->spec->process;
    if (p->has_caps && drop_bounding_set(p->caps.bounding, c->last_cap) < 0)
        return child_fail(c, "drop capabilities from the bounding set");
    return 0;
}

// Without no_new_privs the kernel accepts a filter only from a process that has
// CAP_SYS_ADMIN, so it goes in before the user and capabilities change.
static int load_seccomp_privileged(struct child *c) {
    if (c->spec->process.no_new_privileges) return 0;
    if (load_seccomp(c->seccomp) < 0) return child_fail(c, "load the seccomp filter");
    return 0;
}

static int switch_user(struct child *c) {
    const struct spec_process *p = &c->spec->process;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return child_fail(c, "keep capabilities");
    if (setgroups(p->ngroups, p->groups) < 0) return child_fail(c, "set additional groups");
    if (setresgid(p->gid, p->gid, p->gid) < 0) return child_fail(c, "set gid %u", (unsigned)p->gid);
    if (setresuid(p->uid, p->uid, p->uid) < 0) return child_fail(c, "set uid %u", (unsigned)p->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return child_fail(c, "clear keep-capabilities");
    umask(p->has_umask ? p->umask : 022);
    return 0;
}

static int set_capabilities(struct child *c) {
    const struct spec_process *p = &c->spec->process;
    int cap;
    if (!p->has_caps) return 0;
    if (apply_capabilities(&p->caps, c->last_cap, &cap) < 0) {
        if (cap >= 0) return child_fail(c, "raise ambient capability %d", cap);
        return child_fail(c, "set capabilities");
    }
    return 0;
}

static int set_nnp(struct child *c) {
    if (c->spec->process.no_new_privileges && set_no_new_privileges() < 0) return child_fail(c, "set no_new_privs");
    return 0;
}

static int load_seccomp_last(struct child *c) {
    if (!c->spec->process.no_new_privileges) return 0;
    if (load_seccomp(c->seccomp) < 0) return child_fail(c, "load the seccomp filter");
    return 0;
}

static bool is_executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

// Finds process.args[0] as Go's exec.LookPath does, so that the messages and exit
// codes match Docker's: 127 when it does not exist, 126 when it cannot be executed.
static int find_executable(struct child *c) {
    const char *name = c->spec->process.args[0];
    char text[64];
    if (strchr(name, '/') != NULL) {
        struct stat st;
        if (stat(name, &st) < 0) {
            errno_text(errno, text);
            return child_fail_code(c, errno == ENOENT || errno == ENOTDIR ? 127 : 126,
                                   "exec: \"%s\": stat %s: %s", name, name, text);
        }
        if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0)
            return child_fail_code(c, 126, "exec: \"%s\": permission denied", name);
        snprintf(c->executable, sizeof(c->executable), "%s", name);
        return 0;
    }
    const char *dir = c->spec->process.path;
    for (;;) {
        const char *end = strchrnul(dir, ':');
        int n = end == dir ? snprintf(c->executable, sizeof(c->executable), "./%s", name)
                           : snprintf(c->executable, sizeof(c->executable), "%.*s/%s", (int)(end - dir), dir, name);
        if (n > 0 && (size_t)n < sizeof(c->executable) && is_executable_file(c->executable)) return 0;
        if (*end == '\0') break;
        dir = end + 1;
    }
    c->executable[0] = '\0';
    return child_fail_code(c, 127, "exec: \"%s\": executable file not found in $PATH", name);
}

static int report_ready_and_wait_for_start(struct child *c) {
    char msg[16];
    int fd;
    if (sync_send(c->sync_fd, "ready", -1) < 0) return child_fail(c, "report ready");
    ssize_t n = sync_recv(c->sync_fd, msg, sizeof(msg), &fd);
    if (n <= 0 || strcmp(msg, "start") != 0) return child_fail_code(c, 125, "the shim went away before start");
    return 0;
}

typedef int (*process_step)(struct child *c);

static const process_step PROCESS_STEPS[] = {
    set_oom_score_adj, set_rlimits, enter_cwd, drop_bounding, load_seccomp_privileged,
    switch_user, set_capabilities, set_nnp, load_seccomp_last, find_executable,
    report_ready_and_wait_for_start,
};

noreturn void process_finish_and_exec(struct child *c) {
    for (size_t i = 0; i < sizeof(PROCESS_STEPS) / sizeof(PROCESS_STEPS[0]); i++)
        if (PROCESS_STEPS[i](c) < 0) child_exit_with_error(c);
    execve(c->executable, c->spec->process.args, c->spec->process.env);
    int err = errno;
    char text[64];
    errno_text(err, text);
    int code = err == ENOENT || err == ENOTDIR ? 127 : 126;
    child_fail_code(c, code, "exec: \"%s\": %s", c->spec->process.args[0], text);
    child_exit_with_error(c);
}
