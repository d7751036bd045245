#define _GNU_SOURCE
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JSON_MAX_DEPTH = 64 };

struct parser {
    struct arena *arena;
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    int depth;
};

static bool fail(struct parser *ps, const char *what) {
    if (ps->err != NULL && ps->errlen > 0 && ps->err[0] == '\0')
        snprintf(ps->err, ps->errlen, "%s at offset %zu", what, (size_t)(ps->p - ps->start));
    return false;
}

static void skip_space(struct parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(struct parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "invalid literal");
    ps->p += n;
    return true;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return fail(ps, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(ps->p[i]);
        if (h < 0) return fail(ps, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// Decodes a string starting after the opening quote. Escapes never make the text
// longer, so the raw length bounds the decoded one.
static bool parse_string(struct parser *ps, const char **out, size_t *outlen) {
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) return fail(ps, "unterminated string");
    char *buf = arena_alloc(ps->arena, (size_t)(q - ps->p) + 1);
    if (buf == NULL) return fail(ps, "out of memory");
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) return fail(ps, "control character in string");
        if (c != '\\') { buf[n++] = (char)c; ps->p++; continue; }
        ps->p++;
        if (ps->p >= ps->end) return fail(ps, "unterminated escape");
        char e = *ps->p++;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!read_hex4(ps, &cp)) return false;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    ps->p += 2;
                    if (!read_hex4(ps, &lo)) return false;
                    if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    else { n += put_utf8(buf + n, 0xFFFD); cp = lo; }
                } else {
                    cp = 0xFFFD;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
            if (cp == 0) return fail(ps, "NUL character in string");
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            return fail(ps, "bad escape");
        }
    }
    ps->p++;  // closing quote
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool parse_number(struct parser *ps, struct json *v) {
    const char *s = ps->p;
    bool negative = false, integral = true, overflow = false;
    uint64_t mag = 0;
    if (ps->p < ps->end && *ps->p == '-') { negative = true; ps->p++; }
    if (ps->p >= ps->end || !is_digit(*ps->p)) return fail(ps, "bad number");
    if (*ps->p == '0') ps->p++;
    else
        while (ps->p < ps->end && is_digit(*ps->p)) {
            unsigned d = (unsigned)(*ps->p++ - '0');
            if (mag > (UINT64_MAX - d) / 10) overflow = true;
            else mag = mag * 10 + d;
        }
    if (ps->p < ps->end && *ps->p == '.') {
        integral = false;
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) return fail(ps, "bad number");
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integral = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) return fail(ps, "bad number");
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    v->type = JSON_NUMBER;
    char *copy = arena_strndup(ps->arena, s, (size_t)(ps->p - s));
    if (copy == NULL) return fail(ps, "out of memory");
    v->d = strtod(copy, NULL);
    if (integral && !overflow) {
        if (!negative) {
            v->is_uint = true;
            v->u = mag;
            if (mag <= (uint64_t)INT64_MAX) { v->is_int = true; v->i = (int64_t)mag; }
        } else if (mag <= (uint64_t)INT64_MAX + 1) {
            v->is_int = true;
            v->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        }
    }
    return true;
}

static bool parse_value(struct parser *ps, struct json *v);

static bool parse_container(struct parser *ps, struct json *v, bool object) {
    if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
    ps->p++;  // [ or {
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    struct json **tail = &v->child;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) { ps->p++; ps->depth--; return true; }
    for (;;) {
        struct json *item = arena_alloc(ps->arena, sizeof(*item));
        if (item == NULL) return fail(ps, "out of memory");
        skip_space(ps);
        if (object) {
            size_t keylen;
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected member name");
            ps->p++;
            if (!parse_string(ps, &item->key, &keylen)) return false;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
            ps->p++;
        }
        if (!parse_value(ps, item)) return false;
        *tail = item;
        tail = &item->next;
        v->count++;
        skip_space(ps);
        if (ps->p >= ps->end) return fail(ps, "unterminated container");
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == (object ? '}' : ']')) { ps->p++; break; }
        return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    ps->depth--;
    return true;
}

static bool parse_value(struct parser *ps, struct json *v) {
    skip_space(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_container(ps, v, true);
    case '[': return parse_container(ps, v, false);
    case '"':
        ps->p++;
        v->type = JSON_STRING;
        return parse_string(ps, &v->str, &v->len);
    case 't': v->type = JSON_TRUE; return literal(ps, "true");
    case 'f': v->type = JSON_FALSE; return literal(ps, "false");
    case 'n': v->type = JSON_NULL; return literal(ps, "null");
    default: return parse_number(ps, v);
    }
}

struct json *json_parse(struct arena *a, const char *text, size_t len, char *err, size_t errlen) {
    struct parser ps = {.arena = a, .p = text, .end = text + len, .start = text, .err = err, .errlen = errlen};
    if (err != NULL && errlen > 0) err[0] = '\0';
    struct json *root = arena_alloc(a, sizeof(*root));
    if (root == NULL) { fail(&ps, "out of memory"); return NULL; }
    if (!parse_value(&ps, root)) return NULL;
    skip_space(&ps);
    if (ps.p != ps.end) { fail(&ps, "trailing characters"); return NULL; }
    return root;
}

const struct json *json_get(const struct json *object, const char *key) {
    if (object == NULL || object->type != JSON_OBJECT) return NULL;
    const struct json *found = NULL;
    for (const struct json *m = object->child; m != NULL; m = m->next)
        if (strcmp(m->key, key) == 0) found = m;
    return found;
}

const char *json_str(const struct json *v) {
    return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

bool json_bool(const struct json *v, bool fallback) {
    if (v == NULL) return fallback;
    if (v->type == JSON_TRUE) return true;
    if (v->type == JSON_FALSE) return false;
    return fallback;
}

bool json_i64(const struct json *v, int64_t *out) {
    if (v == NULL || v->type != JSON_NUMBER || !v->is_int) return false;
    *out = v->i;
    return true;
}

bool json_u64(const struct json *v, uint64_t *out) {
    if (v == NULL || v->type != JSON_NUMBER || !v->is_uint) return false;
    *out = v->u;
    return true;
}

const struct json *json_items(const struct json *v) {
    if (v == NULL || (v->type != JSON_ARRAY && v->type != JSON_OBJECT)) return NULL;
    return v->child;
}

bool json_is(const struct json *v, enum json_type type) {
    return v != NULL && v->type == type;
}

// Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid.
static size_t utf8_sequence(const unsigned char *s, size_t n, unsigned *cp) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; *cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; *cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; *cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = *cp << 6 | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp < 0xE000)) return 0;
    return len;
}

int json_append_string(struct bytes *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t plain = 0;  // start of the run of bytes copied unchanged
    if (bytes_append(out, "\"", 1) < 0) return -1;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        unsigned char c = u[i];
        const char *esc = NULL;
        char ubuf[6];
        size_t seq = 1;
        if (c >= 0x80) {
            seq = utf8_sequence(u + i, n - i, &cp);
            if (seq == 0) { esc = "\\ufffd"; seq = 1; }
            else if (cp == 0x2028) esc = "\\u2028";
            else if (cp == 0x2029) esc = "\\u2029";
        } else if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(ubuf, "\\u00", 4);
            ubuf[4] = hex[c >> 4];
            ubuf[5] = hex[c & 0xF];
            esc = ubuf;
        }
        if (esc != NULL) {
            if (bytes_append(out, s + plain, i - plain) < 0) return -1;
            if (bytes_append(out, esc, esc == ubuf ? 6 : strlen(esc)) < 0) return -1;
            plain = i + seq;
        }
        i += seq;
    }
    if (bytes_append(out, s + plain, n - plain) < 0) return -1;
    return bytes_append(out, "\"", 1);
}
