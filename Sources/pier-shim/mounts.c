#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

typedef char procfd_path[32];

static const char *fd_path(procfd_path out, int fd) {
    snprintf(out, sizeof(procfd_path), "/proc/self/fd/%d", fd);
    return out;
}

// Opens `path` inside the container's root: symlinks and ".." resolve as if the root
// were "/", so an image cannot point a mount at the host.
static int open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*path == '/') path++;
    if (*path == '\0') path = ".";
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

// Splits a copy of `path` into its parent and last component. Returns -1 (ENAMETOOLONG) or 0.
static int split_path(const char *path, char parent[PATH_MAX], const char **base) {
    size_t n = strlen(path);
    if (n >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    memcpy(parent, path, n + 1);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash == NULL) { *base = parent; return 0; }
    *slash = '\0';
    *base = slash + 1;
    return 0;
}

static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
    char prefix[PATH_MAX];
    size_t n = strlen(path);
    if (n >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    for (size_t i = 1; i <= n; i++) {
        if (i < n && path[i] != '/') continue;
        if (path[i - 1] == '/') continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        int fd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
        if (fd >= 0) { close(fd); continue; }
        if (errno != ENOENT) return -1;
        char parent[PATH_MAX];
        const char *base;
        if (split_path(prefix, parent, &base) < 0) return -1;
        int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0) return -1;
        int rc = mkdirat(pfd, base, mode);
        int err = errno;
        close(pfd);
        if (rc < 0 && err != EEXIST) { errno = err; return -1; }
    }
    return 0;
}

// Makes sure the mount point exists (a directory, or an empty file for a file bind)
// and returns an O_PATH descriptor of it.
static int prepare_mount_point(int rootfd, const char *path, bool directory) {
    if (directory) {
        if (mkdir_in_root(rootfd, path, 0755) < 0) return -1;
        return open_in_root(rootfd, path, O_PATH);
    }
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd >= 0 || errno != ENOENT) return fd;
    char parent[PATH_MAX];
    const char *base;
    if (split_path(path, parent, &base) < 0) return -1;
    if (mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
    int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
    if (pfd < 0) return -1;
    int file = openat(pfd, base, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    int err = errno;
    close(pfd);
    if (file < 0 && err != EEXIST) { errno = err; return -1; }
    if (file >= 0) close(file);
    return open_in_root(rootfd, path, O_PATH);
}

int make_mounts_private(struct child *c) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return child_fail(c, "make / rprivate");
    return 0;
}

int mount_root(struct child *c) {
    const struct spec *s = c->spec;
    if (c->overlay_options != NULL) {
        if (c->overlay_dir != NULL && chdir(c->overlay_dir) < 0)
            return child_fail(c, "mount overlay: chdir %s", c->overlay_dir);
        // EBUSY: the upper directory is still in use by this container's previous run, whose
        // mount namespace its shim lets go only after reporting the exit (monitor.h); with
        // overlayfs' index feature on, the kernel refuses a second mount until then (~2 ms).
        int tries = 0;
        while (mount("overlay", s->root_path, "overlay", 0, c->overlay_options) < 0) {
            if (errno != EBUSY || ++tries > 100) return child_fail(c, "mount overlay on %s", s->root_path);
            usleep(1000);
        }
        if (chdir("/") < 0) return child_fail(c, "chdir /");
    } else if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        return child_fail(c, "bind %s onto itself", s->root_path);
    }
    c->rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->rootfd < 0) return child_fail(c, "open root %s", s->root_path);
    return 0;
}

// Reopens a mount point after something was mounted on it: the old descriptor still
// names the directory underneath.
static int reopen_mount_point(struct child *c, int *fd, const char *destination) {
    close(*fd);
    *fd = open_in_root(c->rootfd, destination, O_PATH);
    if (*fd < 0) return child_fail(c, "open %s after mounting it", destination);
    return 0;
}

static int mount_bind(struct child *c, const struct spec_mount *m, int *fd) {
    procfd_path target;
    unsigned long flags = MS_BIND | (m->recursive ? MS_REC : 0);
    if (mount(m->source, fd_path(target, *fd), NULL, flags, NULL) < 0)
        return child_fail(c, "bind %s on %s", m->source, m->destination);
    unsigned long extra = m->flags & ~MS_REMOUNT;
    if (extra == 0) return 0;
    if (reopen_mount_point(c, fd, m->destination) < 0) return -1;
    if (mount(NULL, fd_path(target, *fd), NULL, MS_BIND | MS_REMOUNT | (m->recursive ? MS_REC : 0) | extra, NULL) < 0)
        return child_fail(c, "remount bind %s with its options", m->destination);
    return 0;
}

// Finds the container's own directory in the cgroup2 tree (one of org.pier.cgroup.procs).
static bool own_cgroup2_directory(const struct spec *s, char *dir, size_t size) {
    for (size_t i = 0; i < s->ncgroup_procs; i++) {
        const char *slash = strrchr(s->cgroup_procs[i], '/');
        if (slash == NULL || (size_t)(slash - s->cgroup_procs[i]) >= size) continue;
        snprintf(dir, size, "%.*s", (int)(slash - s->cgroup_procs[i]), s->cgroup_procs[i]);
        struct statfs fs;
        if (statfs(dir, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return true;
    }
    return false;
}

// /sys/fs/cgroup: the container's own cgroup2 directory, bound there with the mount's flags, as
// runc does. It shows what a cgroup namespace would, and never the host's tree. (A new cgroup2
// mount would show the host's whole tree without a cgroup namespace, and costs 10-20 ms here:
// the kernel waits for cgroups being destroyed, such as the previous container's.) Without
// cgroups (no annotation) a fresh mount is the fallback; on hosts without cgroup2, nothing.
static int mount_cgroup(struct child *c, const struct spec_mount *m, int *fd) {
    char dir[PATH_MAX];
    if (!own_cgroup2_directory(c->spec, dir, sizeof(dir))) {
        procfd_path target;
        (void)mount("cgroup2", fd_path(target, *fd), "cgroup2", m->flags, NULL);
        return 0;
    }
    struct spec_mount own = *m;
    own.source = dir;
    own.bind = true;
    own.recursive = false;
    return mount_bind(c, &own, fd);
}

static int mount_filesystem(struct child *c, const struct spec_mount *m, int *fd) {
    procfd_path target;
    const char *type = m->type;
    if (strcmp(type, "cgroup") == 0) return mount_cgroup(c, m, fd);
    if (mount(m->source, fd_path(target, *fd), type, m->flags, m->data) < 0)
        return child_fail(c, "mount %s on %s", type, m->destination);
    return 0;
}

static int mount_one(struct child *c, const struct spec_mount *m) {
    bool directory = true;
    if (m->bind) {
        struct stat st;
        if (stat(m->source, &st) < 0) return child_fail(c, "bind source %s", m->source);
        directory = S_ISDIR(st.st_mode);
    }
    int fd = prepare_mount_point(c->rootfd, m->destination, directory);
    if (fd < 0) return child_fail(c, "create mount point %s", m->destination);
    int rc = m->bind ? mount_bind(c, m, &fd) : mount_filesystem(c, m, &fd);
    if (rc == 0 && m->propagation != 0) {
        procfd_path target;
        rc = reopen_mount_point(c, &fd, m->destination);
        if (rc == 0 && mount(NULL, fd_path(target, fd), NULL, m->propagation, NULL) < 0)
            rc = child_fail(c, "set propagation of %s", m->destination);
    }
    close(fd);
    return rc;
}

static bool is_cgroup_mount(const struct spec_mount *m) {
    return !m->bind && strcmp(m->type, "cgroup") == 0;
}

// Every mount but cgroupfs, which must wait for the cgroup namespace (mount_cgroup_mounts):
// this runs while the shim is still moving the process into its cgroups.
int mount_config_mounts(struct child *c) {
    for (size_t i = 0; i < c->spec->nmounts; i++)
        if (!is_cgroup_mount(&c->spec->mounts[i]) && mount_one(c, &c->spec->mounts[i]) < 0) return -1;
    return 0;
}

int mount_cgroup_mounts(struct child *c) {
    for (size_t i = 0; i < c->spec->nmounts; i++)
        if (is_cgroup_mount(&c->spec->mounts[i]) && mount_one(c, &c->spec->mounts[i]) < 0) return -1;
    return 0;
}

static int make_node(struct child *c, const char *path, mode_t type, unsigned major, unsigned minor, mode_t mode,
                     uid_t uid, gid_t gid) {
    char parent[PATH_MAX];
    const char *base;
    if (split_path(path, parent, &base) < 0 || mkdir_in_root(c->rootfd, parent, 0755) < 0)
        return child_fail(c, "create the directory of %s", path);
    int pfd = open_in_root(c->rootfd, parent, O_PATH | O_DIRECTORY);
    if (pfd < 0) return child_fail(c, "open the directory of %s", path);
    int rc = 0;
    if (mknodat(pfd, base, type | mode, makedev(major, minor)) == 0) {
        if (fchmodat(pfd, base, mode, 0) < 0) rc = child_fail(c, "chmod device %s", path);
        else if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) rc = child_fail(c, "chown device %s", path);
    } else if (errno != EEXIST) {
        rc = child_fail(c, "mknod device %s", path);
    }
    close(pfd);
    return rc;
}

int create_devices(struct child *c) {
    static const struct { const char *path; unsigned major, minor; } DEFAULTS[] = {
        {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
        {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
    };
    for (size_t i = 0; i < c->spec->ndevices; i++) {
        const struct spec_device *d = &c->spec->devices[i];
        if (make_node(c, d->path, d->type, d->major, d->minor, d->mode, d->uid, d->gid) < 0) return -1;
    }
    // The runtime spec promises these even when config.json does not list them.
    for (size_t i = 0; i < sizeof(DEFAULTS) / sizeof(DEFAULTS[0]); i++)
        if (make_node(c, DEFAULTS[i].path, S_IFCHR, DEFAULTS[i].major, DEFAULTS[i].minor, 0666, 0, 0) < 0) return -1;
    return 0;
}

int create_dev_symlinks(struct child *c) {
    static const struct { const char *target, *name; } LINKS[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
    };
    if (mkdir_in_root(c->rootfd, "/dev", 0755) < 0) return child_fail(c, "create /dev");
    int dev = open_in_root(c->rootfd, "/dev", O_PATH | O_DIRECTORY);
    if (dev < 0) return child_fail(c, "open /dev");
    for (size_t i = 0; i < sizeof(LINKS) / sizeof(LINKS[0]); i++) {
        if (symlinkat(LINKS[i].target, dev, LINKS[i].name) < 0 && errno != EEXIST) {
            close(dev);
            return child_fail(c, "symlink /dev/%s", LINKS[i].name);
        }
    }
    close(dev);
    return 0;
}

int open_container_console(struct child *c) {
    if (!c->spec->process.terminal) return 0;
    // A pty of the container's own devpts instance (so `tty` names /dev/pts/0), or the
    // host's when the config mounts no devpts.
    int master = open_in_root(c->rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY);
    if (master < 0 && errno == ENOENT) master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return child_fail(c, "open a terminal");
    if (console_attach(c, master) < 0) return -1;
    int fd = prepare_mount_point(c->rootfd, "/dev/console", false);
    if (fd < 0) return child_fail(c, "create /dev/console");
    procfd_path source, target;
    fd_path(source, c->console);
    if (mount(source, fd_path(target, fd), NULL, MS_BIND, NULL) < 0) {
        close(fd);
        return child_fail(c, "bind the terminal on /dev/console");
    }
    close(fd);
    return 0;
}

int pivot_into_root(struct child *c) {
    int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
    if (oldroot < 0) return child_fail(c, "open /");
    int rc = 0;
    if (fchdir(c->rootfd) < 0) rc = child_fail(c, "chdir to the root");
    else if (syscall(SYS_pivot_root, ".", ".") < 0) rc = child_fail(c, "pivot_root");
    else if (fchdir(oldroot) < 0) rc = child_fail(c, "chdir to the old root");
    else if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0) rc = child_fail(c, "make the old root rslave");
    else if (umount2(".", MNT_DETACH) < 0) rc = child_fail(c, "unmount the old root");
    else if (chdir("/") < 0) rc = child_fail(c, "chdir /");
    close(oldroot);
    close(c->rootfd);
    c->rootfd = -1;
    return rc;
}

int mask_paths(struct child *c) {
    for (size_t i = 0; i < c->spec->nmasked; i++) {
        const char *path = c->spec->masked_paths[i];
        struct stat st;
        if (stat(path, &st) < 0) {
            if (errno == ENOENT || errno == EACCES) continue;
            return child_fail(c, "mask %s", path);
        }
        int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL)
                                     : mount("/dev/null", path, NULL, MS_BIND, NULL);
        if (rc < 0) return child_fail(c, "mask %s", path);
    }
    return 0;
}

// The flags a read-only remount must keep: a bind remount replaces them all.
static unsigned long kept_flags(const char *path) {
    struct statvfs sfs;
    if (statvfs(path, &sfs) < 0) return 0;
    unsigned long flags = 0;
    if (sfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sfs.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

int make_paths_readonly(struct child *c) {
    for (size_t i = 0; i < c->spec->nreadonly; i++) {
        const char *path = c->spec->readonly_paths[i];
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT || errno == EACCES) continue;
            return child_fail(c, "bind %s read-only", path);
        }
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | kept_flags(path), NULL) < 0)
            return child_fail(c, "remount %s read-only", path);
    }
    return 0;
}

int make_root_readonly(struct child *c) {
    if (!c->spec->root_readonly) return 0;
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags("/"), NULL) < 0)
        return child_fail(c, "remount / read-only");
    return 0;
}

// Length of the directory prefix that `a` and `b` share (ending before a '/').
static size_t common_directory(const char *a, size_t alen, const char *b) {
    size_t i = 0, last_slash = 0;
    while (i < alen && b[i] != '\0' && a[i] == b[i]) {
        if (a[i] == '/') last_slash = i;
        i++;
    }
    if (i == alen && (b[i] == '/' || b[i] == '\0')) return i;   // a is a directory above b
    return last_slash;
}

static size_t build_overlay_options(const struct spec *s, size_t skip, char *out, size_t cap) {
    size_t n = 0;
    const char *lower = s->overlay_lower;
#define PUT(str, len) do { if (out != NULL && n + (len) < cap) memcpy(out + n, (str), (len)); n += (len); } while (0)
    PUT("lowerdir=", 9);
    for (const char *p = lower; *p;) {
        const char *end = strchrnul(p, ':');
        if (end > p) {
            if (p != lower) PUT(":", 1);
            PUT(p + skip, (size_t)(end - p) - skip);
        }
        p = *end ? end + 1 : end;
    }
    if (s->overlay_upper != NULL) {
        PUT(",upperdir=", 10);
        PUT(s->overlay_upper + skip, strlen(s->overlay_upper) - skip);
        PUT(",workdir=", 9);
        PUT(s->overlay_work + skip, strlen(s->overlay_work) - skip);
    }
#undef PUT
    if (out != NULL && n < cap) out[n] = '\0';
    return n;
}

int overlay_prepare(const struct spec *s, struct arena *a, const char **options, const char **dir, char *err,
                    size_t errlen) {
    *options = NULL;
    *dir = NULL;
    if (s->overlay_lower == NULL) return 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t skip = 0;
    size_t len = build_overlay_options(s, 0, NULL, 0);
    if (len >= page) {
        // The common parent of every layer, the upper and the work directory.
        const char *first = s->overlay_lower;
        size_t common = (size_t)(strchrnul(first, ':') - first);
        for (const char *p = first; *p;) {
            const char *end = strchrnul(p, ':');
            char one[PATH_MAX];
            snprintf(one, sizeof(one), "%.*s", (int)(end - p), p);
            if (end > p) common = common_directory(first, common, one);
            p = *end ? end + 1 : end;
        }
        if (s->overlay_upper != NULL) {
            common = common_directory(first, common, s->overlay_upper);
            common = common_directory(first, common, s->overlay_work);
        }
        if (common == 0 || first[0] != '/') {
            snprintf(err, errlen, "overlay: the options are %zu bytes and the layers share no parent directory", len);
            return -1;
        }
        char *parent = arena_strndup(a, first, common);
        if (parent == NULL) return snprintf(err, errlen, "out of memory"), -1;
        *dir = parent;
        skip = common + 1;
        len = build_overlay_options(s, skip, NULL, 0);
        if (len >= page) {
            snprintf(err, errlen, "overlay: the options are %zu bytes even relative to %s (the limit is %zu)", len,
                     parent, page - 1);
            return -1;
        }
    }
    char *out = arena_alloc(a, len + 1);
    if (out == NULL) return snprintf(err, errlen, "out of memory"), -1;
    build_overlay_options(s, skip, out, len + 1);
    *options = out;
    return 0;
}
