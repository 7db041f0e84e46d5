/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What ifconfig, pfctl, kldload and jail would do for the tests, done with
 * the same ioctls and system calls those tools use.
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "rt.h"

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#define	COMPAT_FREEBSD14	/* DIOCGETSTATESV2: pfctl's legacy state listing */
#include <net/pfvar.h>
#include <net/if_pfsync.h>

int	 kld_load(const char *path);
int	 kld_unload(int fileid);
int	 kld_find(const char *name);

int	 if_exists(const char *ifname);
int	 if_flags(const char *ifname);
int	 if_set_up(const char *ifname, int up);
/* Creates an epair; its two ends are NAMEa and NAMEb. */
int	 if_create_epair(char name_a[16], char name_b[16]);
int	 if_destroy(const char *ifname);
int	 if_add_inet(const char *ifname, uint32_t addr_host_order, int prefix);
int	 if_move_to_jail(const char *ifname, int jid);

int	 pfsync_get(struct pfsyncreq *);
int	 pfsync_set(const struct pfsyncreq *);
/* SIOCSETPFSYNC with syncdev ("" for none), maxupd and the defer flag. */
int	 pfsync_configure(const char *syncdev, int maxupd, int defer);
int	 pfsync_stats(struct pfsyncstats *);

int	 pf_start(void);
/* Fills up to max exported states; returns how many pf holds, or -errno. */
int	 pf_states(struct pf_state_export *out, int max);
/*
 * Replaces the main filter ruleset with one rule, "pass out proto tcp to
 * port 9 route-to (rt_ifname gw) keep state" carrying min_ttl, or with no
 * rule at all when rt_ifname is NULL.
 */
int	 pf_load_route_to_rule(const char *rt_ifname, uint32_t gw, int min_ttl);

/* BPF on one interface: raw Ethernet frames out, incoming frames in. */
#define	BPF_BUFFER	262144
int	 bpf_open(const char *ifname, int incoming_only);
int	 bpf_send(int fd, const void *frame, size_t len);
/* Calls fn for every frame read until timeout_ms passes with no frame. */
int	 bpf_drain(int fd, long timeout_ms,
	    void (*fn)(const unsigned char *, size_t, void *), void *arg);

/* Frames the kernel dropped because the descriptor's buffer was full. */
long	 bpf_dropped(int fd);

int	 jail_create_vnet(const char *name);
int	 jail_attach(int jid);
int	 jail_remove(int jid);
/* After jail_attach: the next calls open their descriptors in the new VNET. */
void	 net_reopen(void);

#endif
