// libarchive's API, for PierArchive. The functions are declared by libarchive's own headers
// (Debian's libarchive-dev); lazy.c defines each one PierArchive uses as a small forwarder that
// loads libarchive.so.13 on the first call. See lazy.c for why.
#include <archive.h>
#include <archive_entry.h>

// Unloads libarchive when no archive or entry object is alive (the next call loads it again).
// Returns 1 when it unloaded the library.
int pier_archive_unload_if_unused(void);
