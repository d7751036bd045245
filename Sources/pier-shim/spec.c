#define _GNU_SOURCE
#include "spec.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "security.h"

enum { CONFIG_MAX_BYTES = 16 * 1024 * 1024 };

static const char DEFAULT_PATH[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct reader {
    struct spec *spec;
    const char *file;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct reader *r, const char *fmt, ...) {
    int n = snprintf(r->err, r->errlen, "%s: ", r->file);
    if (n < 0 || (size_t)n >= r->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void *alloc(struct reader *r, size_t count, size_t size) {
    if (size != 0 && count > ((size_t)-1 / 2) / size) return NULL;
    return arena_alloc(&r->spec->arena, count * size);
}

// An array of strings as a NULL-terminated vector; a missing field gives an empty one.
static int read_strings(struct reader *r, const struct json *v, const char *field, char ***out, size_t *count) {
    if (v != NULL && v->type != JSON_ARRAY && v->type != JSON_NULL)
        return bad(r, "%s must be an array of strings", field);
    size_t n = v != NULL && v->type == JSON_ARRAY ? v->count : 0;
    char **list = alloc(r, n + 1, sizeof(*list));
    if (list == NULL) return bad(r, "out of memory");
    size_t i = 0;
    for (const struct json *e = json_items(v); e != NULL; e = e->next) {
        if (e->type != JSON_STRING) return bad(r, "%s[%zu] must be a string", field, i);
        list[i++] = (char *)e->str;
    }
    *out = list;
    if (count != NULL) *count = n;
    return 0;
}

static int read_u32(struct reader *r, const struct json *v, const char *field, uint32_t *out) {
    uint64_t u;
    if (v == NULL || v->type == JSON_NULL) return 0;
    if (!json_u64(v, &u) || u > UINT32_MAX) return bad(r, "%s must be an integer from 0 to 4294967295", field);
    *out = (uint32_t)u;
    return 0;
}

// ---- mounts ---------------------------------------------------------------------

struct mount_option {
    const char *name;
    unsigned long flag;
    bool clear;
};

static const struct mount_option FLAG_OPTIONS[] = {
    {"ro", MS_RDONLY, false},           {"rw", MS_RDONLY, true},
    {"nosuid", MS_NOSUID, false},       {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},         {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},       {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},    {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},     {"remount", MS_REMOUNT, false},
    {"mand", MS_MANDLOCK, false},       {"nomand", MS_MANDLOCK, true},
    {"noatime", MS_NOATIME, false},     {"atime", MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, false}, {"diratime", MS_NODIRATIME, true},
    {"relatime", MS_RELATIME, false},   {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false}, {"nostrictatime", MS_STRICTATIME, true},
};

static const struct mount_option PROPAGATION_OPTIONS[] = {
    {"private", MS_PRIVATE, false},     {"rprivate", MS_PRIVATE | MS_REC, false},
    {"shared", MS_SHARED, false},       {"rshared", MS_SHARED | MS_REC, false},
    {"slave", MS_SLAVE, false},         {"rslave", MS_SLAVE | MS_REC, false},
    {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE | MS_REC, false},
};

static bool apply_named_option(const struct mount_option *table, size_t n, const char *name, unsigned long *flags) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) != 0) continue;
        if (table[i].clear) *flags &= ~table[i].flag;
        else *flags |= table[i].flag;
        return true;
    }
    return false;
}

static int read_mount(struct reader *r, const struct json *m, size_t index, struct spec_mount *out) {
    out->destination = json_str(json_get(m, "destination"));
    if (out->destination == NULL || out->destination[0] != '/')
        return bad(r, "mounts[%zu].destination must be an absolute path", index);
    out->type = json_str(json_get(m, "type"));
    out->source = json_str(json_get(m, "source"));
    if (out->type == NULL) out->type = "none";
    if (strcmp(out->type, "bind") == 0) out->bind = true;

    const struct json *options = json_get(m, "options");
    if (options != NULL && options->type != JSON_ARRAY && options->type != JSON_NULL)
        return bad(r, "mounts[%zu].options must be an array of strings", index);
    size_t datalen = 0;
    for (const struct json *o = json_items(options); o != NULL; o = o->next) {
        if (o->type != JSON_STRING) return bad(r, "mounts[%zu].options must be an array of strings", index);
        datalen += o->len + 1;
    }
    char *data = alloc(r, datalen + 1, 1);
    if (data == NULL) return bad(r, "out of memory");
    size_t used = 0;
    for (const struct json *o = json_items(options); o != NULL; o = o->next) {
        const char *name = o->str;
        if (strcmp(name, "bind") == 0) { out->bind = true; continue; }
        if (strcmp(name, "rbind") == 0) { out->bind = out->recursive = true; continue; }
        if (strcmp(name, "tmpcopyup") == 0) continue;   // a crun extension Pier does not need
        if (apply_named_option(FLAG_OPTIONS, sizeof(FLAG_OPTIONS) / sizeof(FLAG_OPTIONS[0]), name, &out->flags))
            continue;
        if (apply_named_option(PROPAGATION_OPTIONS, sizeof(PROPAGATION_OPTIONS) / sizeof(PROPAGATION_OPTIONS[0]),
                               name, &out->propagation))
            continue;
        if (used > 0) data[used++] = ',';
        memcpy(data + used, name, o->len);
        used += o->len;
    }
    data[used] = '\0';
    out->data = used > 0 ? data : NULL;
    if (out->bind && out->source == NULL) return bad(r, "mounts[%zu] is a bind mount without a source", index);
    if (out->source == NULL) out->source = out->type;
    return 0;
}

static int read_mounts(struct reader *r, const struct json *mounts) {
    if (mounts == NULL || mounts->type == JSON_NULL) return 0;
    if (mounts->type != JSON_ARRAY) return bad(r, "mounts must be an array");
    struct spec *s = r->spec;
    s->mounts = alloc(r, mounts->count, sizeof(*s->mounts));
    if (s->mounts == NULL && mounts->count > 0) return bad(r, "out of memory");
    for (const struct json *m = mounts->child; m != NULL; m = m->next) {
        if (m->type != JSON_OBJECT) return bad(r, "mounts[%zu] must be an object", s->nmounts);
        if (read_mount(r, m, s->nmounts, &s->mounts[s->nmounts]) < 0) return -1;
        s->nmounts++;
    }
    return 0;
}

// ---- linux ----------------------------------------------------------------------

struct namespace_name {
    const char *name;
    int flag;
};

static const struct namespace_name NAMESPACES[] = {
    {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"network", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
};

static int read_namespaces(struct reader *r, const struct json *list) {
    struct spec *s = r->spec;
    if (list != NULL && list->type != JSON_ARRAY && list->type != JSON_NULL)
        return bad(r, "linux.namespaces must be an array");
    for (const struct json *n = json_items(list); n != NULL; n = n->next) {
        const char *type = json_str(json_get(n, "type"));
        if (type == NULL) return bad(r, "linux.namespaces[%zu].type must be a string", s->nnamespaces);
        int flag = 0;
        for (size_t i = 0; i < sizeof(NAMESPACES) / sizeof(NAMESPACES[0]); i++)
            if (strcmp(NAMESPACES[i].name, type) == 0) flag = NAMESPACES[i].flag;
        if (flag == 0) return bad(r, "linux.namespaces: namespace type \"%s\" is not supported", type);
        if (spec_has_namespace(s, flag)) return bad(r, "linux.namespaces: \"%s\" is listed twice", type);
        const char *path = json_str(json_get(n, "path"));
        s->namespaces[s->nnamespaces].flag = flag;
        s->namespaces[s->nnamespaces].path = path != NULL && path[0] != '\0' ? path : NULL;
        s->nnamespaces++;
    }
    if (!spec_has_namespace(s, CLONE_NEWNS)) return bad(r, "linux.namespaces must include a mount namespace");
    return 0;
}

static int read_devices(struct reader *r, const struct json *list) {
    struct spec *s = r->spec;
    if (list == NULL || list->type == JSON_NULL) return 0;
    if (list->type != JSON_ARRAY) return bad(r, "linux.devices must be an array");
    s->devices = alloc(r, list->count, sizeof(*s->devices));
    if (s->devices == NULL && list->count > 0) return bad(r, "out of memory");
    for (const struct json *d = list->child; d != NULL; d = d->next) {
        struct spec_device *dev = &s->devices[s->ndevices];
        size_t i = s->ndevices;
        dev->path = json_str(json_get(d, "path"));
        if (dev->path == NULL || strncmp(dev->path, "/dev/", 5) != 0)
            return bad(r, "linux.devices[%zu].path must be a path under /dev", i);
        const char *type = json_str(json_get(d, "type"));
        if (type == NULL) return bad(r, "linux.devices[%zu].type must be a string", i);
        if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0) dev->type = S_IFCHR;
        else if (strcmp(type, "b") == 0) dev->type = S_IFBLK;
        else if (strcmp(type, "p") == 0) dev->type = S_IFIFO;
        else return bad(r, "linux.devices[%zu].type \"%s\" is not c, b, u or p", i, type);
        uint32_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
        if (read_u32(r, json_get(d, "major"), "linux.devices[].major", &major) < 0) return -1;
        if (read_u32(r, json_get(d, "minor"), "linux.devices[].minor", &minor) < 0) return -1;
        if (read_u32(r, json_get(d, "fileMode"), "linux.devices[].fileMode", &mode) < 0) return -1;
        if (read_u32(r, json_get(d, "uid"), "linux.devices[].uid", &uid) < 0) return -1;
        if (read_u32(r, json_get(d, "gid"), "linux.devices[].gid", &gid) < 0) return -1;
        dev->major = major;
        dev->minor = minor;
        dev->mode = (mode_t)(mode & 07777);
        dev->uid = uid;
        dev->gid = gid;
        s->ndevices++;
    }
    return 0;
}

static int read_sysctls(struct reader *r, const struct json *map) {
    struct spec *s = r->spec;
    if (map == NULL || map->type == JSON_NULL) return 0;
    if (map->type != JSON_OBJECT) return bad(r, "linux.sysctl must be an object");
    s->sysctls = alloc(r, map->count, sizeof(*s->sysctls));
    if (s->sysctls == NULL && map->count > 0) return bad(r, "out of memory");
    for (const struct json *e = map->child; e != NULL; e = e->next) {
        if (e->type != JSON_STRING) return bad(r, "linux.sysctl[\"%s\"] must be a string", e->key);
        if (e->key[0] == '\0' || strstr(e->key, "..") != NULL || e->key[0] == '.' || e->key[0] == '/')
            return bad(r, "linux.sysctl: \"%s\" is not a sysctl name", e->key);
        s->sysctls[s->nsysctls].key = e->key;
        s->sysctls[s->nsysctls].value = e->str;
        s->nsysctls++;
    }
    return 0;
}

static int read_linux(struct reader *r, const struct json *lx) {
    struct spec *s = r->spec;
    if (lx != NULL && lx->type != JSON_OBJECT) return bad(r, "linux must be an object");
    if (read_namespaces(r, json_get(lx, "namespaces")) < 0) return -1;
    if (read_devices(r, json_get(lx, "devices")) < 0) return -1;
    if (read_sysctls(r, json_get(lx, "sysctl")) < 0) return -1;
    char **list;
    if (read_strings(r, json_get(lx, "maskedPaths"), "linux.maskedPaths", &list, &s->nmasked) < 0) return -1;
    s->masked_paths = (const char **)list;
    if (read_strings(r, json_get(lx, "readonlyPaths"), "linux.readonlyPaths", &list, &s->nreadonly) < 0) return -1;
    s->readonly_paths = (const char **)list;
    const struct json *seccomp = json_get(lx, "seccomp");
    if (seccomp != NULL && seccomp->type != JSON_NULL) {
        if (seccomp->type != JSON_OBJECT) return bad(r, "linux.seccomp must be an object");
        s->seccomp = seccomp;
    }
    return 0;
}

// ---- process --------------------------------------------------------------------

struct rlimit_name {
    const char *name;
    int resource;
};

static const struct rlimit_name RLIMITS[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int read_rlimits(struct reader *r, const struct json *list, struct spec_process *p) {
    if (list == NULL || list->type == JSON_NULL) return 0;
    if (list->type != JSON_ARRAY) return bad(r, "process.rlimits must be an array");
    p->rlimits = alloc(r, list->count, sizeof(*p->rlimits));
    if (p->rlimits == NULL && list->count > 0) return bad(r, "out of memory");
    for (const struct json *l = list->child; l != NULL; l = l->next) {
        const char *type = json_str(json_get(l, "type"));
        int resource = -1;
        for (size_t i = 0; type != NULL && i < sizeof(RLIMITS) / sizeof(RLIMITS[0]); i++)
            if (strcmp(RLIMITS[i].name, type) == 0) resource = RLIMITS[i].resource;
        if (resource < 0) return bad(r, "process.rlimits: \"%s\" is not a known rlimit", type ? type : "(none)");
        uint64_t soft, hard;
        if (!json_u64(json_get(l, "soft"), &soft) || !json_u64(json_get(l, "hard"), &hard))
            return bad(r, "process.rlimits %s: soft and hard must be non-negative integers", type);
        p->rlimits[p->nrlimits].name = type;
        p->rlimits[p->nrlimits].resource = resource;
        p->rlimits[p->nrlimits].limit.rlim_cur = (rlim_t)soft;
        p->rlimits[p->nrlimits].limit.rlim_max = (rlim_t)hard;
        p->nrlimits++;
    }
    return 0;
}

static int read_capability_set(struct reader *r, const struct json *caps, const char *set, uint64_t *out) {
    const struct json *list = json_get(caps, set);
    *out = 0;
    if (list == NULL || list->type == JSON_NULL) return 0;
    if (list->type != JSON_ARRAY) return bad(r, "process.capabilities.%s must be an array", set);
    for (const struct json *c = list->child; c != NULL; c = c->next) {
        int cap = c->type == JSON_STRING ? capability_from_name(c->str) : -1;
        if (cap < 0)
            return bad(r, "process.capabilities.%s: unknown capability %s", set, c->str ? c->str : "(not a string)");
        *out |= UINT64_C(1) << cap;
    }
    return 0;
}

static int read_user(struct reader *r, const struct json *user, struct spec_process *p) {
    uint32_t uid = 0, gid = 0, umask = 0;
    if (user != NULL && user->type != JSON_OBJECT) return bad(r, "process.user must be an object");
    if (read_u32(r, json_get(user, "uid"), "process.user.uid", &uid) < 0) return -1;
    if (read_u32(r, json_get(user, "gid"), "process.user.gid", &gid) < 0) return -1;
    p->uid = uid;
    p->gid = gid;
    const struct json *mask = json_get(user, "umask");
    if (mask != NULL && mask->type != JSON_NULL) {
        if (read_u32(r, mask, "process.user.umask", &umask) < 0) return -1;
        p->has_umask = true;
        p->umask = (mode_t)(umask & 0777);
    }
    const struct json *groups = json_get(user, "additionalGids");
    if (groups != NULL && groups->type != JSON_ARRAY && groups->type != JSON_NULL)
        return bad(r, "process.user.additionalGids must be an array");
    size_t n = json_is(groups, JSON_ARRAY) ? groups->count : 0;
    p->groups = alloc(r, n + 1, sizeof(*p->groups));
    if (p->groups == NULL) return bad(r, "out of memory");
    for (const struct json *g = json_items(groups); g != NULL; g = g->next) {
        uint32_t v = 0;
        if (g->type == JSON_NULL || read_u32(r, g, "process.user.additionalGids[]", &v) < 0)
            return bad(r, "process.user.additionalGids must hold integers");
        p->groups[p->ngroups++] = v;
    }
    return 0;
}

static int read_process(struct reader *r, const struct json *proc) {
    struct spec_process *p = &r->spec->process;
    memset(p, 0, sizeof(*p));
    if (proc == NULL || proc->type != JSON_OBJECT) return bad(r, "process must be an object");
    p->terminal = json_bool(json_get(proc, "terminal"), false);
    const struct json *size = json_get(proc, "consoleSize");
    uint32_t rows = 0, cols = 0;
    if (read_u32(r, json_get(size, "height"), "process.consoleSize.height", &rows) < 0) return -1;
    if (read_u32(r, json_get(size, "width"), "process.consoleSize.width", &cols) < 0) return -1;
    p->rows = rows > 0xFFFF ? 0xFFFF : (unsigned short)rows;
    p->cols = cols > 0xFFFF ? 0xFFFF : (unsigned short)cols;

    size_t nargs;
    if (read_strings(r, json_get(proc, "args"), "process.args", &p->args, &nargs) < 0) return -1;
    if (nargs == 0 || p->args[0][0] == '\0') return bad(r, "process.args must name a command");
    if (read_strings(r, json_get(proc, "env"), "process.env", &p->env, NULL) < 0) return -1;
    p->path = DEFAULT_PATH;
    for (char **e = p->env; *e != NULL; e++)
        if (strncmp(*e, "PATH=", 5) == 0) p->path = *e + 5;
    p->cwd = json_str(json_get(proc, "cwd"));
    if (p->cwd == NULL || p->cwd[0] == '\0') p->cwd = "/";
    if (p->cwd[0] != '/') return bad(r, "process.cwd must be an absolute path");
    if (read_user(r, json_get(proc, "user"), p) < 0) return -1;
    if (read_rlimits(r, json_get(proc, "rlimits"), p) < 0) return -1;

    const struct json *caps = json_get(proc, "capabilities");
    if (caps != NULL && caps->type != JSON_NULL) {
        if (caps->type != JSON_OBJECT) return bad(r, "process.capabilities must be an object");
        p->has_caps = true;
        if (read_capability_set(r, caps, "bounding", &p->caps.bounding) < 0 ||
            read_capability_set(r, caps, "effective", &p->caps.effective) < 0 ||
            read_capability_set(r, caps, "inheritable", &p->caps.inheritable) < 0 ||
            read_capability_set(r, caps, "permitted", &p->caps.permitted) < 0 ||
            read_capability_set(r, caps, "ambient", &p->caps.ambient) < 0)
            return -1;
    }
    p->no_new_privileges = json_bool(json_get(proc, "noNewPrivileges"), false);
    int64_t oom;
    const struct json *oomv = json_get(proc, "oomScoreAdj");
    if (oomv != NULL && oomv->type != JSON_NULL) {
        if (!json_i64(oomv, &oom) || oom < -1000 || oom > 1000)
            return bad(r, "process.oomScoreAdj must be an integer from -1000 to 1000");
        p->has_oom_score_adj = true;
        p->oom_score_adj = (int)oom;
    }
    return 0;
}

// ---- annotations and root ---------------------------------------------------------

static int split_colon_list(struct reader *r, const char *value, const char ***out, size_t *count) {
    size_t n = 1;
    for (const char *c = value; *c; c++) n += *c == ':';
    const char **list = alloc(r, n + 1, sizeof(*list));
    if (list == NULL) return bad(r, "out of memory");
    size_t used = 0;
    const char *start = value;
    for (const char *c = value;; c++) {
        if (*c != ':' && *c != '\0') continue;
        if (c > start) {
            list[used] = arena_strndup(&r->spec->arena, start, (size_t)(c - start));
            if (list[used] == NULL) return bad(r, "out of memory");
            used++;
        }
        if (*c == '\0') break;
        start = c + 1;
    }
    *out = list;
    *count = used;
    return 0;
}

static int read_annotations(struct reader *r, const struct json *annotations) {
    struct spec *s = r->spec;
    if (annotations != NULL && annotations->type != JSON_OBJECT && annotations->type != JSON_NULL)
        return bad(r, "annotations must be an object");
    s->overlay_lower = json_str(json_get(annotations, "org.pier.overlay.lowerdir"));
    s->overlay_upper = json_str(json_get(annotations, "org.pier.overlay.upperdir"));
    s->overlay_work = json_str(json_get(annotations, "org.pier.overlay.workdir"));
    if (s->overlay_lower != NULL && s->overlay_lower[0] == '\0') s->overlay_lower = NULL;
    if (s->overlay_lower != NULL && (s->overlay_upper == NULL) != (s->overlay_work == NULL))
        return bad(r, "annotations: org.pier.overlay.upperdir and workdir go together");
    const char *procs = json_str(json_get(annotations, "org.pier.cgroup.procs"));
    if (procs != NULL && split_colon_list(r, procs, &s->cgroup_procs, &s->ncgroup_procs) < 0) return -1;
    const char *once = json_str(json_get(annotations, "org.pier.stdin-once"));
    s->stdin_once = once != NULL && strcmp(once, "true") == 0;
    s->seccomp_cache = json_str(json_get(annotations, "org.pier.seccomp.cache"));
    if (s->seccomp_cache != NULL && s->seccomp_cache[0] != '/')
        return bad(r, "annotations: org.pier.seccomp.cache must be an absolute path");
    return 0;
}

static int read_root(struct reader *r, const struct json *root) {
    struct spec *s = r->spec;
    const char *path = json_str(json_get(root, "path"));
    if (path == NULL || path[0] == '\0') return bad(r, "root.path must be set");
    if (path[0] == '/') s->root_path = path;
    else {
        size_t n = strlen(s->bundle) + strlen(path) + 2;
        char *full = alloc(r, n, 1);
        if (full == NULL) return bad(r, "out of memory");
        snprintf(full, n, "%s/%s", s->bundle, path);
        s->root_path = full;
    }
    s->root_readonly = json_bool(json_get(root, "readonly"), false);
    return 0;
}

static const struct json *load_json(struct reader *r, const char *path) {
    char *text;
    size_t len;
    if (read_file(path, CONFIG_MAX_BYTES, &text, &len) < 0) {
        bad(r, "cannot read: %s", strerror(errno));
        return NULL;
    }
    char perr[128];
    const struct json *doc = json_parse(&r->spec->arena, text, len, perr, sizeof(perr));
    free(text);
    if (doc == NULL) bad(r, "invalid JSON: %s", perr);
    else if (doc->type != JSON_OBJECT) { bad(r, "must hold a JSON object"); doc = NULL; }
    return doc;
}

int spec_load_config(struct spec *s, const char *bundle, char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    struct reader r = {.spec = s, .file = "config.json", .err = err, .errlen = errlen};
    s->bundle = arena_strdup(&s->arena, bundle);
    size_t n = strlen(bundle) + sizeof("/config.json");
    char *path = alloc(&r, n, 1);
    if (s->bundle == NULL || path == NULL) return bad(&r, "out of memory");
    snprintf(path, n, "%s/config.json", bundle);
    const struct json *doc = load_json(&r, path);
    if (doc == NULL) return -1;
    if (read_root(&r, json_get(doc, "root")) < 0) return -1;
    if (read_process(&r, json_get(doc, "process")) < 0) return -1;
    if (read_mounts(&r, json_get(doc, "mounts")) < 0) return -1;
    if (read_linux(&r, json_get(doc, "linux")) < 0) return -1;
    if (read_annotations(&r, json_get(doc, "annotations")) < 0) return -1;
    const struct json *hostname = json_get(doc, "hostname");
    if (hostname != NULL && hostname->type != JSON_STRING && hostname->type != JSON_NULL)
        return bad(&r, "hostname must be a string");
    s->hostname = json_str(hostname);
    s->domainname = json_str(json_get(doc, "domainname"));
    if (s->hostname != NULL && s->hostname[0] == '\0') s->hostname = NULL;
    if (s->domainname != NULL && s->domainname[0] == '\0') s->domainname = NULL;
    if ((s->hostname != NULL || s->domainname != NULL) && !spec_has_namespace(s, CLONE_NEWUTS))
        return bad(&r, "hostname needs a uts namespace");
    return 0;
}

int spec_load_process(struct spec *s, const char *path, char *err, size_t errlen) {
    struct reader r = {.spec = s, .file = path, .err = err, .errlen = errlen};
    const struct json *doc = load_json(&r, path);
    if (doc == NULL) return -1;
    return read_process(&r, doc);
}

bool spec_has_namespace(const struct spec *s, int flag) {
    for (size_t i = 0; i < s->nnamespaces; i++)
        if (s->namespaces[i].flag == flag) return true;
    return false;
}

void spec_free(struct spec *s) {
    arena_free(&s->arena);
    memset(s, 0, sizeof(*s));
}
