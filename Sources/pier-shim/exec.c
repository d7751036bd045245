#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync.h"

struct ns_file {
    const char *name;
    int type;
};

// setns order: the mount namespace last, so that /proc/<pid>/ns paths stay reachable.
static const struct ns_file NS_FILES[] = {
    {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
    {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

static bool same_namespace(const char *name, pid_t target) {
    char mine[64], theirs[64];
    struct stat a, b;
    snprintf(mine, sizeof(mine), "/proc/self/ns/%s", name);
    snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)target, name);
    return stat(mine, &a) == 0 && stat(theirs, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int open_namespace(pid_t target, const char *name, char *err, size_t errlen) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) snprintf(err, errlen, "open %s: %s (is the container running?)", path, strerror(errno));
    return fd;
}

static int open_namespaces(struct child *c, pid_t target, char *err, size_t errlen) {
    size_t n = 0;
    for (size_t i = 0; i < sizeof(NS_FILES) / sizeof(NS_FILES[0]); i++) {
        if (same_namespace(NS_FILES[i].name, target)) continue;
        int fd = open_namespace(target, NS_FILES[i].name, err, errlen);
        if (fd < 0) return -1;
        c->ns_fds[n] = fd;
        c->ns_types[n] = NS_FILES[i].type;
        n++;
    }
    if (!same_namespace("pid", target)) {
        int fd = open_namespace(target, "pid", err, errlen);
        if (fd < 0) return -1;
        // Only the shim's children enter it; the shim itself stays where it is.
        int rc = setns(fd, CLONE_NEWPID);
        close(fd);
        if (rc < 0) {
            snprintf(err, errlen, "join the pid namespace of %d: %s", (int)target, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static noreturn void exec_child(struct child *c) {
    char msg[16];
    int fd;
    if (sync_recv(c->sync_fd, msg, sizeof(msg), &fd) <= 0 || strcmp(msg, "go") != 0) _exit(125);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0) { child_fail(c, "setsid"); child_exit_with_error(c); }
    for (int i = 0; i < 3; i++)
        if (c->stdio[i] >= 0 && dup2(c->stdio[i], i) < 0) { child_fail(c, "set up stdio"); child_exit_with_error(c); }
    for (int i = 0; i < SPEC_MAX_NAMESPACES && c->ns_fds[i] >= 0; i++) {
        if (setns(c->ns_fds[i], c->ns_types[i]) < 0) {
            child_fail(c, "join the container's namespace (setns %#x)", c->ns_types[i]);
            child_exit_with_error(c);
        }
    }
    if (chdir("/") < 0) { child_fail(c, "chdir /"); child_exit_with_error(c); }
    if (c->spec->process.terminal) {
        int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0) master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0) { child_fail(c, "open a terminal"); child_exit_with_error(c); }
        if (console_attach(c, master) < 0) child_exit_with_error(c);
    }
    process_finish_and_exec(c);
}

pid_t exec_spawn(struct child *c, int *sync_fd, char *err, size_t errlen) {
    int sv[2];
    if (open_namespaces(c, c->join_pid, err, errlen) < 0) return -1;
    if (sync_socketpair(sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    c->sync_fd = sv[1];
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork into the container: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        exec_child(c);
    }
    close(sv[1]);
    *sync_fd = sv[0];
    return pid;
}
