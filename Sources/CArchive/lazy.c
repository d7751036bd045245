// libarchive, loaded on first use.
//
// A libarchive function called from Swift without a forwarder here fails the link
// ("undefined reference"), so the list below cannot silently fall behind PierArchive.
//
// Linking libarchive.so.13 the usual way makes the dynamic loader open it and its eleven
// dependencies (libxml2, ICU, nettle, zstd, lz4, ...) before main() runs: ~1.2 ms of every
// `pier` command, measured with hyperfine, although only `build` and `cp` ever make a tar.
// Instead each libarchive function PierArchive calls is defined here with libarchive's own
// prototype (the compiler checks them against <archive.h>) as a forwarder that resolves the
// real function with dlsym the first time, after dlopen'ing the library once.
//
// The forwarders are hidden, so they never interpose on libarchive's internal calls. A
// missing libarchive ends the process with a message that says what to install: it is a hard
// dependency (see .ci/install-deps), so there is nothing better to fall back to.
//
// pierd lets the library go again once nothing of it is in use (pier_archive_unload_if_unused,
// from its idle trimmer): libarchive and its dependencies hold ~1.6 MB of pierd's RSS after a
// save or load otherwise. "In use" is counted exactly: every archive and entry object holds
// the library from its *_new to its *_free, and no other libarchive function can be called
// without one of them alive, so a forwarder's cached address is valid whenever it is called.
#define _GNU_SOURCE
#include "pier_archive.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *library;         // guarded by lock
static long users;            // guarded by lock: live archive and entry objects
static void **slots[128];     // guarded by lock: the forwarders' cached addresses, cleared on unload
static size_t nslots;

static void *resolve_locked(void **slot, const char *name) {
    if (!library) {
        library = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            fprintf(stderr, "pier: cannot load libarchive: %s\n"
                            "  install it with: apt-get install libarchive13\n", dlerror());
            exit(125);
        }
    }
    void *symbol = dlsym(library, name);
    if (!symbol) {
        fprintf(stderr, "pier: this libarchive has no %s (libarchive 3.6 or later is needed)\n", name);
        exit(125);
    }
    if (nslots == sizeof(slots) / sizeof(slots[0])) {
        fprintf(stderr, "pier: lazy.c: more forwarders than slots\n");
        abort();
    }
    slots[nslots++] = slot;
    __atomic_store_n(slot, symbol, __ATOMIC_RELEASE);
    return symbol;
}

// The address of `name`: cached in `*slot` after the first call.
static void *cached(void **slot, const char *name) {
    void *function = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (function) return function;
    pthread_mutex_lock(&lock);
    function = *slot ? *slot : resolve_locked(slot, name);
    pthread_mutex_unlock(&lock);
    return function;
}

// For the constructors: the new object is counted before the call, so the library cannot be
// unloaded under it.
static void *acquire(void **slot, const char *name) {
    pthread_mutex_lock(&lock);
    users++;
    void *function = *slot ? *slot : resolve_locked(slot, name);
    pthread_mutex_unlock(&lock);
    return function;
}

static void release(void) {
    pthread_mutex_lock(&lock);
    users--;
    pthread_mutex_unlock(&lock);
}

int pier_archive_unload_if_unused(void) {
    pthread_mutex_lock(&lock);
    int unloaded = 0;
    if (library && users == 0) {
        for (size_t i = 0; i < nslots; i++) __atomic_store_n(slots[i], NULL, __ATOMIC_RELEASE);
        nslots = 0;
        dlclose(library);
        library = NULL;
        unloaded = 1;
    }
    pthread_mutex_unlock(&lock);
    return unloaded;
}

// One forwarder, with libarchive's prototype. Functions returning void get FORWARD_VOID: C
// lets a void function `return` nothing, not the value of a void call.
#define FORWARD(result, name, parameters, arguments)                                   \
    __attribute__((visibility("hidden"))) result name parameters {                      \
        static void *slot;                                                              \
        return ((result (*) parameters)cached(&slot, #name)) arguments;                 \
    }
#define FORWARD_VOID(name, parameters, arguments)                                      \
    __attribute__((visibility("hidden"))) void name parameters {                        \
        static void *slot;                                                              \
        ((void (*) parameters)cached(&slot, #name)) arguments;                          \
    }
// A constructor (counts its object) and a destructor (lets it go).
#define FORWARD_NEW(type, name)                                                         \
    __attribute__((visibility("hidden"))) type *name(void) {                            \
        static void *slot;                                                              \
        type *object = ((type * (*)(void))acquire(&slot, #name))();                     \
        if (!object) release();                                                         \
        return object;                                                                  \
    }
#define FORWARD_FREE(result, type, name)                                                \
    __attribute__((visibility("hidden"))) result name(type *object) {                   \
        static void *slot;                                                              \
        if (!object) return (result)0;                                                  \
        result r = ((result (*)(type *))cached(&slot, #name))(object);                   \
        release();                                                                      \
        return r;                                                                       \
    }

// Reading and writing archives.
FORWARD_NEW(struct archive, archive_read_new)
FORWARD_FREE(int, struct archive, archive_read_free)
FORWARD(int, archive_read_support_filter_gzip, (struct archive *a), (a))
FORWARD(int, archive_read_support_filter_zstd, (struct archive *a), (a))
FORWARD(int, archive_read_support_format_raw, (struct archive *a), (a))
FORWARD(int, archive_read_support_format_tar, (struct archive *a), (a))
FORWARD(int, archive_read_open, (struct archive *a, void *client, archive_open_callback *open,
                                 archive_read_callback *read, archive_close_callback *close),
        (a, client, open, read, close))
FORWARD(int, archive_read_next_header, (struct archive *a, struct archive_entry **entry), (a, entry))
FORWARD(la_ssize_t, archive_read_data, (struct archive *a, void *buffer, size_t size), (a, buffer, size))
FORWARD(int, archive_read_data_block, (struct archive *a, const void **buffer, size_t *size, la_int64_t *offset),
        (a, buffer, size, offset))
FORWARD(int, archive_read_data_skip, (struct archive *a), (a))
FORWARD(int, archive_filter_code, (struct archive *a, int index), (a, index))
FORWARD(const char *, archive_error_string, (struct archive *a), (a))

FORWARD_NEW(struct archive, archive_write_new)
FORWARD_FREE(int, struct archive, archive_write_free)
FORWARD(int, archive_write_add_filter_gzip, (struct archive *a), (a))
FORWARD(int, archive_write_add_filter_zstd, (struct archive *a), (a))
FORWARD(int, archive_write_set_format_pax_restricted, (struct archive *a), (a))
FORWARD(int, archive_write_set_format_raw, (struct archive *a), (a))
FORWARD(int, archive_write_set_format_option, (struct archive *a, const char *m, const char *o, const char *v),
        (a, m, o, v))
FORWARD(int, archive_write_set_filter_option, (struct archive *a, const char *m, const char *o, const char *v),
        (a, m, o, v))
FORWARD(int, archive_write_set_bytes_per_block, (struct archive *a, int bytes), (a, bytes))
FORWARD(int, archive_write_set_bytes_in_last_block, (struct archive *a, int bytes), (a, bytes))
FORWARD(int, archive_write_open, (struct archive *a, void *client, archive_open_callback *open,
                                  archive_write_callback *write, archive_close_callback *close),
        (a, client, open, write, close))
FORWARD(int, archive_write_header, (struct archive *a, struct archive_entry *entry), (a, entry))
FORWARD(la_ssize_t, archive_write_data, (struct archive *a, const void *buffer, size_t size), (a, buffer, size))
FORWARD(int, archive_write_close, (struct archive *a), (a))
FORWARD(int, archive_write_fail, (struct archive *a), (a))

// Entries.
FORWARD_NEW(struct archive_entry, archive_entry_new)
__attribute__((visibility("hidden"))) void archive_entry_free(struct archive_entry *e) {
    static void *slot;
    if (!e) return;
    ((void (*)(struct archive_entry *))cached(&slot, "archive_entry_free"))(e);
    release();
}
FORWARD(const char *, archive_entry_pathname, (struct archive_entry *e), (e))
FORWARD(const char *, archive_entry_hardlink, (struct archive_entry *e), (e))
FORWARD(const char *, archive_entry_symlink, (struct archive_entry *e), (e))
FORWARD(const char *, archive_entry_uname, (struct archive_entry *e), (e))
FORWARD(const char *, archive_entry_gname, (struct archive_entry *e), (e))
FORWARD(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e))
FORWARD(__LA_MODE_T, archive_entry_perm, (struct archive_entry *e), (e))
FORWARD(la_int64_t, archive_entry_uid, (struct archive_entry *e), (e))
FORWARD(la_int64_t, archive_entry_gid, (struct archive_entry *e), (e))
FORWARD(la_int64_t, archive_entry_size, (struct archive_entry *e), (e))
FORWARD(int, archive_entry_size_is_set, (struct archive_entry *e), (e))
FORWARD(time_t, archive_entry_mtime, (struct archive_entry *e), (e))
FORWARD(dev_t, archive_entry_rdevmajor, (struct archive_entry *e), (e))
FORWARD(dev_t, archive_entry_rdevminor, (struct archive_entry *e), (e))
FORWARD_VOID(archive_entry_copy_pathname, (struct archive_entry *e, const char *s), (e, s))
FORWARD_VOID(archive_entry_copy_hardlink, (struct archive_entry *e, const char *s), (e, s))
FORWARD_VOID(archive_entry_copy_symlink, (struct archive_entry *e, const char *s), (e, s))
FORWARD_VOID(archive_entry_copy_uname, (struct archive_entry *e, const char *s), (e, s))
FORWARD_VOID(archive_entry_copy_gname, (struct archive_entry *e, const char *s), (e, s))
FORWARD_VOID(archive_entry_set_filetype, (struct archive_entry *e, unsigned int type), (e, type))
FORWARD_VOID(archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T mode), (e, mode))
FORWARD_VOID(archive_entry_set_uid, (struct archive_entry *e, la_int64_t id), (e, id))
FORWARD_VOID(archive_entry_set_gid, (struct archive_entry *e, la_int64_t id), (e, id))
FORWARD_VOID(archive_entry_set_size, (struct archive_entry *e, la_int64_t size), (e, size))
FORWARD_VOID(archive_entry_set_mtime, (struct archive_entry *e, time_t seconds, long nanoseconds), (e, seconds, nanoseconds))
FORWARD_VOID(archive_entry_set_rdevmajor, (struct archive_entry *e, dev_t major), (e, major))
FORWARD_VOID(archive_entry_set_rdevminor, (struct archive_entry *e, dev_t minor), (e, minor))
FORWARD(int, archive_entry_xattr_reset, (struct archive_entry *e), (e))
FORWARD(int, archive_entry_xattr_next, (struct archive_entry *e, const char **name, const void **value, size_t *size),
        (e, name, value, size))
FORWARD_VOID(archive_entry_xattr_add_entry, (struct archive_entry *e, const char *name, const void *value, size_t size),
             (e, name, value, size))
