#define _GNU_SOURCE
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mounts.h"
#include "sync.h"

static int wait_for_go(struct child *c) {
    char msg[16];
    int fd;
    ssize_t n = sync_recv(c->sync_fd, msg, sizeof(msg), &fd);
    if (n <= 0 || strcmp(msg, "go") != 0) return child_fail_code(c, 125, "the shim went away before setup");
    return 0;
}

// Created only now that the shim has put the process in its cgroups, so that the
// namespace's root is the container's cgroup (as /proc/self/cgroup shows "/").
static int enter_cgroup_namespace(struct child *c) {
    for (size_t i = 0; i < c->spec->nnamespaces; i++) {
        const struct spec_namespace *ns = &c->spec->namespaces[i];
        if (ns->flag == CLONE_NEWCGROUP && ns->path == NULL && unshare(CLONE_NEWCGROUP) < 0)
            return child_fail(c, "create the cgroup namespace");
    }
    return 0;
}

// Signals the shim ignores or blocks would stay that way across execve.
static int reset_signals(struct child *c) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) return child_fail(c, "reset the signal mask");
    return 0;
}

static int attach_stdio(struct child *c) {
    if (setsid() < 0) return child_fail(c, "setsid");
    for (int i = 0; i < 3; i++)
        if (c->stdio[i] >= 0 && dup2(c->stdio[i], i) < 0) return child_fail(c, "set up stdio");
    return 0;
}

static int join_namespaces(struct child *c) {
    for (int i = 0; i < SPEC_MAX_NAMESPACES && c->ns_fds[i] >= 0; i++)
        if (setns(c->ns_fds[i], c->ns_types[i]) < 0) return child_fail(c, "join namespace (setns %#x)", c->ns_types[i]);
    return 0;
}

static int write_sysctls(struct child *c) {
    for (size_t i = 0; i < c->spec->nsysctls; i++) {
        const struct spec_sysctl *s = &c->spec->sysctls[i];
        char path[256];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
        if (n < 0 || (size_t)n >= sizeof(path)) return child_fail_code(c, 125, "sysctl %s: name too long", s->key);
        for (char *p = path + 10; *p; p++)
            if (*p == '.') *p = '/';
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0) return child_fail(c, "sysctl %s", s->key);
        ssize_t w = write(fd, s->value, strlen(s->value));
        close(fd);
        if (w < 0) return child_fail(c, "sysctl %s=%s", s->key, s->value);
    }
    return 0;
}

static int set_hostname(struct child *c) {
    const struct spec *s = c->spec;
    if (s->hostname != NULL && sethostname(s->hostname, strlen(s->hostname)) < 0)
        return child_fail(c, "set hostname %s", s->hostname);
    if (s->domainname != NULL && setdomainname(s->domainname, strlen(s->domainname)) < 0)
        return child_fail(c, "set domainname %s", s->domainname);
    return 0;
}

static int bring_loopback_up(struct child *c) {
    for (size_t i = 0; i < c->spec->nnamespaces; i++) {
        const struct spec_namespace *ns = &c->spec->namespaces[i];
        if (ns->flag != CLONE_NEWNET || ns->path != NULL) continue;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return child_fail(c, "bring lo up: socket");
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strcpy(ifr.ifr_name, "lo");
        int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
        if (rc == 0) {
            ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
            rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        close(fd);
        if (rc < 0) return child_fail(c, "bring lo up");
    }
    return 0;
}

typedef int (*setup_step)(struct child *c);

// The order of docs/runtime.md, "Starting", step 4. The steps before wait_for_go run while
// the shim moves the process into its cgroups (the first move waits out an RCU grace period);
// none of them runs anything of the image, and the process only runs the image's program
// once it is in its cgroups.
static const setup_step CONTAINER_STEPS[] = {
    reset_signals,        attach_stdio,       join_namespaces,     make_mounts_private,
    mount_root,           mount_config_mounts, create_devices,     create_dev_symlinks,
    open_container_console, wait_for_go,      enter_cgroup_namespace, mount_cgroup_mounts,
    pivot_into_root,      write_sysctls,      mask_paths,          make_paths_readonly,
    make_root_readonly,   set_hostname,       bring_loopback_up,
};

static noreturn void container_child(struct child *c) {
    for (size_t i = 0; i < sizeof(CONTAINER_STEPS) / sizeof(CONTAINER_STEPS[0]); i++)
        if (CONTAINER_STEPS[i](c) < 0) child_exit_with_error(c);
    process_finish_and_exec(c);
}

static int clone_flags(const struct spec *s) {
    int flags = 0;
    for (size_t i = 0; i < s->nnamespaces; i++)
        if (s->namespaces[i].path == NULL && s->namespaces[i].flag != CLONE_NEWCGROUP) flags |= s->namespaces[i].flag;
    return flags;
}

pid_t container_spawn(struct child *c, int *sync_fd, char *err, size_t errlen) {
    int sv[2];
    if (sync_socketpair(sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    c->sync_fd = sv[1];
    // Raw clone behaves like fork (no new stack) but creates the namespaces; the child
    // never returns from container_child.
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)clone_flags(c->spec) | SIGCHLD, NULL, NULL, NULL, 0UL);
    if (pid < 0) {
        snprintf(err, errlen, "clone: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        container_child(c);
    }
    close(sv[1]);
    *sync_fd = sv[0];
    return pid;
}
