/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /sbin/init of the FreeBSD test guest: loads pf and our pfsync.ko and runs
 * each case below against the real kernel, printing one line per case
 *
 *   GUEST-TEST <name> PASS|FAIL <what was measured>
 *
 * then "GUEST-DONE passed=N failed=M" and powers off.  The host side is
 * vm-tests/run.sh --local.  The fake peer is a BPF descriptor on one end of
 * an epair whose other end is pfsync0's syncdev, so every frame crosses
 * the real ip_input/ip_output paths and protocol-240 dispatch.
 */
#include "frames.h"

#include <sys/fcntl.h>
#include <sys/malloc.h>
#include <sys/reboot.h>
#include <sys/wait.h>

#define	MODULE		"/boot/kernel/pfsync.ko"
#define	LOAD_ROUNDS	50
#define	N_STATES	120
#define	MAX_STATES	4096

static int passed, failed;
static int pfsync_fileid = -1;
static char peer_if[16], sync_if[16];
static struct pf_state_export states[MAX_STATES];

static void
result(const char *name, int ok, const char *what, long a, const char *what2,
    long b)
{
	rt_puts("GUEST-TEST ");
	rt_puts(name);
	rt_puts(ok ? " PASS " : " FAIL ");
	rt_puts(what);
	if (a != -1 || what2[0] != '\0')
		rt_putn(a);
	rt_puts(what2);
	if (what2[0] != '\0')
		rt_putn(b);
	rt_puts("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static void
note(const char *s, long v)
{
	rt_puts("  ");
	rt_puts(s);
	rt_putn(v);
	rt_puts("\n");
}

/* States pf holds that came from the fake peer. */
static int
peer_states(void)
{
	int n = pf_states(states, MAX_STATES), count = 0;

	if (n < 0)
		return (n);
	for (int i = 0; i < n && i < MAX_STATES; i++)
		if (rt_htonl(states[i].creatorid) == PEER_CREATORID)
			count++;
	return (count);
}

static int
msgbuf_has(const char *needle)
{
	static char buf[65536];
	size_t len = sizeof(buf) - 1;

	if (rt_sysctl("kern.msgbuf", buf, &len, NULL, 0) < 0)
		return (-1);
	buf[len] = '\0';
	return (rt_strstr(buf, needle) != NULL);
}

/* A bulk request as a stock peer sends it: UPD_REQ for id 0, creator 0. */
static void
send_bulk_request(int bpf)
{
	struct frame f;
	struct pfsync_upd_req *ur;

	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_UPD_REQ);
	ur = frame_record(&f, sizeof(*ur));
	ur->id = 0;
	ur->creatorid = 0;
	frame_end(&f);
	bpf_send(bpf, f.buf, f.len);
}

/* CLR of every state the fake peer created. */
static void
send_clr(int bpf)
{
	struct frame f;
	struct pfsync_clr *clr;

	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_CLR);
	clr = frame_record(&f, sizeof(*clr));
	clr->creatorid = rt_htonl(PEER_CREATORID);
	frame_end(&f);
	bpf_send(bpf, f.buf, f.len);
}

static void
test_load_unload(void)
{
	int ok = 1, leaks, configured = 0;
	long t0 = rt_now_ms();

	for (int round = 1; round <= LOAD_ROUNDS && ok; round++) {
		int id = kld_load(MODULE);

		if (id <= 0 || !if_exists("pfsync0")) {
			note("load failed, round ", round);
			note("  kldload returned ", id);
			ok = 0;
			break;
		}
		/* Every other round unloads a configured, running pfsync0. */
		if (round % 2 == 0) {
			if (pfsync_configure("lo0", 128, round % 4 == 0) != 0 ||
			    if_set_up("pfsync0", 1) != 0)
				ok = 0;
			else
				configured++;
			rt_sleep_ms(20);
		}
		if (kld_unload(id) != 0 || if_exists("pfsync0")) {
			note("unload failed, round ", round);
			ok = 0;
		}
	}
	leaks = msgbuf_has("leaked memory");
	result("load_unload_50", ok && leaks == 0, "rounds=", LOAD_ROUNDS,
	    " configured_rounds=", configured);
	note("ms=", rt_now_ms() - t0);
	if (leaks != 0)
		rt_puts("  kernel reported a leaked malloc type\n");
}

static void
test_config(void)
{
	struct pfsyncreq pr;
	int ok = 1, e;

	e = pfsync_configure("nonexist0", 128, 0);
	if (e != -EINVAL) {
		note("unknown syncdev: want -EINVAL(-22), got ", e);
		ok = 0;
	}
	e = pfsync_configure("lo0", 300, 0);
	if (e != -EINVAL) {
		note("maxupd 300: want -EINVAL(-22), got ", e);
		ok = 0;
	}
	if (pfsync_configure("lo0", 64, 1) != 0 || pfsync_get(&pr) != 0 ||
	    rt_strcmp(pr.pfsyncr_syncdev, "lo0") != 0 ||
	    pr.pfsyncr_maxupdates != 64 || !(pr.pfsyncr_defer & PFSYNCF_DEFER)) {
		note("lo0/64/defer not read back, maxupd ", pr.pfsyncr_maxupdates);
		ok = 0;
	}
	/* A refused change leaves the previous configuration in place. */
	pfsync_configure("nonexist0", 32, 0);
	if (pfsync_get(&pr) != 0 || rt_strcmp(pr.pfsyncr_syncdev, "lo0") != 0 ||
	    pr.pfsyncr_maxupdates != 64) {
		note("refused SET changed the config: maxupd now ",
		    pr.pfsyncr_maxupdates);
		ok = 0;
	}
	if (if_set_up("pfsync0", 1) != 0 || !(if_flags("pfsync0") & IFF_UP) ||
	    if_set_up("pfsync0", 0) != 0 || (if_flags("pfsync0") & IFF_UP)) {
		note("up/down flags ", if_flags("pfsync0"));
		ok = 0;
	}
	if (pfsync_configure("", 128, 0) != 0 || pfsync_get(&pr) != 0 ||
	    pr.pfsyncr_syncdev[0] != '\0') {
		rt_puts("  -syncdev did not clear the sync interface\n");
		ok = 0;
	}
	result("config_ioctls", ok, "", -1, "", 0);
}

static int
setup_sync_link(void)
{
	if (if_create_epair(peer_if, sync_if) != 0 ||
	    if_add_inet(peer_if, PEER_ADDR, 24) != 0 ||
	    if_add_inet(sync_if, SYNC_ADDR, 24) != 0 ||
	    if_set_up(peer_if, 1) != 0 || if_set_up(sync_if, 1) != 0)
		return (-1);
	if (pfsync_configure(sync_if, 128, 0) != 0 || if_set_up("pfsync0", 1) != 0)
		return (-2);
	return (pf_start());
}

static void
test_import(int bpf)
{
	struct pfsyncstats before, after;
	int frames, n;

	pfsync_stats(&before);
	frames = send_inserts(bpf, 1, N_STATES, 255);
	rt_sleep_ms(500);
	pfsync_stats(&after);
	n = peer_states();
	result("import_ins_1500", n == N_STATES, "states=", n, " want=", N_STATES);
	note("frames sent ", frames);
	note("ipackets counted ", (long)(after.pfsyncs_ipackets - before.pfsyncs_ipackets));
	note("INS_1500 records counted ",
	    (long)(after.pfsyncs_iacts[PFSYNC_ACT_INS_1500] -
	    before.pfsyncs_iacts[PFSYNC_ACT_INS_1500]));
}

static void
test_bad_input(int bpf)
{
	struct pfsyncstats before, after;
	struct frame f;
	struct pfsync_state_1500 *sp;
	int n0 = peer_states(), n1, ok = 1;

	pfsync_stats(&before);
	/* TTL below 255: could have come from off-link. */
	send_inserts(bpf, 10001, 4, 64);
	/* OpenBSD's header version. */
	frame_begin(&f, PEER_ADDR, 255, 6);
	frame_section(&f, PFSYNC_ACT_INS_1500);
	state_1500(frame_record(&f, sizeof(*sp)), 10010);
	frame_end(&f);
	bpf_send(bpf, f.buf, f.len);
	/* A section that claims more records than the frame carries. */
	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_INS_1500);
	state_1500(frame_record(&f, sizeof(*sp)), 10020);
	f.count_at[1] = 9;
	frame_end(&f);
	bpf_send(bpf, f.buf, f.len);
	/* Creator id 0 and an ifname with no NUL. */
	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_INS_1500);
	sp = frame_record(&f, sizeof(*sp));
	state_1500(sp, 10030);
	sp->creatorid = 0;
	sp = frame_record(&f, sizeof(*sp));
	state_1500(sp, 10031);
	memset(sp->ifname, 'x', sizeof(sp->ifname));
	frame_end(&f);
	bpf_send(bpf, f.buf, f.len);
	rt_sleep_ms(500);
	pfsync_stats(&after);
	n1 = peer_states();
#define	GREW(field)	((long)(after.field - before.field))
	/*
	 * Stock counts neither a zero creator nor an unterminated ifname
	 * (pfsync_state_import refuses them silently); only the table is
	 * checked for those two.
	 */
	if (GREW(pfsyncs_badttl) != 1 || GREW(pfsyncs_badver) != 1 ||
	    GREW(pfsyncs_badlen) != 1)
		ok = 0;
	result("bad_input_changes_nothing", ok && n1 == n0, "states_before=", n0,
	    " after=", n1);
	note("badttl +", GREW(pfsyncs_badttl));
	note("badver +", GREW(pfsyncs_badver));
	note("badlen +", GREW(pfsyncs_badlen));
	note("badval +", GREW(pfsyncs_badval));
	note("badstate +", GREW(pfsyncs_badstate));
#undef GREW
}

/* net.pfsync.rs.counters shows what the engine did: the bulk just answered. */
static void
test_counters_sysctl(void)
{
	static char text[4096];
	size_t len = sizeof(text) - 1;
	int rc;

	memset(text, 0, sizeof(text));
	rc = rt_sysctl("net.pfsync.rs.counters", text, &len, NULL, 0);
	result("counters_sysctl", rc == 0 &&
	    rt_strstr(text, "\nbulk_requests_answered ") != NULL &&
	    rt_strstr(text, "\nbulk_requests_answered 0\n") == NULL &&
	    rt_strstr(text, "\nunknown_flag_bits ") != NULL,
	    "sysctl=", rc, " bytes=", (long)len);
}

static void
test_bulk(int bpf)
{
	struct capture c;
	int have = peer_states();

	memset(&c, 0, sizeof(c));
	send_bulk_request(bpf);
	bpf_drain(bpf, 3000, capture_frame, &c);
	result("bulk_request_answered", c.bus_start >= 1 && c.bus_end >= 1 &&
	    c.peer_states >= have && c.bad_frames == 0 && bpf_dropped(bpf) == 0,
	    "states_sent=", c.peer_states, " held=", have);
	note("frames ", c.frames);
	note("bus start ", c.bus_start);
	note("bus end ", c.bus_end);
	note("malformed frames ", c.bad_frames);
	note("frames the capture dropped ", bpf_dropped(bpf));
	test_counters_sysctl();
}

static void
test_delete(int bpf)
{
	struct frame f;
	int n0 = peer_states(), n1, removed = 0;

	for (int i = 0; i < 60;) {
		frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
		frame_section(&f, PFSYNC_ACT_DEL_C);
		for (int k = 0; k < 40 && i < 60; k++, i++) {
			struct pfsync_del_c *d = frame_record(&f, sizeof(*d));

			d->id = state_id(1 + (uint64_t)i);
			d->creatorid = rt_htonl(PEER_CREATORID);
		}
		frame_end(&f);
		bpf_send(bpf, f.buf, f.len);
	}
	rt_sleep_ms(500);
	n1 = peer_states();
	removed = n0 - n1;
	result("del_c", removed == 60, "removed=", removed, " want=", 60);

	send_clr(bpf);
	rt_sleep_ms(500);
	n1 = peer_states();
	result("clr", n1 == 0, "peer_states_left=", n1, "", 0);
}

static const struct pf_state_export *
find_state(int n, uint64_t id)
{
	for (int i = 0; i < n && i < MAX_STATES; i++)
		if (states[i].id == id &&
		    rt_htonl(states[i].creatorid) == PEER_CREATORID)
			return (&states[i]);
	return (NULL);
}

/*
 * Issue 11 item 7: FreeBSD 13 (format 1301) sends a route-to address but
 * not the interface.  With the sender's ruleset (checksums match) the route
 * comes back from the matched rule's single-entry pool, with the rule's
 * options; with another ruleset a state that was routed is skipped, and one
 * that was not is imported without a route.
 */
static void
test_import_1301_route_to(int bpf)
{
	struct capture c;
	struct frame f;
	const struct pf_state_export *routed, *unrouted, *skipped;
	uint8_t wrong[PF_MD5_DIGEST_LENGTH];
	int rc, n, ok;

	rc = pf_load_route_to_rule(peer_if, PEER_ADDR, 7);
	if (rc != 0) {
		result("import_1301_route_to", 0, "ruleset_load=", rc, "", 0);
		return;
	}
	/* Our frames carry the live checksum (item 4): learn it from a bulk. */
	memset(&c, 0, sizeof(c));
	send_bulk_request(bpf);
	bpf_drain(bpf, 2000, capture_frame, &c);

	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_INS_1301);
	state_1301(frame_record(&f, sizeof(struct pfsync_state_1301)), 701, 0,
	    PEER_ADDR);
	frame_end(&f);
	frame_set_chksum(&f, c.pf_chksum);
	bpf_send(bpf, f.buf, f.len);

	memcpy(wrong, c.pf_chksum, sizeof(wrong));
	wrong[0] ^= 0xff;
	frame_begin(&f, PEER_ADDR, 255, PFSYNC_VERSION);
	frame_section(&f, PFSYNC_ACT_INS_1301);
	state_1301(frame_record(&f, sizeof(struct pfsync_state_1301)), 702, 0,
	    PEER_ADDR);
	state_1301(frame_record(&f, sizeof(struct pfsync_state_1301)), 703, 0, 0);
	frame_end(&f);
	frame_set_chksum(&f, wrong);
	bpf_send(bpf, f.buf, f.len);
	rt_sleep_ms(500);

	n = pf_states(states, MAX_STATES);
	routed = find_state(n, state_id(701));
	skipped = find_state(n, state_id(702));
	unrouted = find_state(n, state_id(703));
	ok = routed != NULL && routed->rt == PF_ROUTETO &&
	    rt_strcmp(routed->rt_ifname, peer_if) == 0 &&
	    routed->rt_addr.v4.s_addr == rt_htonl(PEER_ADDR) &&
	    routed->rule == 0 && routed->min_ttl == 7 &&
	    skipped == NULL && unrouted != NULL && unrouted->rt == 0 &&
	    unrouted->rule == 0xffffffffu;
	result("import_1301_route_to", ok, "routed=", routed != NULL,
	    " unrouted=", unrouted != NULL);
	if (routed != NULL) {
		note("routed: rt ", routed->rt);
		note("routed: rule ", (long)routed->rule);
		note("routed: min_ttl from the rule ", routed->min_ttl);
		rt_puts("  routed: rt_ifname ");
		rt_puts(routed->rt_ifname);
		rt_puts("\n");
	}
	note("skipped state present ", skipped != NULL);
	if (unrouted != NULL)
		note("unrouted: rt ", unrouted->rt);

	pf_load_route_to_rule(NULL, 0, 0);
	send_clr(bpf);
	rt_sleep_ms(300);
}

/*
 * The deadlock class of issue 11 item 9: a VNET jail running pfsync0 is
 * removed while frames keep arriving.  vnet_destroy runs on
 * taskqueue_thread; if teardown waits on that queue the epair end never
 * comes home and the jail never dies.
 */
static void
test_jail_teardown(int bpf)
{
	long child, t0, home_ms = -1;
	int jid, status;

	jid = jail_create_vnet("fw1");
	if (jid < 0 || if_move_to_jail(sync_if, jid) != 0) {
		result("vnet_jail_removed_under_traffic", 0, "jail/vnet move failed: ",
		    jid, "", 0);
		return;
	}
	child = rt_fork();
	if (child == 0) {
		int e, step = 0;

		if ((e = jail_attach(jid)) == 0 && ++step &&
		    (net_reopen(), 1) &&
		    (e = if_set_up(sync_if, 1)) == 0 && ++step &&
		    (e = if_add_inet(sync_if, SYNC_ADDR, 24)) == 0 && ++step &&
		    (e = pfsync_configure(sync_if, 128, 0)) == 0 && ++step &&
		    (e = if_set_up("pfsync0", 1)) == 0 && ++step)
			e = pf_start();
		if (e != 0) {
			note("in the jail: failed at step ", step);
			note("  error ", e);
		}
		SC1(SYS_exit, e == 0 ? 0 : 1);
	}
	SC4(SYS_wait4, child, &status, 0, NULL);
	if (status != 0) {
		jail_remove(jid);
		result("vnet_jail_removed_under_traffic", 0,
		    "configuring pfsync0 in the jail failed, status ", status, "", 0);
		return;
	}
	for (int i = 0; i < 40; i++)
		send_inserts(bpf, 20000 + (uint64_t)i * 8, 8, 255);
	jail_remove(jid);
	t0 = rt_now_ms();
	for (int i = 0; i < 40; i++)
		send_inserts(bpf, 30000 + (uint64_t)i * 8, 8, 255);
	while (rt_now_ms() - t0 < 60000) {
		if (if_exists(sync_if)) {
			home_ms = rt_now_ms() - t0;
			break;
		}
		rt_sleep_ms(50);
	}
	result("vnet_jail_removed_under_traffic", home_ms >= 0,
	    "syncdev_home_after_ms=", home_ms, "", 0);
}

static void
test_unload_under_traffic(int bpf)
{
	int ok;

	if (if_add_inet(sync_if, SYNC_ADDR, 24) != 0 || if_set_up(sync_if, 1) != 0 ||
	    pfsync_configure(sync_if, 128, 0) != 0 || if_set_up("pfsync0", 1) != 0) {
		result("unload_under_traffic", 0, "setup failed", -1, "", 0);
		return;
	}
	send_inserts(bpf, 40000, 200, 255);
	ok = kld_unload(pfsync_fileid) == 0 && !if_exists("pfsync0");
	send_inserts(bpf, 41000, 40, 255);
	pfsync_fileid = kld_load(MODULE);
	ok = ok && pfsync_fileid > 0 && if_exists("pfsync0");
	result("unload_under_traffic", ok, "reloaded_fileid=", pfsync_fileid, "", 0);
}

/*
 * Bytes of a malloc(9) type in use, as vmstat -m reads them from
 * kern.malloc_stats (a stream header, then per type its name and one stats
 * record per possible CPU, MAXCPU of them: 64 KB a type on amd64, hence
 * the large buffer); -1 if the type is not registered.
 */
static long
malloc_in_use(const char *type)
{
	static unsigned char buf[32 << 20];
	const struct malloc_type_stream_header *sh = (const void *)buf;
	size_t len = sizeof(buf), off, rec;
	int e;

	if ((e = rt_sysctl("kern.malloc_stats", buf, &len, NULL, 0)) < 0 ||
	    len < sizeof(*sh)) {
		note("kern.malloc_stats: error ", e);
		return (-1);
	}
	rec = sizeof(struct malloc_type_header) +
	    (size_t)sh->mtsh_maxcpus * sizeof(struct malloc_type_stats);
	for (off = sizeof(*sh); off + rec <= len; off += rec) {
		const struct malloc_type_header *th = (const void *)(buf + off);
		const struct malloc_type_stats *st = (const void *)(th + 1);
		long bytes = 0;

		if (rt_strcmp(th->mth_name, type) != 0)
			continue;
		for (uint32_t cpu = 0; cpu < sh->mtsh_maxcpus; cpu++)
			bytes += (long)(st[cpu].mts_memalloced - st[cpu].mts_memfreed);
		return (bytes);
	}
	return (-1);
}

static long
uma_current(const char *zone_ctlname)
{
	char name[64] = "vm.uma.";
	int cur = -1;
	size_t len = sizeof(cur);

	rt_strlcpy(name + 7, zone_ctlname, sizeof(name) - 7);
	rt_strlcpy(name + rt_strlen(name), ".stats.current",
	    sizeof(name) - rt_strlen(name));
	return (rt_sysctl(name, &cur, &len, NULL, 0) < 0 ? -1 : cur);
}

/*
 * kldload/kldunload with states in pf's table that came through pfsync0:
 * every round loads the module, configures and raises pfsync0, imports the
 * same 24 states, and unloads.  Neither our malloc type (read just before
 * each unload, like vmstat -m) nor pf's state zone (vmstat -z) may grow
 * from one round to the next, and the kernel may report no leak.
 */
#define	STATE_ROUNDS	50
#define	ROUND_STATES	24

static void
test_load_unload_with_states(int bpf)
{
	long first_bytes = -1, max_bytes = -1, zone_first = -1, zone_last = -1;
	int ok = 1, round;

	if (kld_unload(pfsync_fileid) != 0)
		ok = 0;
	pfsync_fileid = -1;
	for (round = 1; round <= STATE_ROUNDS && ok; round++) {
		int id = kld_load(MODULE);
		long bytes;

		if (id <= 0 || pfsync_configure(sync_if, 128, 0) != 0 ||
		    if_set_up("pfsync0", 1) != 0) {
			note("load/configure failed, round ", round);
			ok = 0;
			break;
		}
		send_inserts(bpf, 60000, ROUND_STATES, 255);
		rt_sleep_ms(60);
		bytes = malloc_in_use("pfsync");
		if (round == 2)
			first_bytes = bytes;
		if (bytes > max_bytes)
			max_bytes = bytes;
		if (round == 2)
			zone_first = uma_current("pf_states");
		zone_last = uma_current("pf_states");
		if (kld_unload(id) != 0 || if_exists("pfsync0")) {
			note("unload failed, round ", round);
			ok = 0;
		}
	}
	/* Round 1 sets up what later rounds reuse; from round 2 on, no growth. */
	if (first_bytes <= 0 || max_bytes > first_bytes) {
		note("our malloc type in use at round 2: ", first_bytes);
		note("  most in any later round: ", max_bytes);
		ok = 0;
	}
	if (zone_first < ROUND_STATES || zone_last != zone_first) {
		note("pf_states zone at round 2: ", zone_first);
		note("  at the last round: ", zone_last);
		ok = 0;
	}
	if (msgbuf_has("leaked memory") != 0)
		ok = 0;
	result("load_unload_with_states", ok, "rounds=", round - 1,
	    " malloc_bytes=", first_bytes);
	note("pf_states zone items ", zone_last);
	pfsync_fileid = kld_load(MODULE);
}

void _start(void) __attribute__((noreturn));

void
_start(void)
{
	int fd, bpf;

	fd = (int)SC2(SYS_open, "/dev/console", O_RDWR);
	if (fd >= 0) {
		SC2(SYS_dup2, fd, 0);
		SC2(SYS_dup2, fd, 1);
		SC2(SYS_dup2, fd, 2);
	}
	rt_puts("\nGUEST-START pfsync-rs guest tests\n");
	/* epair is compiled into the test kernel (vm-tests/image/). */
	if (kld_load("/boot/kernel/crypto.ko") <= 0 ||
	    kld_load("/boot/kernel/pf.ko") <= 0)
		rt_puts("  (a prerequisite module did not load)\n");

	test_load_unload();
	pfsync_fileid = kld_load(MODULE);
	if (pfsync_fileid <= 0) {
		result("module_loaded", 0, "kldload=", pfsync_fileid, "", 0);
		goto done;
	}
	test_config();
	fd = setup_sync_link();
	bpf = fd == 0 ? bpf_open(peer_if, 1) : -1;
	if (bpf < 0) {
		result("sync_link_setup", 0, "setup=", fd, " bpf=", bpf);
		goto done;
	}
	test_import(bpf);
	test_bad_input(bpf);
	test_bulk(bpf);
	test_delete(bpf);
	test_import_1301_route_to(bpf);
	test_jail_teardown(bpf);
	test_unload_under_traffic(bpf);
	test_load_unload_with_states(bpf);
done:
	rt_puts("GUEST-DONE passed=");
	rt_putn(passed);
	rt_puts(" failed=");
	rt_putn(failed);
	rt_puts("\n");
	SC1(SYS_reboot, RB_POWEROFF);
	for (;;)
		SC1(SYS_exit, 0);
}

/* The ABI note that makes the kernel run this as a FreeBSD binary. */
__attribute__((section(".note.tag"), aligned(4), used))
static const struct {
	int namesz, descsz, type;
	char name[8];
	int desc;
} abi_tag = { 8, 4, 1, "FreeBSD", 1501000 };
