// rtnetlink glue for container networking: what `ip link add … type veth` and `ip addr/route` do,
// in one process and without spawning anything (see docs/networking.md for the figures).
#ifndef PIER_NETLINK_H
#define PIER_NETLINK_H

#include <stdint.h>

/// Creates a veth pair: `host` enslaved to the bridge `master_index` and up, its peer `peer` inside
/// the network namespace open at `netns_fd`, with `mac` (6 bytes) and `mtu`.
/// Returns 0, or a negative errno.
int pier_veth_create(const char *host, const char *peer, unsigned mtu, const unsigned char *mac,
                     int netns_fd, int master_index);

/// Inside the network namespace open at `netns_fd` (entered by the calling thread only, and left
/// before returning): brings `ifname` up, gives it `address/prefix`, and when `gateway` is not 0 adds
/// the default route through it. Addresses in network byte order. Returns 0, or a negative errno.
int pier_netns_configure(int netns_fd, const char *ifname, uint32_t address, int prefix, uint32_t gateway);

/// Deletes a link of the calling thread's namespace by name. Returns 0, or a negative errno.
int pier_link_delete(const char *name);

#endif
