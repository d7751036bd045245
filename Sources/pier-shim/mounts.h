// The container's filesystem, built in its own mount namespace: the overlay root,
// the config's mounts, /dev, pivot_root, masked and read-only paths. Each function
// is one setup step of the child: 0, or -1 with the failure recorded in the child.
#ifndef PIER_MOUNTS_H
#define PIER_MOUNTS_H
#include "child.h"

int make_mounts_private(struct child *c);
int mount_root(struct child *c);
int mount_config_mounts(struct child *c);
int mount_cgroup_mounts(struct child *c);
int create_devices(struct child *c);
int create_dev_symlinks(struct child *c);
int open_container_console(struct child *c);
int pivot_into_root(struct child *c);
int mask_paths(struct child *c);
int make_paths_readonly(struct child *c);
int make_root_readonly(struct child *c);

// In the shim, before the clone: the overlay mount options from the annotations
// (NULL when there is no overlay). When they would not fit in a page, the names are
// relative to their common parent, returned in *dir for the child to chdir into.
int overlay_prepare(const struct spec *s, struct arena *a, const char **options, const char **dir, char *err,
                    size_t errlen);

#endif
