// A small JSON reader for config.json and process.json, and the Go-style string
// escaping used by the log and exit files. config.json comes from pierd and is
// trusted, but nothing in it may crash the shim: the reader bounds depth and size,
// rejects malformed input with a message naming the offset, and every accessor
// accepts NULL or a node of the wrong type.
#ifndef PIER_JSON_H
#define PIER_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "io.h"

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    const char *key;            // the member name when inside an object
    const char *str;            // JSON_STRING: the decoded text (no NUL inside)
    size_t len;
    bool is_int, is_uint;       // JSON_NUMBER written without fraction or exponent, and in range
    int64_t i;
    uint64_t u;
    double d;
    struct json *child;         // JSON_ARRAY / JSON_OBJECT: first element, linked by next
    struct json *next;
    size_t count;
};

// Parses `text`; on failure returns NULL and writes a message into err.
struct json *json_parse(struct arena *a, const char *text, size_t len, char *err, size_t errlen);

const struct json *json_get(const struct json *object, const char *key);   // last member of that name
const char *json_str(const struct json *v);                                // NULL unless a string
bool json_bool(const struct json *v, bool fallback);
bool json_i64(const struct json *v, int64_t *out);                         // false unless an integer
bool json_u64(const struct json *v, uint64_t *out);
const struct json *json_items(const struct json *v);                       // first element of an array/object
bool json_is(const struct json *v, enum json_type type);

// Appends `s` as a quoted JSON string escaped as Go's encoding/json does (<, >, & as \u00XX,
// invalid UTF-8 as \ufffd). Returns -1 when out of memory.
int json_append_string(struct bytes *out, const char *s, size_t n);

#endif
