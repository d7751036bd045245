// The parts of an OCI runtime-spec v1.1 config.json (and of an exec's process.json)
// that pier-shim honours, read into plain structs before the clone so that the child
// only makes system calls. Everything lives in one arena, freed by spec_free.
#ifndef PIER_SPEC_H
#define PIER_SPEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "arena.h"
#include "json.h"

struct spec_mount {
    const char *destination, *type, *source;
    const char *data;            // filesystem options ("mode=755,size=65536k"), or NULL
    unsigned long flags;         // MS_RDONLY, MS_NOSUID, ... (not MS_BIND, MS_REC or propagation)
    unsigned long propagation;   // MS_PRIVATE | MS_REC, ...; 0 when none asked
    bool bind, recursive;
};

struct spec_device {
    const char *path;
    mode_t type;                 // S_IFCHR, S_IFBLK or S_IFIFO
    unsigned major, minor;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

struct spec_rlimit {
    const char *name;            // "RLIMIT_NOFILE"
    int resource;
    struct rlimit limit;
};

struct spec_sysctl {
    const char *key, *value;
};

struct spec_caps {
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct spec_process {
    bool terminal;
    unsigned short rows, cols;   // consoleSize; 0 when not given
    char **args;                 // NULL-terminated
    char **env;                  // NULL-terminated
    const char *path;            // $PATH from env, or the default search path
    const char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    bool has_umask;
    mode_t umask;
    struct spec_rlimit *rlimits;
    size_t nrlimits;
    bool has_caps;
    struct spec_caps caps;
    bool no_new_privileges;
    bool has_oom_score_adj;
    int oom_score_adj;
};

struct spec_namespace {
    int flag;                    // CLONE_NEWNS, CLONE_NEWPID, ...
    const char *path;            // join this one instead of creating one; NULL to create
};

enum { SPEC_MAX_NAMESPACES = 8 };

struct spec {
    struct arena arena;
    const char *bundle;          // absolute
    const char *root_path;       // absolute
    bool root_readonly;
    const char *hostname, *domainname;   // NULL when not set
    struct spec_namespace namespaces[SPEC_MAX_NAMESPACES];
    size_t nnamespaces;
    struct spec_mount *mounts;
    size_t nmounts;
    struct spec_device *devices;
    size_t ndevices;
    const char **masked_paths;
    size_t nmasked;
    const char **readonly_paths;
    size_t nreadonly;
    struct spec_sysctl *sysctls;
    size_t nsysctls;
    const char *overlay_lower, *overlay_upper, *overlay_work;   // from the annotations
    const char **cgroup_procs;   // org.pier.cgroup.procs, split at ':'
    size_t ncgroup_procs;
    bool stdin_once;             // org.pier.stdin-once
    const char *seccomp_cache;   // org.pier.seccomp.cache: a directory of compiled filters, or NULL
    struct spec_process process;
    const struct json *seccomp;  // linux.seccomp, compiled by security.c; NULL when absent
};

// Reads <bundle>/config.json. Returns -1 and a message naming the field on failure.
int spec_load_config(struct spec *s, const char *bundle, char *err, size_t errlen);
// Replaces s->process with the OCI process object in `path` (pier-shim exec).
int spec_load_process(struct spec *s, const char *path, char *err, size_t errlen);
bool spec_has_namespace(const struct spec *s, int flag);
void spec_free(struct spec *s);

#endif
