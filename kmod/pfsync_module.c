/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Module lifecycle, per-VNET setup, sysctls, and the small services the
 * Rust core links against by name (memory, logging).
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/module.h>
#include <sys/mutex.h>
#include <sys/nv.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/sysctl.h>
#include <sys/syslog.h>
#include <sys/taskqueue.h>
#include <sys/time.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/if_private.h>
#include <net/vnet.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip_carp.h>
#include <netinet/ip_var.h>
#include <netinet6/ip6_var.h>

#include "pfsync_rs.h"

MALLOC_DEFINE(M_PFSYNC_RS, "pfsync", "pfsync(4) data (pfsync-rs)");

/* Stock values: carp demotion CARP_MAXSKEW, defer delay 20 ms. */
#define	PFSYNC_RS_DEFER_DELAY_MS	20
/* Anti-entropy digest period (docs/anti-entropy.md) and its bounds. */
#define	PFSYNC_RS_AE_PERIOD_MS		5000
#define	PFSYNC_RS_AE_PERIOD_MIN_MS	100
#define	PFSYNC_RS_AE_PERIOD_MAX_MS	3600000

VNET_DEFINE(struct pfsync_rs_softc *, pfsync_rs_softc) = NULL;
VNET_DEFINE(int, pfsync_rs_carp_adj) = CARP_MAXSKEW;
VNET_DEFINE(u_int, pfsync_rs_defer_delay_ms) = PFSYNC_RS_DEFER_DELAY_MS;
VNET_DEFINE(u_int, pfsync_rs_bulk_pace_us) = 0;
VNET_DEFINE(u_int, pfsync_rs_anti_entropy) = 0;
VNET_DEFINE(u_int, pfsync_rs_ae_period_ms) = PFSYNC_RS_AE_PERIOD_MS;

/*
 * Accepted so a stock loader.conf keeps working, and ignored: the engine
 * has a fixed 4 buckets behind one lock, and hooks only park events, so
 * stock's per-bucket parallelism has nothing to spread (man page, docs).
 */
static unsigned long pfsync_rs_buckets;

_Static_assert(sizeof(struct pfsyncstats) ==
    16 * sizeof(uint64_t) + 2 * PFSYNC_ACT_MAX * sizeof(uint64_t),
    "struct pfsyncstats is 16 counters then iacts[] and oacts[]");

uint64_t
pfsync_rs_now_ns(void)
{
	return (sbttons(sbinuptime()));
}

void *
pfsync_rs_kmalloc(size_t size, size_t align)
{
	if (size == 0 || align == 0 || align > PAGE_SIZE ||
	    (align & (align - 1)) != 0)
		return (NULL);
	if (align <= sizeof(void *) * 2)
		return (malloc(size, M_PFSYNC_RS, M_NOWAIT));
	return (malloc_aligned(size, align, M_PFSYNC_RS, M_NOWAIT));
}

void
pfsync_rs_kfree(void *ptr)
{
	free(ptr, M_PFSYNC_RS);
}

void
pfsync_rs_klog(int level, const uint8_t *msg, size_t len)
{
	if (len > INT_MAX)
		len = INT_MAX;
	log(level, "pfsync: %.*s\n", (int)len, (const char *)msg);
}

/*
 * Sysctls.  net.pfsync.stats keeps the exact layout of the running release's
 * struct pfsyncstats so stock netstat(1) reads it; the counters themselves
 * live in the engine.
 */
SYSCTL_NODE(_net, OID_AUTO, pfsync, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "PFSYNC");
SYSCTL_NODE(_net_pfsync, OID_AUTO, rs, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "pfsync-rs extensions");

static int
pfsync_rs_sysctl_stats(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsyncstats stats;
	int error;

	memset(&stats, 0, sizeof(stats));
	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			(void)pfsync_rs_stats_export(sc->sc_engine, &stats,
			    sizeof(stats));
		pfsync_rs_engine_leave(sc);
		pfsync_rs_input_stats(sc, &stats);
	}
	error = SYSCTL_OUT(req, &stats, sizeof(stats));
	if (error != 0 || req->newptr == NULL)
		return (error);

	/* Writing (netstat -z writes zeros) clears the counters. */
	error = SYSCTL_IN(req, &stats, sizeof(stats));
	if (error != 0)
		return (error);
	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_stats_clear(sc->sc_engine);
		pfsync_rs_engine_leave(sc);
		pfsync_rs_input_stats_clear(sc);
	}
	return (0);
}
SYSCTL_PROC(_net_pfsync, OID_AUTO, stats,
    CTLTYPE_STRUCT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_stats, "S,pfsyncstats",
    "PFSYNC statistics (struct pfsyncstats, net/if_pfsync.h)");

/*
 * Push a knob change into the engine's configuration.  Only turning
 * anti-entropy on can fail (ENOMEM).
 */
static int
pfsync_rs_knobs_changed(void)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	int error = 0;

	if (sc == NULL)
		return (0);
	sx_xlock(&sc->sc_cfg_sx);
	pfsync_rs_engine_enter(sc);
	sc->sc_cfg.carp_demotion = V_pfsync_rs_carp_adj;
	sc->sc_cfg.defer_delay_ms = V_pfsync_rs_defer_delay_ms;
	sc->sc_cfg.bulk_pace_us = V_pfsync_rs_bulk_pace_us;
	memcpy(sc->sc_cfg.hostid_be, &V_pf_status.hostid,
	    sizeof(sc->sc_cfg.hostid_be));
	memcpy(sc->sc_cfg.pf_cksum, V_pf_status.pf_chksum,
	    sizeof(sc->sc_cfg.pf_cksum));
	if (sc->sc_engine != NULL) {
		(void)pfsync_rs_on_config_changed(sc->sc_engine, &sc->sc_cfg,
		    pfsync_rs_now_ns());
		error = pfsync_rs_anti_entropy_set(sc->sc_engine,
		    V_pfsync_rs_anti_entropy != 0, V_pfsync_rs_ae_period_ms,
		    pfsync_rs_now_ns());
	}
	pfsync_rs_engine_leave(sc);
	sx_xunlock(&sc->sc_cfg_sx);
	return (error);
}

static int
pfsync_rs_sysctl_knob(SYSCTL_HANDLER_ARGS)
{
	u_int value, old;
	int error;

	value = *(u_int *)arg1;
	error = sysctl_handle_int(oidp, &value, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (arg2 != 0 && value > (u_int)arg2)
		return (EINVAL);
	if (arg1 == &V_pfsync_rs_ae_period_ms &&
	    value < PFSYNC_RS_AE_PERIOD_MIN_MS)
		return (EINVAL);
	old = *(u_int *)arg1;
	*(u_int *)arg1 = value;
	error = pfsync_rs_knobs_changed();
	if (error != 0) {
		*(u_int *)arg1 = old;
		(void)pfsync_rs_knobs_changed();
	}
	return (error);
}

SYSCTL_PROC(_net_pfsync, OID_AUTO, carp_demotion_factor,
    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE,
    &VNET_NAME(pfsync_rs_carp_adj), 0, pfsync_rs_sysctl_knob, "I",
    "pfsync's CARP demotion factor adjustment");
SYSCTL_ULONG(_net_pfsync, OID_AUTO, pfsync_buckets, CTLFLAG_RDTUN,
    &pfsync_rs_buckets, 0,
    "Number of pfsync hash buckets (accepted, unused: one engine per VNET)");
SYSCTL_PROC(_net_pfsync, OID_AUTO, defer_delay,
    CTLTYPE_UINT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE,
    &VNET_NAME(pfsync_rs_defer_delay_ms), 10000, pfsync_rs_sysctl_knob, "IU",
    "Deferred packet timeout (in ms)");
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, bulk_pace_us,
    CTLTYPE_UINT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE,
    &VNET_NAME(pfsync_rs_bulk_pace_us), 1000000, pfsync_rs_sysctl_knob, "IU",
    "Pause between bulk-update frames in microseconds (0: as fast as the "
    "engine's default pacing allows)");

SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, anti_entropy,
    CTLTYPE_UINT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE,
    &VNET_NAME(pfsync_rs_anti_entropy), 1, pfsync_rs_sysctl_knob, "IU",
    "Loss repair between pfsync-rs peers by periodic digests (0: off, 1: on)");
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, ae_period_ms,
    CTLTYPE_UINT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE,
    &VNET_NAME(pfsync_rs_ae_period_ms), PFSYNC_RS_AE_PERIOD_MAX_MS,
    pfsync_rs_sysctl_knob, "IU",
    "Anti-entropy digest period in milliseconds (100 to 3600000)");

static int
pfsync_rs_sysctl_ae(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsync_rs_ae_stats st;
	char buf[256];

	memset(&st, 0, sizeof(st));
	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_anti_entropy_stats(sc->sc_engine, &st);
		pfsync_rs_engine_leave(sc);
	}
	if (st.enabled == 0)
		snprintf(buf, sizeof(buf), "off");
	else
		snprintf(buf, sizeof(buf),
		    "digests %ju frames %ju bytes %ju compared %ju "
		    "mismatched %ju requested %ju deleted %ju ignored %ju "
		    "nomem %ju walked %ju slices %ju",
		    (uintmax_t)st.digests_sent, (uintmax_t)st.frames_sent,
		    (uintmax_t)st.bytes_sent, (uintmax_t)st.rounds_compared,
		    (uintmax_t)st.buckets_mismatched,
		    (uintmax_t)st.updates_requested,
		    (uintmax_t)st.states_deleted, (uintmax_t)st.ignored,
		    (uintmax_t)st.no_memory, (uintmax_t)st.states_walked,
		    (uintmax_t)st.walk_slices);
	return (sysctl_handle_string(oidp, buf, sizeof(buf), req));
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, ae,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_ae, "A",
    "Anti-entropy counters: digests and frames sent, rounds compared, "
    "buckets that differed, repairs requested, copies deleted");

static int
pfsync_rs_sysctl_bulk(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	uint64_t sent = 0;
	uint32_t pending = 0;
	char buf[64];

	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_bulk_progress(sc->sc_engine, &sent, &pending);
		pfsync_rs_engine_leave(sc);
	}
	snprintf(buf, sizeof(buf), "sent %ju request_pending %u",
	    (uintmax_t)sent, pending);
	return (sysctl_handle_string(oidp, buf, sizeof(buf), req));
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, bulk,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_bulk, "A",
    "Bulk update progress: states sent in the last answer, request pending");

static int
pfsync_rs_sysctl_resync(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	int value = 0, error;

	error = sysctl_handle_int(oidp, &value, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (value != 1)
		return (EINVAL);
	if (sc == NULL)
		return (ENXIO);
	pfsync_rs_engine_enter(sc);
	if (sc->sc_engine != NULL)
		pfsync_rs_on_resync_requested(sc->sc_engine,
		    pfsync_rs_now_ns());
	pfsync_rs_engine_leave(sc);
	return (0);
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, resync,
    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_resync, "I",
    "Write 1 to request a full bulk update from the peers now");

/*
 * Frame authentication (docs/auth.md).  net.pfsync.rs.auth_key is write-only:
 * "ID:HEX" installs the 32-byte key ID (64 hex digits), "clear" removes every
 * key.  Reading it returns nothing; net.pfsync.rs.auth shows the state.
 */
static int
pfsync_rs_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* "ID:HEX" into id and key; 0 or EINVAL. */
static int
pfsync_rs_parse_key(const char *s, uint8_t *id, uint8_t *key, size_t keylen)
{
	u_int v = 0;
	size_t i;
	int hi, lo;

	if (*s == '\0')
		return (EINVAL);
	for (; *s != ':'; s++) {
		if (*s < '0' || *s > '9' || v > 25)
			return (EINVAL);
		v = v * 10 + (*s - '0');
	}
	if (v > 255)
		return (EINVAL);
	s++;
	for (i = 0; i < keylen; i++) {
		hi = pfsync_rs_hexval(s[2 * i]);
		lo = hi < 0 ? -1 : pfsync_rs_hexval(s[2 * i + 1]);
		if (lo < 0)
			return (EINVAL);
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2 * keylen] != '\0' && s[2 * keylen] != '\n')
		return (EINVAL);
	*id = (uint8_t)v;
	return (0);
}

static int
pfsync_rs_sysctl_auth_key(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct timespec wall;
	char buf[80];
	uint8_t key[32], id;
	int error;

	memset(buf, 0, sizeof(buf));
	error = sysctl_handle_string(oidp, buf, sizeof(buf), req);
	if (error != 0 || req->newptr == NULL)
		goto out;
	if (sc == NULL) {
		error = ENXIO;
		goto out;
	}
	if (strcmp(buf, "clear") == 0 || strcmp(buf, "clear\n") == 0) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_auth_clear(sc->sc_engine, pfsync_rs_now_ns());
		pfsync_rs_engine_leave(sc);
		goto out;
	}
	error = pfsync_rs_parse_key(buf, &id, key, sizeof(key));
	if (error != 0)
		goto out;
	/*
	 * The engine may have been created before inittodr() (preloaded):
	 * its signing epoch is taken from the wall clock of the first key.
	 */
	getnanotime(&wall);
	pfsync_rs_engine_enter(sc);
	error = sc->sc_engine == NULL ? ENXIO :
	    pfsync_rs_auth_set_key_at(sc->sc_engine, id, key, sizeof(key),
	    (uint64_t)wall.tv_sec * 1000000000 + (uint64_t)wall.tv_nsec,
	    pfsync_rs_now_ns());
	pfsync_rs_engine_leave(sc);
out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(key, sizeof(key));
	return (error);
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, auth_key,
    CTLTYPE_STRING | CTLFLAG_WR | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_auth_key, "A",
    "Write ID:HEX to install a 32-byte frame authentication key, or clear");

static int
pfsync_rs_sysctl_auth(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	int enabled = 0, send_id = -1;
	char buf[48];

	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_auth_status(sc->sc_engine, &enabled, &send_id);
		pfsync_rs_engine_leave(sc);
	}
	if (enabled)
		snprintf(buf, sizeof(buf), "on, signing with key %d", send_id);
	else
		snprintf(buf, sizeof(buf), "off");
	return (sysctl_handle_string(oidp, buf, sizeof(buf), req));
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, auth,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_auth, "A", "Frame authentication state");

/*
 * What MOD_LOAD set up, so that the MOD_UNLOAD the kernel sends after a
 * failed MOD_LOAD (kern_module.c) undoes exactly that and nothing more: in
 * particular never the protocol-240 handler of a module loaded before us.
 */
static bool pfsync_rs_proto_ready;

static bool
pfsync_rs_kernel_checked(void)
{
	return (osreldate >= PFSYNC_RS_OSREL_MIN &&
	    osreldate <= PFSYNC_RS_OSREL_MAX);
}

/*
 * Per-VNET life: the cloner creates pfsync0 (softc + engine) and the hooks
 * go in at once, as stock does; teardown runs in reverse.
 */
static void
pfsync_rs_vnet_init(const void *unused __unused)
{
	/* The SYSINITs of one file run in no fixed order against MOD_LOAD. */
	if (!pfsync_rs_kernel_checked())
		return;
	if (pfsync_rs_clone_attach() != 0) {
		log(LOG_ERR, "pfsync: cannot attach the pfsync cloner\n");
		return;
	}
	pfsync_rs_hooks_install();
}
VNET_SYSINIT(pfsync_rs_vnet_init, SI_SUB_PROTO_FIREWALL, SI_ORDER_ANY,
    pfsync_rs_vnet_init, NULL);

static void
pfsync_rs_vnet_uninit(const void *unused __unused)
{
	pfsync_rs_hooks_remove();
	pfsync_rs_clone_detach();
}
VNET_SYSUNINIT(pfsync_rs_vnet_uninit, SI_SUB_PROTO_FIREWALL, SI_ORDER_FOURTH,
    pfsync_rs_vnet_uninit, NULL);

static int
pfsync_rs_modevent(module_t mod __unused, int type, void *data __unused)
{
	int error;

	switch (type) {
	case MOD_LOAD:
		if (!pfsync_rs_kernel_checked()) {
			printf("pfsync: this pfsync-rs module was built and "
			    "checked for FreeBSD %d.%d (__FreeBSD_version %d-%d); "
			    "the running kernel is %d: refusing to load\n",
			    PFSYNC_RS_OSREL_MIN / 100000,
			    PFSYNC_RS_OSREL_MIN / 1000 % 100,
			    PFSYNC_RS_OSREL_MIN, PFSYNC_RS_OSREL_MAX, osreldate);
			return (ENOEXEC);
		}
		error = pfsync_rs_core_init();
		if (error != 0)
			return (error);
		error = pfsync_rs_proto_register();
		if (error != 0)
			return (error);
		pfsync_rs_proto_ready = true;
		pfsync_detach_ifnet_ptr = pfsync_rs_detach_ifnet;
		return (0);
	case MOD_UNLOAD:
		/*
		 * linker_file_unload() sends MOD_UNLOAD before it runs the
		 * file's SYSUNINITs, so every pfsync0 may still exist here:
		 * only the module-wide pieces go now, the per-VNET teardown
		 * (pfsync_rs_vnet_uninit) follows and must not rely on them.
		 */
		if (pfsync_rs_proto_ready) {
			pfsync_detach_ifnet_ptr = NULL;
			pfsync_rs_proto_unregister();
			pfsync_rs_proto_ready = false;
		}
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t pfsync_rs_mod = {
	"pfsync",
	pfsync_rs_modevent,
	NULL
};

/*
 * DECLARE_MODULE spelled out: its kernel dependency ends at the end of the
 * major branch, so a module built for 15.1 would claim 15.0 and 15.2 as well.
 * The linker check spans the branch and MOD_LOAD refuses, with a message
 * naming both versions, any kernel outside PFSYNC_RS_OSREL_MIN..MAX.  The
 * metadata's preferred version is the release checked against
 * (scripts/ko-metadata.py reads it back in the tests).
 */
MODULE_DEPEND(pfsync, kernel, __FreeBSD_version / 100000 * 100000,
    PFSYNC_RS_OSREL_MIN, __FreeBSD_version / 100000 * 100000 + 99999);
MODULE_METADATA(_md_pfsync, MDT_MODULE, &pfsync_rs_mod, "pfsync");
SYSINIT(pfsyncmodule, SI_SUB_PROTO_FIREWALL, SI_ORDER_ANY,
    module_register_init, &pfsync_rs_mod);
MODULE_VERSION(pfsync, 1);
MODULE_DEPEND(pfsync, pf, PF_MODVER, PF_MODVER, PF_MODVER);
