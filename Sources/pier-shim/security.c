#define _GNU_SOURCE
#include "security.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

// ---- capabilities -----------------------------------------------------------------

static const char *const CAPABILITY_NAMES[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int capability_from_name(const char *name) {
    if (strncmp(name, "CAP_", 4) == 0) name += 4;
    for (size_t i = 0; i < sizeof(CAPABILITY_NAMES) / sizeof(CAPABILITY_NAMES[0]); i++)
        if (strcmp(CAPABILITY_NAMES[i], name) == 0) return (int)i;
    return -1;
}

int capability_last(void) {
    char buf[16] = {0};
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return CAP_LAST_CAP;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    int last = n > 0 ? atoi(buf) : 0;
    return last > 0 && last < 64 ? last : CAP_LAST_CAP;
}

int drop_bounding_set(uint64_t keep, int last_cap) {
    for (int cap = 0; cap <= last_cap; cap++) {
        if (keep & (UINT64_C(1) << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return -1;
    }
    return 0;
}

int apply_capabilities(const struct spec_caps *caps, int last_cap, int *failed_cap) {
    uint64_t valid = last_cap >= 63 ? UINT64_MAX : (UINT64_C(1) << (last_cap + 1)) - 1;
    uint64_t eff = caps->effective & valid, perm = caps->permitted & valid, inh = caps->inheritable & valid;
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {
        {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
        {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32),
         .inheritable = (uint32_t)(inh >> 32)},
    };
    *failed_cap = -1;
    if (syscall(SYS_capset, &header, data) < 0) return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
    for (int cap = 0; cap <= last_cap; cap++) {
        if (!(caps->ambient & (UINT64_C(1) << cap))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
            *failed_cap = cap;
            return -1;
        }
    }
    return 0;
}

int set_no_new_privileges(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int load_seccomp(const struct seccomp_program *p) {
    if (p->filter == NULL) return 0;
    struct sock_fprog prog = {.len = p->len, .filter = p->filter};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
}

// ---- seccomp compilation ---------------------------------------------------------------

struct compiler {
    scmp_filter_ctx ctx;
    uint32_t default_action;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct compiler *c, const char *fmt, ...) {
    int n = snprintf(c->err, c->errlen, "config.json: linux.seccomp: ");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < c->errlen) vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_action(struct compiler *c, const char *name, const struct json *errno_ret, uint32_t *out) {
    uint64_t ret = EPERM;
    if (errno_ret != NULL && errno_ret->type != JSON_NULL && (!json_u64(errno_ret, &ret) || ret > 4095))
        return bad(c, "errnoRet must be an errno number");
    if (name == NULL) return bad(c, "an action is missing");
    if (strcmp(name, "SCMP_ACT_ALLOW") == 0) *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0) *out = SCMP_ACT_ERRNO((uint32_t)ret);
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0) *out = SCMP_ACT_KILL;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0) *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0) *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0) *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0) *out = SCMP_ACT_TRACE((uint32_t)ret);
    else return bad(c, "action %s is not supported", name);
    return 0;
}

static int parse_operator(const char *op, enum scmp_compare *out) {
    static const struct { const char *name; enum scmp_compare op; } OPS[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; op != NULL && i < sizeof(OPS) / sizeof(OPS[0]); i++)
        if (strcmp(OPS[i].name, op) == 0) { *out = OPS[i].op; return 0; }
    return -1;
}

enum { MAX_ARGS = 6 };

static int parse_args(struct compiler *c, const struct json *args, struct scmp_arg_cmp *conds, unsigned *n,
                      bool *same_index) {
    *n = 0;
    *same_index = false;
    for (const struct json *a = json_items(args); a != NULL; a = a->next) {
        uint64_t index, value = 0, value_two = 0;
        enum scmp_compare op;
        if (*n >= MAX_ARGS) return bad(c, "a rule has more than %d args", MAX_ARGS);
        if (!json_u64(json_get(a, "index"), &index) || index >= MAX_ARGS) return bad(c, "args[].index must be 0 to 5");
        json_u64(json_get(a, "value"), &value);
        json_u64(json_get(a, "valueTwo"), &value_two);
        if (parse_operator(json_str(json_get(a, "op")), &op) < 0) return bad(c, "args[].op is not a known operator");
        for (unsigned i = 0; i < *n; i++)
            if (conds[i].arg == index) *same_index = true;
        conds[*n] = (struct scmp_arg_cmp){.arg = (unsigned)index, .op = op, .datum_a = value, .datum_b = value_two};
        (*n)++;
    }
    return 0;
}

static int add_rule(struct compiler *c, const char *name, uint32_t action, const struct scmp_arg_cmp *conds,
                    unsigned n, bool same_index) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return 0;   // unknown to this kernel or libseccomp: nothing to filter
    int rc;
    if (!same_index) rc = seccomp_rule_add_array(c->ctx, action, nr, n, conds);
    else {
        // libseccomp joins conditions with AND and refuses two on one argument: like runc,
        // such a rule means "any of them", one rule each.
        rc = 0;
        for (unsigned i = 0; i < n && rc == 0; i++) rc = seccomp_rule_add_array(c->ctx, action, nr, 1, &conds[i]);
    }
    if (rc < 0 && rc != -EEXIST) return bad(c, "rule for %s: %s", name, strerror(-rc));
    return 0;
}

static int add_syscalls(struct compiler *c, const struct json *syscalls) {
    if (syscalls != NULL && syscalls->type != JSON_ARRAY && syscalls->type != JSON_NULL)
        return bad(c, "syscalls must be an array");
    for (const struct json *s = json_items(syscalls); s != NULL; s = s->next) {
        uint32_t action;
        if (parse_action(c, json_str(json_get(s, "action")), json_get(s, "errnoRet"), &action) < 0) return -1;
        if (action == c->default_action) continue;   // libseccomp refuses rules that change nothing
        struct scmp_arg_cmp conds[MAX_ARGS];
        unsigned n;
        bool same_index;
        if (parse_args(c, json_get(s, "args"), conds, &n, &same_index) < 0) return -1;
        const struct json *names = json_get(s, "names");
        const char *single = json_str(json_get(s, "name"));
        if (single != NULL && add_rule(c, single, action, conds, n, same_index) < 0) return -1;
        for (const struct json *name = json_items(names); name != NULL; name = name->next) {
            if (name->type != JSON_STRING) return bad(c, "syscalls[].names must hold strings");
            if (add_rule(c, name->str, action, conds, n, same_index) < 0) return -1;
        }
    }
    return 0;
}

static int add_architectures(struct compiler *c, const struct json *archs) {
    for (const struct json *a = json_items(archs); a != NULL; a = a->next) {
        const char *name = json_str(a);
        if (name == NULL) return bad(c, "architectures must hold strings");
        char lower[32];
        if (strncmp(name, "SCMP_ARCH_", 10) == 0) name += 10;
        size_t i = 0;
        for (; name[i] != '\0' && i < sizeof(lower) - 1; i++)
            lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
        lower[i] = '\0';
        uint32_t arch = seccomp_arch_resolve_name(lower);
        if (arch == 0) continue;   // not known to this libseccomp: it cannot run here anyway
        int rc = seccomp_arch_add(c->ctx, arch);
        if (rc < 0 && rc != -EEXIST) return bad(c, "architecture %s: %s", name, strerror(-rc));
    }
    return 0;
}

static int parse_flags(struct compiler *c, const struct json *flags, unsigned int *out) {
    *out = 0;
    for (const struct json *f = json_items(flags); f != NULL; f = f->next) {
        const char *name = json_str(f);
        if (name == NULL) return bad(c, "flags must hold strings");
        if (strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0) *out |= SECCOMP_FILTER_FLAG_LOG;
        else if (strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) *out |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else if (strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0) *out |= SECCOMP_FILTER_FLAG_TSYNC;
        else return bad(c, "flag %s is not supported", name);
    }
    return 0;
}

static int export_program(struct compiler *c, struct seccomp_program *out) {
    int fd = memfd_create("pier-seccomp", MFD_CLOEXEC);
    if (fd < 0) return bad(c, "memfd_create: %s", strerror(errno));
    int rc = seccomp_export_bpf(c->ctx, fd);
    if (rc < 0) { close(fd); return bad(c, "export BPF: %s", strerror(-rc)); }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        close(fd);
        return bad(c, "the filter is empty or longer than %d instructions", BPF_MAXINSNS);
    }
    out->filter = malloc((size_t)size);
    if (out->filter == NULL) { close(fd); return bad(c, "out of memory"); }
    ssize_t got = pread(fd, out->filter, (size_t)size, 0);
    close(fd);
    if (got != size) {
        seccomp_program_free(out);
        return bad(c, "reading the exported filter failed");
    }
    out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    return 0;
}

int seccomp_compile(const struct json *seccomp, struct seccomp_program *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (seccomp == NULL) return 0;
    struct compiler c = {.err = err, .errlen = errlen};
    if (parse_action(&c, json_str(json_get(seccomp, "defaultAction")), json_get(seccomp, "defaultErrnoRet"),
                     &c.default_action) < 0)
        return -1;
    if (parse_flags(&c, json_get(seccomp, "flags"), &out->flags) < 0) return -1;
    c.ctx = seccomp_init(c.default_action);
    if (c.ctx == NULL) return bad(&c, "seccomp_init failed");
    int rc = add_architectures(&c, json_get(seccomp, "architectures"));
    if (rc == 0) rc = add_syscalls(&c, json_get(seccomp, "syscalls"));
    if (rc == 0) rc = export_program(&c, out);
    seccomp_release(c.ctx);
    return rc;
}

void seccomp_program_free(struct seccomp_program *p) {
    free(p->filter);
    memset(p, 0, sizeof(*p));
}

// ---- the compiled-filter cache ----------------------------------------------------------

// FNV-1a over the profile's tree: member names, types and values, in order.
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_json(uint64_t h, const struct json *v) {
    unsigned char type = (unsigned char)v->type;
    h = fnv(h, &type, 1);
    if (v->key != NULL) h = fnv(h, v->key, strlen(v->key) + 1);
    switch (v->type) {
    case JSON_STRING: h = fnv(h, &v->len, sizeof(v->len)); return fnv(h, v->str, v->len);
    case JSON_NUMBER: return fnv(fnv(fnv(h, &v->i, sizeof(v->i)), &v->u, sizeof(v->u)), &v->d, sizeof(v->d));
    case JSON_ARRAY:
    case JSON_OBJECT:
        h = fnv(h, &v->count, sizeof(v->count));
        for (const struct json *c = v->child; c != NULL; c = c->next) h = hash_json(h, c);
        return h;
    default: return h;
    }
}

static void cache_path(const struct json *seccomp, const char *dir, char *path, size_t size) {
    const struct scmp_version *version = seccomp_version();
    struct utsname host;
    if (uname(&host) < 0) snprintf(host.release, sizeof(host.release), "unknown");
    for (char *p = host.release; *p != '\0'; p++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p) == NULL) *p = '_';
    unsigned long long hash = hash_json(0xcbf29ce484222325ULL, seccomp);
    snprintf(path, size, "%s/%016llx-%u.%u.%u-%s.bpf", dir, hash, version ? version->major : 0,
             version ? version->minor : 0, version ? version->micro : 0, host.release);
}

// File layout: "PIERBPF1", flags (uint32), instruction count (uint32), the instructions.
static const char CACHE_MAGIC[8] = {'P', 'I', 'E', 'R', 'B', 'P', 'F', '1'};

static int read_cached(const char *path, struct seccomp_program *out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    struct stat st;
    unsigned char head[16];
    int rc = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && st.st_size > 16 &&
        read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) && memcmp(head, CACHE_MAGIC, 8) == 0) {
        uint32_t flags, len;
        memcpy(&flags, head + 8, 4);
        memcpy(&len, head + 12, 4);
        size_t bytes = (size_t)len * sizeof(struct sock_filter);
        bool sized = len > 0 && len <= BPF_MAXINSNS && (off_t)(16 + bytes) == st.st_size;
        if (sized && (out->filter = malloc(bytes)) != NULL) {
            if (read(fd, out->filter, bytes) == (ssize_t)bytes) {
                out->len = (unsigned short)len;
                out->flags = flags;
                rc = 0;
            } else {
                seccomp_program_free(out);
            }
        }
    }
    close(fd);
    return rc;
}

// Best effort: a cache that cannot be written only costs the next container a compile.
static void write_cached(const char *dir, const char *path, const struct seccomp_program *p) {
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return;
    char temp[PATH_MAX + 32];
    snprintf(temp, sizeof(temp), "%s.tmp-%d", path, (int)getpid());
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;
    unsigned char head[16];
    uint32_t flags = p->flags, len = p->len;
    memcpy(head, CACHE_MAGIC, 8);
    memcpy(head + 8, &flags, 4);
    memcpy(head + 12, &len, 4);
    size_t bytes = (size_t)p->len * sizeof(struct sock_filter);
    bool ok = write(fd, head, sizeof(head)) == (ssize_t)sizeof(head) && write(fd, p->filter, bytes) == (ssize_t)bytes;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(temp, path) < 0) unlink(temp);
}

int seccomp_compile_cached(const struct json *seccomp, const char *cache_dir, struct seccomp_program *out,
                           char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (seccomp == NULL || cache_dir == NULL) return seccomp_compile(seccomp, out, err, errlen);
    char path[PATH_MAX];
    cache_path(seccomp, cache_dir, path, sizeof(path));
    if (read_cached(path, out) == 0) return 0;
    if (seccomp_compile(seccomp, out, err, errlen) < 0) return -1;
    write_cached(cache_dir, path, out);
    return 0;
}
