// rtnetlink requests for pierd (see include/pier_netlink.h). Each function opens its own socket,
// sends one request at a time and waits for the kernel's acknowledgement.
#define _GNU_SOURCE
#include "pier_netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct request {
    struct nlmsghdr header;
    char payload[2048];
};

static void start(struct request *r, int type, int flags, const void *body, size_t size) {
    memset(r, 0, sizeof(*r));
    r->header.nlmsg_len = NLMSG_LENGTH(size);
    r->header.nlmsg_type = type;
    r->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    memcpy(NLMSG_DATA(&r->header), body, size);
}

static struct rtattr *attribute(struct request *r, int type, const void *data, size_t size) {
    size_t offset = NLMSG_ALIGN(r->header.nlmsg_len);
    struct rtattr *attr = (struct rtattr *)((char *)r + offset);
    attr->rta_type = type;
    attr->rta_len = RTA_LENGTH(size);
    if (size > 0) memcpy(RTA_DATA(attr), data, size);
    r->header.nlmsg_len = offset + RTA_ALIGN(attr->rta_len);
    return attr;
}

static void end_nest(struct request *r, struct rtattr *nest) {
    nest->rta_len = (unsigned short)((char *)r + r->header.nlmsg_len - (char *)nest);
}

static int open_socket(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    return fd < 0 ? -errno : fd;
}

/// Sends the request and returns the kernel's answer: 0 or a negative errno.
static int talk(int fd, struct request *r) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, r, r->header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) return -errno;
    char answer[4096];
    for (;;) {
        ssize_t n = recv(fd, answer, sizeof(answer), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        }
    }
}

int pier_veth_create(const char *host, const char *peer, unsigned mtu, const unsigned char *mac,
                     int netns_fd, int master_index) {
    int fd = open_socket();
    if (fd < 0) return fd;
    struct request r;
    struct ifinfomsg link = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &link, sizeof(link));
    attribute(&r, IFLA_IFNAME, host, strlen(host) + 1);
    attribute(&r, IFLA_MTU, &mtu, sizeof(mtu));
    uint32_t master = (uint32_t)master_index;
    attribute(&r, IFLA_MASTER, &master, sizeof(master));
    struct rtattr *info = attribute(&r, IFLA_LINKINFO, NULL, 0);
    attribute(&r, IFLA_INFO_KIND, "veth", 4);
    struct rtattr *data = attribute(&r, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *peer_info = attribute(&r, VETH_INFO_PEER, NULL, 0);
    // The peer's ifinfomsg, then its attributes.
    struct ifinfomsg peer_link = {.ifi_family = AF_UNSPEC};
    size_t offset = NLMSG_ALIGN(r.header.nlmsg_len);
    memcpy((char *)&r + offset, &peer_link, sizeof(peer_link));
    r.header.nlmsg_len = offset + NLMSG_ALIGN(sizeof(peer_link));
    attribute(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
    attribute(&r, IFLA_MTU, &mtu, sizeof(mtu));
    attribute(&r, IFLA_ADDRESS, mac, 6);
    uint32_t ns = (uint32_t)netns_fd;
    attribute(&r, IFLA_NET_NS_FD, &ns, sizeof(ns));
    end_nest(&r, peer_info);
    end_nest(&r, data);
    end_nest(&r, info);
    int result = talk(fd, &r);
    close(fd);
    return result;
}

static int configure(int fd, int index, uint32_t address, int prefix, uint32_t gateway) {
    struct request r;
    struct ifinfomsg link = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    start(&r, RTM_NEWLINK, 0, &link, sizeof(link));
    int result = talk(fd, &r);
    if (result < 0) return result;

    struct ifaddrmsg addr = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
                             .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index};
    start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &addr, sizeof(addr));
    attribute(&r, IFA_LOCAL, &address, 4);
    attribute(&r, IFA_ADDRESS, &address, 4);
    uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
    uint32_t broadcast = address | ~mask;
    attribute(&r, IFA_BROADCAST, &broadcast, 4);
    result = talk(fd, &r);
    if (result < 0 || gateway == 0) return result;

    struct rtmsg route = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                          .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &route, sizeof(route));
    attribute(&r, RTA_GATEWAY, &gateway, 4);
    uint32_t oif = (uint32_t)index;
    attribute(&r, RTA_OIF, &oif, sizeof(oif));
    return talk(fd, &r);
}

int pier_netns_configure(int netns_fd, const char *ifname, uint32_t address, int prefix, uint32_t gateway) {
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int error = -errno;
        close(home);
        return error;
    }
    int result;
    int index = (int)if_nametoindex(ifname);
    int fd = open_socket();
    if (index == 0) result = -ENODEV;
    else if (fd < 0) result = fd;
    else result = configure(fd, index, address, prefix, gateway);
    if (fd >= 0) close(fd);
    // Back to the daemon's namespace; a thread that could not return must not run anything else.
    if (setns(home, CLONE_NEWNET) < 0) _exit(125);
    close(home);
    return result;
}

int pier_link_delete(const char *name) {
    int index = (int)if_nametoindex(name);
    if (index == 0) return -ENODEV;
    int fd = open_socket();
    if (fd < 0) return fd;
    struct request r;
    struct ifinfomsg link = {.ifi_family = AF_UNSPEC, .ifi_index = index};
    start(&r, RTM_DELLINK, 0, &link, sizeof(link));
    int result = talk(fd, &r);
    close(fd);
    return result;
}
