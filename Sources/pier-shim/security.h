// Capabilities, no_new_privs and seccomp. The seccomp filter is compiled with
// libseccomp in the shim, before the clone, into a BPF program; the child only
// loads it, so nothing between clone and execve allocates.
#ifndef PIER_SECURITY_H
#define PIER_SECURITY_H
#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "spec.h"

int capability_from_name(const char *name);   // "CAP_CHOWN" -> 0; -1 when unknown
int capability_last(void);                     // the kernel's highest capability number

struct seccomp_program {
    struct sock_filter *filter;                // NULL when the config has no seccomp section
    unsigned short len;
    unsigned int flags;                        // SECCOMP_FILTER_FLAG_*
};

// Compiles linux.seccomp (OCI runtime-spec) into BPF; -1 with a message on failure.
int seccomp_compile(const struct json *seccomp, struct seccomp_program *out, char *err, size_t errlen);
// The same, through `cache_dir` (NULL: no cache): a filter compiled once for a profile is read
// back for every later container with that profile. The file's name hashes the profile, the
// libseccomp version and the kernel release; a file that does not read back whole is compiled again.
int seccomp_compile_cached(const struct json *seccomp, const char *cache_dir, struct seccomp_program *out,
                           char *err, size_t errlen);
void seccomp_program_free(struct seccomp_program *p);

// The child's steps; each returns -1 with errno set.
int drop_bounding_set(uint64_t keep, int last_cap);
int apply_capabilities(const struct spec_caps *caps, int last_cap, int *failed_cap);
int set_no_new_privileges(void);
int load_seccomp(const struct seccomp_program *p);

#endif
