#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "daemon.h"
#include "exec.h"
#include "logfile.h"
#include "monitor.h"
#include "mounts.h"
#include "security.h"
#include "sync.h"

enum { ERR_MAX = 1200 };

// The paths a shim owns in the container directory; exec's are prefixed "exec-<id>.".
struct shim_files {
    char pid_file[160], control_socket[160], attach_socket[160], exit_file[160], log_file[200];
};

static noreturn void fail_before_detaching(const char *msg) {
    fprintf(stderr, "pier-shim: %s\n", msg);
    exit(125);
}

static void resolve_bundle(const struct shim_options *o, char bundle[PATH_MAX], char dir[PATH_MAX]) {
    char err[ERR_MAX];
    if (realpath(o->bundle, bundle) == NULL) {
        snprintf(err, sizeof(err), "bundle %s: %s", o->bundle, strerror(errno));
        fail_before_detaching(err);
    }
    // The container directory holds the bundle (docs/runtime.md, "Per-container directory").
    snprintf(dir, PATH_MAX, "%s", bundle);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash != NULL) *slash = '\0';
}

// Pipes for stdin, stdout and stderr: the child's ends in child[], the shim's in shim[].
static int make_stdio_pipes(int child[3], int shim[3], uid_t uid, gid_t gid) {
    for (int i = 0; i < 3; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) return -1;
        child[i] = i == 0 ? p[0] : p[1];
        shim[i] = i == 0 ? p[1] : p[0];
        // A process that is not root can still reopen /dev/stdout.
        if (fchown(child[i], uid, gid) < 0) { /* best effort */ }
    }
    return 0;
}

// What the monitor keeps once the spec is freed.
struct kept {
    char **cgroup_procs;
    size_t ncgroup_procs;
};

static void keep_cgroups(const struct spec *s, struct kept *k) {
    k->cgroup_procs = calloc(s->ncgroup_procs + 1, sizeof(char *));
    k->ncgroup_procs = 0;
    for (size_t i = 0; k->cgroup_procs != NULL && i < s->ncgroup_procs; i++) {
        k->cgroup_procs[i] = strdup(s->cgroup_procs[i]);
        if (k->cgroup_procs[i] != NULL) k->ncgroup_procs++;
    }
}

static void free_kept(struct kept *k) {
    for (size_t i = 0; i < k->ncgroup_procs; i++) free(k->cgroup_procs[i]);
    free(k->cgroup_procs);
}

static void block_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

typedef pid_t (*spawner)(struct child *c, int *sync_fd, char *err, size_t errlen);

// Detached: starts the process with `spawn`, puts it in its cgroups, lets it set up,
// frees the spec and monitors it until it exits.
static int start_and_monitor(struct spec *spec, struct seccomp_program *seccomp, struct child *c, spawner spawn,
                             const struct shim_files *f, int control_fd, int attach_fd, struct logfile *log,
                             bool stdin_once, const char *early_error) {
    char err[ERR_MAX] = "";
    int stdio_child[3] = {-1, -1, -1}, stdio_shim[3] = {-1, -1, -1};
    struct monitor_setup m = {.pid = -1, .sync_fd = -1, .mount_ns_fd = -1, .terminal = spec->process.terminal,
                              .stdin_once = stdin_once, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                              .control_listen = control_fd, .attach_listen = attach_fd,
                              .control_path = f->control_socket, .attach_path = f->attach_socket,
                              .exit_path = f->exit_file, .log = log};
    if (early_error != NULL) snprintf(err, sizeof(err), "%s", early_error);
    block_sigchld();
    if (err[0] == '\0' && !spec->process.terminal &&
        make_stdio_pipes(stdio_child, stdio_shim, spec->process.uid, spec->process.gid) < 0)
        snprintf(err, sizeof(err), "create stdio pipes: %s", strerror(errno));
    for (int i = 0; i < 3; i++) c->stdio[i] = stdio_child[i];
    pid_t pid = -1;
    int sync_fd = -1;
    if (err[0] == '\0') pid = spawn(c, &sync_fd, err, sizeof(err));
    if (pid > 0 && spawn == container_spawn) {
        // The child was cloned into its namespaces: this is its mount namespace already.
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        m.mount_ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    for (int i = 0; i < 3; i++)
        if (stdio_child[i] >= 0) close(stdio_child[i]);
    for (int i = 0; i < SPEC_MAX_NAMESPACES; i++)
        if (c->ns_fds[i] >= 0) close(c->ns_fds[i]);

    struct kept kept;
    keep_cgroups(spec, &kept);
    bool child_gone = false;
    if (pid > 0 && cgroup_join((const char *const *)kept.cgroup_procs, kept.ncgroup_procs, pid, err, sizeof(err)) < 0) {
        if (errno == ESRCH) {
            // The child failed its first setup steps and exited: the monitor reports its message.
            err[0] = '\0';
            child_gone = true;
        } else {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pid = -1;
        }
    }
    if (pid > 0 && !child_gone) {
        m.oom_kills_before = cgroup_oom_kills((const char *const *)kept.cgroup_procs, kept.ncgroup_procs);
        // A child that failed an early step has gone already; its message waits on sync_fd.
        (void)sync_send(sync_fd, "go", -1);
    }
    if (pid <= 0) {
        for (int i = 0; i < 3; i++)
            if (stdio_shim[i] >= 0) close(stdio_shim[i]);
        stdio_shim[0] = stdio_shim[1] = stdio_shim[2] = -1;
        if (sync_fd >= 0) close(sync_fd);
        sync_fd = -1;
    }
    // The child has its own copy: the monitor keeps only what it needs.
    seccomp_program_free(seccomp);
    spec_free(spec);
    malloc_trim(0);

    m.pid = pid;
    m.error = err;
    m.sync_fd = sync_fd;
    m.stdin_fd = stdio_shim[0];
    m.stdout_fd = stdio_shim[1];
    m.stderr_fd = stdio_shim[2];
    m.cgroup_procs = (const char *const *)kept.cgroup_procs;
    m.ncgroup_procs = kept.ncgroup_procs;
    int rc = monitor_run(&m);
    free_kept(&kept);
    return rc;
}

static void init_child(struct child *c, const struct spec *s, const struct seccomp_program *p) {
    memset(c, 0, sizeof(*c));
    c->spec = s;
    c->seccomp = p;
    c->last_cap = capability_last();
    c->sync_fd = -1;
    c->rootfd = -1;
    c->console = -1;
    for (int i = 0; i < SPEC_MAX_NAMESPACES; i++) c->ns_fds[i] = -1;
    for (int i = 0; i < 3; i++) c->stdio[i] = -1;
}

// Namespaces config.json names by path are joined: pid by the shim (its children enter
// it), the others by the child.
static int open_namespace_paths(const struct spec *s, struct child *c, char *err, size_t errlen) {
    size_t n = 0;
    for (size_t i = 0; i < s->nnamespaces; i++) {
        const struct spec_namespace *ns = &s->namespaces[i];
        if (ns->path == NULL) continue;
        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return snprintf(err, errlen, "open namespace %s: %s", ns->path, strerror(errno)), -1;
        if (ns->flag == CLONE_NEWPID) {
            int rc = setns(fd, CLONE_NEWPID);
            close(fd);
            if (rc < 0) return snprintf(err, errlen, "join pid namespace %s: %s", ns->path, strerror(errno)), -1;
            continue;
        }
        c->ns_fds[n] = fd;
        c->ns_types[n] = ns->flag;
        n++;
    }
    return 0;
}

int shim_run(const struct shim_options *o) {
    char bundle[PATH_MAX], dir[PATH_MAX], err[ERR_MAX];
    struct spec spec;
    struct seccomp_program seccomp;
    struct child c;
    resolve_bundle(o, bundle, dir);
    if (spec_load_config(&spec, bundle, err, sizeof(err)) < 0) fail_before_detaching(err);
    if (seccomp_compile_cached(spec.seccomp, spec.seccomp_cache, &seccomp, err, sizeof(err)) < 0)
        fail_before_detaching(err);
    init_child(&c, &spec, &seccomp);
    c.create_cwd = true;
    if (overlay_prepare(&spec, &spec.arena, &c.overlay_options, &c.overlay_dir, err, sizeof(err)) < 0)
        fail_before_detaching(err);

    struct shim_files f;
    snprintf(f.pid_file, sizeof(f.pid_file), "shim.pid");
    snprintf(f.control_socket, sizeof(f.control_socket), "control.sock");
    snprintf(f.attach_socket, sizeof(f.attach_socket), "attach.sock");
    snprintf(f.exit_file, sizeof(f.exit_file), "exit");
    snprintf(f.log_file, sizeof(f.log_file), "%s-json.log", o->id);
    unlink(f.exit_file);
    int control_fd, attach_fd;
    struct daemon_files df = {f.pid_file, f.control_socket, f.attach_socket};
    daemonize(dir, &df, &control_fd, &attach_fd);
    unlink(f.exit_file);   // a previous run's; relative to the container directory now

    struct logfile log;
    const char *early = NULL;
    if (logfile_open(&log, f.log_file, o->log_max_size, o->log_max_files) < 0) {
        snprintf(err, sizeof(err), "open log %s: %s", f.log_file, strerror(errno));
        early = err;
    } else if (open_namespace_paths(&spec, &c, err, sizeof(err)) < 0) {
        early = err;
    }
    int rc = start_and_monitor(&spec, &seccomp, &c, container_spawn, &f, control_fd, attach_fd,
                               log.fd >= 0 ? &log : NULL, spec.stdin_once, early);
    if (log.fd >= 0) logfile_close(&log);
    return rc;
}

int shim_exec(const struct shim_options *o) {
    char bundle[PATH_MAX], dir[PATH_MAX], process[PATH_MAX], err[ERR_MAX];
    struct spec spec;
    struct seccomp_program seccomp;
    struct child c;
    resolve_bundle(o, bundle, dir);
    if (realpath(o->process, process) == NULL) {
        snprintf(err, sizeof(err), "process %s: %s", o->process, strerror(errno));
        fail_before_detaching(err);
    }
    if (spec_load_config(&spec, bundle, err, sizeof(err)) < 0) fail_before_detaching(err);
    if (spec_load_process(&spec, process, err, sizeof(err)) < 0) fail_before_detaching(err);
    if (seccomp_compile_cached(spec.seccomp, spec.seccomp_cache, &seccomp, err, sizeof(err)) < 0)
        fail_before_detaching(err);
    if (kill(o->pid, 0) < 0) {
        snprintf(err, sizeof(err), "container process %d: %s", (int)o->pid, strerror(errno));
        fail_before_detaching(err);
    }
    init_child(&c, &spec, &seccomp);
    c.join_pid = o->pid;

    struct shim_files f;
    snprintf(f.pid_file, sizeof(f.pid_file), "exec-%s.shim.pid", o->id);
    snprintf(f.control_socket, sizeof(f.control_socket), "exec-%s.control.sock", o->id);
    snprintf(f.attach_socket, sizeof(f.attach_socket), "exec-%s.attach.sock", o->id);
    snprintf(f.exit_file, sizeof(f.exit_file), "exec-%s.exit", o->id);
    int control_fd, attach_fd;
    struct daemon_files df = {f.pid_file, f.control_socket, f.attach_socket};
    daemonize(dir, &df, &control_fd, &attach_fd);
    unlink(f.exit_file);
    // Docker closes an exec's stdin when the attached client's input ends.
    return start_and_monitor(&spec, &seccomp, &c, exec_spawn, &f, control_fd, attach_fd, NULL, true, NULL);
}
