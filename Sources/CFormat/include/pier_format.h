// Non-variadic wrappers of the C library's number formatting, for Swift. Calling vsnprintf
// through withVaList boxes every argument in an existential and casts it back: ~1 µs a number,
// and `pier images` formats a size for each of its rows.
#include <stddef.h>

// snprintf(out, size, "%.*e", precision, value); returns what snprintf returns.
int pier_format_exponent(char *out, size_t size, int precision, double value);
