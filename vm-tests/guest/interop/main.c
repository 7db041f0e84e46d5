/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /sbin/init of one of two FreeBSD guests joined by a virtio link (QEMU
 * socket netdev), for interoperation with the stock pfsync.ko and for the
 * bulk figures of stock against ours (vm-tests/interop.sh).  The loader
 * variable pfsync_interop.role says what this guest is:
 *
 *   sender-stock, sender-ours      holds N states (imported from a fake peer
 *                                  on an epair) and answers bulk requests
 *                                  on vtnet0
 *   receiver-stock, receiver-ours  joins on vtnet0 and times how long its
 *                                  bulk request takes to bring all N states
 *
 * and which module it loads (/boot/kernel/pfsync-stock.ko or pfsync.ko).
 * Output lines: "INTEROP-READY", "INTEROP-RESULT ...", "INTEROP-DONE".
 */
#include "../frames.h"

#include <sys/fcntl.h>
#include <sys/kenv.h>
#include <sys/reboot.h>

#define	LINK_SENDER	0x0a000001u	/* 10.0.0.1 */
#define	LINK_RECEIVER	0x0a000002u	/* 10.0.0.2 */
#define	LINK_IF		"vtnet0"
#define	MAX_STATES	65536
#define	WAIT_MS		240000

static struct pf_state_export states[MAX_STATES];

static int
peer_states(void)
{
	int n = pf_states(states, MAX_STATES), count = 0;

	for (int i = 0; i < n && i < MAX_STATES; i++)
		if (rt_htonl(states[i].creatorid) == PEER_CREATORID)
			count++;
	return (n < 0 ? n : count);
}

static long
kenv_number(const char *name, long dflt)
{
	char buf[32];
	long v = 0;

	memset(buf, 0, sizeof(buf));
	if (SC4(SYS_kenv, KENV_GET, name, buf, sizeof(buf) - 1) < 0)
		return (dflt);
	for (int i = 0; buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	return (v);
}

static void
say(const char *what, const char *k1, long v1, const char *k2, long v2)
{
	rt_puts(what);
	rt_puts(k1);
	rt_putn(v1);
	rt_puts(k2);
	rt_putn(v2);
	rt_puts("\n");
}

static void
stats_line(void)
{
	struct pfsyncstats s;

	if (pfsync_stats(&s) != 0)
		return;
	say("  ipackets=", "", (long)s.pfsyncs_ipackets, " opackets=",
	    (long)s.pfsyncs_opackets);
	say("  badver=", "", (long)s.pfsyncs_badver, " badlen=",
	    (long)s.pfsyncs_badlen);
	say("  badact=", "", (long)s.pfsyncs_badact, " badstate=",
	    (long)s.pfsyncs_badstate);
}

/* Holds n states from the fake peer, then serves bulk requests on vtnet0. */
static void
sender(int n)
{
	char peer_if[16], sync_if[16];
	long t0;
	u_int pace_us;
	int bpf, have = 0;

	if (if_create_epair(peer_if, sync_if) != 0 ||
	    if_add_inet(peer_if, PEER_ADDR, 24) != 0 ||
	    if_add_inet(sync_if, SYNC_ADDR, 24) != 0 ||
	    if_set_up(peer_if, 1) != 0 || if_set_up(sync_if, 1) != 0 ||
	    pfsync_configure(sync_if, 128, 0) != 0 ||
	    if_set_up("pfsync0", 1) != 0 || pf_start() != 0 ||
	    (bpf = bpf_open(peer_if, 1)) < 0) {
		rt_puts("INTEROP-RESULT FAIL sender setup\n");
		return;
	}
	t0 = rt_now_ms();
	send_inserts(bpf, 1, n, 255);
	while (rt_now_ms() - t0 < 60000 && (have = peer_states()) < n)
		rt_sleep_ms(200);
	if (if_add_inet(LINK_IF, LINK_SENDER, 24) != 0 ||
	    if_set_up(LINK_IF, 1) != 0 || pfsync_configure(LINK_IF, 128, 0) != 0) {
		rt_puts("INTEROP-RESULT FAIL sender link\n");
		return;
	}
	pace_us = (u_int)kenv_number("pfsync_interop.pace_us", 0);
	if (pace_us != 0 && rt_sysctl("net.pfsync.rs.bulk_pace_us", NULL, NULL,
	    &pace_us, sizeof(pace_us)) != 0)
		rt_puts("  (net.pfsync.rs.bulk_pace_us not set)\n");
	say("INTEROP-READY", " states=", have, " ms=", rt_now_ms() - t0);
	/* The host stops this guest once the receiver has finished. */
	for (;;) {
		rt_sleep_ms(5000);
		stats_line();
	}
}

/* Joins on vtnet0 and times the bulk that brings the sender's n states. */
static void
receiver(int n)
{
	long t0, ms;
	int have = 0;

	if (if_add_inet(LINK_IF, LINK_RECEIVER, 24) != 0 ||
	    if_set_up(LINK_IF, 1) != 0 || pf_start() != 0 ||
	    if_set_up("pfsync0", 1) != 0) {
		rt_puts("INTEROP-RESULT FAIL receiver setup\n");
		return;
	}
	t0 = rt_now_ms();
	/* Setting a sync interface sends the bulk request (stock and ours). */
	if (pfsync_configure(LINK_IF, 128, 0) != 0) {
		rt_puts("INTEROP-RESULT FAIL receiver link\n");
		return;
	}
	while ((ms = rt_now_ms() - t0) < WAIT_MS && (have = peer_states()) < n)
		rt_sleep_ms(50);
	rt_puts(have == n ? "INTEROP-RESULT PASS" : "INTEROP-RESULT FAIL");
	say("", " states=", have, " ms=", ms);
	stats_line();
}

void
_start(void)
{
	char role[32];
	int fd, n, ours;

	fd = (int)SC2(SYS_open, "/dev/console", O_RDWR);
	if (fd >= 0) {
		SC2(SYS_dup2, fd, 0);
		SC2(SYS_dup2, fd, 1);
		SC2(SYS_dup2, fd, 2);
	}
	memset(role, 0, sizeof(role));
	SC4(SYS_kenv, KENV_GET, "pfsync_interop.role", role, sizeof(role) - 1);
	n = (int)kenv_number("pfsync_interop.states", 10000);
	if (n > MAX_STATES)
		n = MAX_STATES;
	ours = rt_strstr(role, "ours") != NULL;
	rt_puts("\nINTEROP-START role=");
	rt_puts(role);
	rt_puts("\n");
	if (kld_load("/boot/kernel/crypto.ko") <= 0 ||
	    kld_load("/boot/kernel/pf.ko") <= 0 ||
	    kld_load(ours ? "/boot/kernel/pfsync.ko" :
	    "/boot/kernel/pfsync-stock.ko") <= 0)
		rt_puts("INTEROP-RESULT FAIL a module did not load\n");
	else if (rt_strstr(role, "sender") != NULL)
		sender(n);
	else
		receiver(n);
	rt_puts("INTEROP-DONE\n");
	SC1(SYS_reboot, RB_POWEROFF);
	for (;;)
		SC1(SYS_exit, 0);
}

__attribute__((section(".note.tag"), aligned(4), used))
static const struct {
	int namesz, descsz, type;
	char name[8];
	int desc;
} abi_tag = { 8, 4, 1, "FreeBSD", 1501000 };
