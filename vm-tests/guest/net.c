/* SPDX-License-Identifier: BSD-2-Clause */
#include "net.h"

#include <sys/fcntl.h>
#include <sys/ioctl.h>
#include <sys/jail.h>
#include <sys/linker.h>
#include <sys/sockio.h>
#include <sys/uio.h>
#include <net/bpf.h>

/* A socket and /dev/pf act on the VNET they were opened in. */
static int sock_fd = -1, pf_fd = -1;

void
net_reopen(void)
{
	sock_fd = pf_fd = -1;
}

static int
sock(void)
{
	if (sock_fd < 0)
		sock_fd = (int)SC3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	return (sock_fd);
}

static void
ifr_named(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	rt_strlcpy(ifr->ifr_name, ifname, sizeof(ifr->ifr_name));
}

int
kld_load(const char *path)
{
	return ((int)SC1(SYS_kldload, path));
}

int
kld_unload(int fileid)
{
	return ((int)SC1(SYS_kldunload, fileid));
}

int
kld_find(const char *name)
{
	return ((int)SC1(SYS_kldfind, name));
}

int
if_flags(const char *ifname)
{
	struct ifreq ifr;
	long r;

	ifr_named(&ifr, ifname);
	r = SC3(SYS_ioctl, sock(), SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return ((int)r);
	return ((ifr.ifr_flags & 0xffff) | (ifr.ifr_flagshigh << 16));
}

int
if_exists(const char *ifname)
{
	return (if_flags(ifname) >= 0);
}

int
if_set_up(const char *ifname, int up)
{
	struct ifreq ifr;
	int flags = if_flags(ifname);

	if (flags < 0)
		return (flags);
	flags = up ? flags | IFF_UP : flags & ~IFF_UP;
	ifr_named(&ifr, ifname);
	ifr.ifr_flags = (short)(flags & 0xffff);
	ifr.ifr_flagshigh = (short)(flags >> 16);
	return ((int)SC3(SYS_ioctl, sock(), SIOCSIFFLAGS, &ifr));
}

int
if_create_epair(char name_a[16], char name_b[16])
{
	struct ifreq ifr;
	size_t n;
	long r;

	ifr_named(&ifr, "epair");
	r = SC3(SYS_ioctl, sock(), SIOCIFCREATE2, &ifr);
	if (r < 0)
		return ((int)r);
	/* The kernel names the a end; the b end differs in its last letter. */
	rt_strlcpy(name_a, ifr.ifr_name, 16);
	rt_strlcpy(name_b, ifr.ifr_name, 16);
	n = rt_strlen(name_b);
	if (n > 0)
		name_b[n - 1] = 'b';
	return (0);
}

int
if_destroy(const char *ifname)
{
	struct ifreq ifr;

	ifr_named(&ifr, ifname);
	return ((int)SC3(SYS_ioctl, sock(), SIOCIFDESTROY, &ifr));
}

int
if_add_inet(const char *ifname, uint32_t addr, int prefix)
{
	struct ifaliasreq ifra;
	struct sockaddr_in *sin;

	memset(&ifra, 0, sizeof(ifra));
	rt_strlcpy(ifra.ifra_name, ifname, sizeof(ifra.ifra_name));
	sin = (struct sockaddr_in *)&ifra.ifra_addr;
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = rt_htonl(addr);
	sin = (struct sockaddr_in *)&ifra.ifra_mask;
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = rt_htonl(prefix == 0 ? 0 : ~0u << (32 - prefix));
	return ((int)SC3(SYS_ioctl, sock(), SIOCAIFADDR, &ifra));
}

int
if_move_to_jail(const char *ifname, int jid)
{
	struct ifreq ifr;

	ifr_named(&ifr, ifname);
	ifr.ifr_jid = jid;
	return ((int)SC3(SYS_ioctl, sock(), SIOCSIFVNET, &ifr));
}

int
pfsync_get(struct pfsyncreq *pr)
{
	struct ifreq ifr;

	memset(pr, 0, sizeof(*pr));
	ifr_named(&ifr, "pfsync0");
	ifr.ifr_data = (caddr_t)pr;
	return ((int)SC3(SYS_ioctl, sock(), SIOCGETPFSYNC, &ifr));
}

int
pfsync_set(const struct pfsyncreq *pr)
{
	struct ifreq ifr;

	ifr_named(&ifr, "pfsync0");
	ifr.ifr_data = (caddr_t)pr;
	return ((int)SC3(SYS_ioctl, sock(), SIOCSETPFSYNC, &ifr));
}

int
pfsync_stats(struct pfsyncstats *st)
{
	size_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return (rt_sysctl("net.pfsync.stats", st, &len, NULL, 0));
}

static int
pf_dev(void)
{
	if (pf_fd < 0)
		pf_fd = (int)SC2(SYS_open, "/dev/pf", O_RDWR);
	return (pf_fd);
}

int
pf_start(void)
{
	long r = SC3(SYS_ioctl, pf_dev(), DIOCSTART, NULL);

	return (r == -EEXIST ? 0 : (int)r);
}

int
pf_states(struct pf_state_export *out, int max)
{
	struct pfioc_states_v2 ps;
	long r;

	memset(&ps, 0, sizeof(ps));
	ps.ps_req_version = PF_STATE_VERSION;
	ps.ps_len = (int)(max * sizeof(*out));
	ps.ps_states = out;
	r = SC3(SYS_ioctl, pf_dev(), DIOCGETSTATESV2, &ps);
	if (r < 0)
		return ((int)r);
	return (ps.ps_len / (int)sizeof(*out));
}

int
bpf_open(const char *ifname, int incoming_only)
{
	struct ifreq ifr;
	u_int on = 1, dir = BPF_D_IN, blen = BPF_BUFFER;
	int fd;

	fd = (int)SC2(SYS_open, "/dev/bpf", O_RDWR);
	if (fd < 0)
		return (fd);
	ifr_named(&ifr, ifname);
	/*
	 * The buffer size only takes before BIOCSETIF; the default 4 KB holds
	 * two frames, and a bulk answer arrives faster than that drains.
	 */
	if (SC3(SYS_ioctl, fd, BIOCSBLEN, &blen) < 0 ||
	    SC3(SYS_ioctl, fd, BIOCSETIF, &ifr) < 0 ||
	    SC3(SYS_ioctl, fd, BIOCIMMEDIATE, &on) < 0 ||
	    SC3(SYS_ioctl, fd, BIOCSHDRCMPLT, &on) < 0 ||
	    (incoming_only && SC3(SYS_ioctl, fd, BIOCSDIRECTION, &dir) < 0)) {
		SC1(SYS_close, fd);
		return (-1);
	}
	return (fd);
}

int
bpf_send(int fd, const void *frame, size_t len)
{
	return ((int)SC3(SYS_write, fd, frame, len));
}

int
bpf_drain(int fd, long timeout_ms,
    void (*fn)(const unsigned char *, size_t, void *), void *arg)
{
	static unsigned char buf[BPF_BUFFER];
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	u_int blen = 0;
	int frames = 0;
	long n;

	SC3(SYS_ioctl, fd, BIOCGBLEN, &blen);
	if (blen > sizeof(buf))
		return (-1);
	SC3(SYS_ioctl, fd, BIOCSRTIMEOUT, &tv);
	while ((n = SC3(SYS_read, fd, buf, blen)) > 0) {
		long off = 0;

		while (off + (long)sizeof(struct bpf_hdr) <= n) {
			struct bpf_hdr *bh = (struct bpf_hdr *)(buf + off);

			if (off + bh->bh_hdrlen + bh->bh_caplen > n)
				break;
			fn(buf + off + bh->bh_hdrlen, bh->bh_caplen, arg);
			frames++;
			off += BPF_WORDALIGN(bh->bh_hdrlen + bh->bh_caplen);
		}
	}
	return (frames);
}

static void
iov_str(struct iovec *iov, const char *s)
{
	iov->iov_base = (void *)(uintptr_t)s;
	iov->iov_len = rt_strlen(s) + 1;
}

int
jail_create_vnet(const char *name)
{
	static int vnet_new = JAIL_SYS_NEW;
	struct iovec iov[6];

	iov_str(&iov[0], "name");
	iov_str(&iov[1], name);
	iov_str(&iov[2], "vnet");
	iov[3].iov_base = &vnet_new;
	iov[3].iov_len = sizeof(vnet_new);
	iov_str(&iov[4], "persist");
	iov[5].iov_base = NULL;
	iov[5].iov_len = 0;
	return ((int)SC3(SYS_jail_set, iov, 6, JAIL_CREATE));
}

int
jail_attach(int jid)
{
	return ((int)SC1(SYS_jail_attach, jid));
}

int
jail_remove(int jid)
{
	return ((int)SC1(SYS_jail_remove, jid));
}


long
bpf_dropped(int fd)
{
	struct bpf_stat st;

	if (SC3(SYS_ioctl, fd, BIOCGSTATS, &st) < 0)
		return (-1);
	return ((long)st.bs_drop);
}

int
pf_load_route_to_rule(const char *rt_ifname, uint32_t gw, int min_ttl)
{
	static struct pfioc_trans_e te;
	static struct pfioc_pooladdr pp;
	static struct pfioc_rule pr;
	struct pfioc_trans t;
	long r;

	memset(&te, 0, sizeof(te));
	memset(&pp, 0, sizeof(pp));
	memset(&pr, 0, sizeof(pr));
	memset(&t, 0, sizeof(t));
	te.rs_num = PF_RULESET_FILTER;
	t.size = 1;
	t.esize = sizeof(te);
	t.array = &te;
	if ((r = SC3(SYS_ioctl, pf_dev(), DIOCXBEGIN, &t)) < 0)
		return ((int)r);
	if (rt_ifname != NULL) {
		if ((r = SC3(SYS_ioctl, pf_dev(), DIOCBEGINADDRS, &pp)) < 0)
			return ((int)r - 1000);
		pp.af = AF_INET;
		pp.addr.addr.type = PF_ADDR_ADDRMASK;
		pp.addr.addr.v.a.addr.v4.s_addr = rt_htonl(gw);
		pp.addr.addr.v.a.mask.v4.s_addr = 0xffffffffu;
		rt_strlcpy(pp.addr.ifname, rt_ifname, sizeof(pp.addr.ifname));
		if ((r = SC3(SYS_ioctl, pf_dev(), DIOCADDADDR, &pp)) < 0)
			return ((int)r - 2000);
		pr.ticket = te.ticket;
		pr.pool_ticket = pp.ticket;
		pr.rule.action = PF_PASS;
		pr.rule.direction = PF_OUT;
		pr.rule.af = AF_INET;
		pr.rule.proto = IPPROTO_TCP;
		pr.rule.keep_state = PF_STATE_NORMAL;
		pr.rule.rt = PF_ROUTETO;
		pr.rule.rtableid = -1;
		pr.rule.min_ttl = (uint8_t)min_ttl;
		pr.rule.src.addr.type = PF_ADDR_ADDRMASK;
		pr.rule.dst.addr.type = PF_ADDR_ADDRMASK;
		pr.rule.dst.port_op = PF_OP_EQ;
		pr.rule.dst.port[0] = rt_htons(9);
		if ((r = SC3(SYS_ioctl, pf_dev(), DIOCADDRULE, &pr)) < 0)
			return ((int)r - 3000);
	}
	r = SC3(SYS_ioctl, pf_dev(), DIOCXCOMMIT, &t);
	return (r < 0 ? (int)r - 4000 : 0);
}

int
pfsync_configure(const char *syncdev, int maxupd, int defer)
{
	struct pfsyncreq pr;

	memset(&pr, 0, sizeof(pr));
	rt_strlcpy(pr.pfsyncr_syncdev, syncdev, sizeof(pr.pfsyncr_syncdev));
	pr.pfsyncr_maxupdates = maxupd;
	pr.pfsyncr_defer = defer ? PFSYNCF_DEFER : 0;
	return (pfsync_set(&pr));
}
