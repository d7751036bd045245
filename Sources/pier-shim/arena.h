// A bump allocator: the spec and its JSON tree live in one arena, freed at once
// before the monitor starts (so the long-lived shim keeps nothing of them).
#ifndef PIER_ARENA_H
#define PIER_ARENA_H
#include <stddef.h>

struct arena_chunk;
struct arena {
    struct arena_chunk *head;
};

void *arena_alloc(struct arena *a, size_t size);          // zeroed; NULL when out of memory
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

#endif
