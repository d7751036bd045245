// pier-shim: see docs/runtime.md (in progress).
#include <stdio.h>
int main(void) { fprintf(stderr, "pier-shim: not built yet\n"); return 125; }
