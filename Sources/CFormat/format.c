#include "pier_format.h"

#include <stdio.h>

int pier_format_exponent(char *out, size_t size, int precision, double value) {
    return snprintf(out, size, "%.*e", precision, value);
}
