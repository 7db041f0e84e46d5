/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private header of the pfsync-rs kernel shim.  One softc per VNET, created
 * with pfsync0 and destroyed with it.  Lock order (outermost first):
 *
 *   sc_set_sx  >  sc_cfg_sx  >  PF_RULES lock  >  sc_engine_mtx
 *       >  pf hash-row locks  >  sc_inbox_mtx, sc_txq_mtx
 *
 * sc_set_sx serialises SETs across their sleeping multicast joins;
 * sc_cfg_sx is only held exclusive for the short swap that follows, so
 * the tx task (which holds it shared around ip_output) never waits on a
 * join or an M_WAITOK allocation.
 *
 * pf calls the hooks with a row lock held, so hooks only take the two leaf
 * mutexes: they park the event on the state (sync_list/sync_state) and the
 * hook task hands it to the engine later (see pfsync_pf.c).
 */

#ifndef PFSYNC_RS_SHIM_H
#define PFSYNC_RS_SHIM_H

#include "pfsync_core.h"

#if __FreeBSD_version >= 1500000
#define	PFSYNC_RS_HAVE_V1500	1
#endif

/*
 * The kernels this build was checked against: __FreeBSD_version is the
 * release whose headers it was compiled with (scripts/freebsd-release.sh on
 * Linux, /usr/src on FreeBSD), and the module touches pf_kstate by offset, so
 * it accepts that release and its patch/stable successors up to the next
 * minor release only.
 */
#ifndef PFSYNC_RS_OSREL_MAX
#define	PFSYNC_RS_OSREL_MAX	(__FreeBSD_version / 1000 * 1000 + 999)
#endif
#define	PFSYNC_RS_OSREL_MIN	__FreeBSD_version

/* Deferred packets held at once per VNET (stock: 128 per bucket). */
#define	PFSYNC_RS_DEFER_SLOTS	256

/*
 * Frames queued for the tx task.  A hook burst drained at once builds
 * frames faster than one task can send them; the hook task transmits
 * itself when the queue is half full, so the limit only bounds memory.
 */
#define	PFSYNC_RS_TXQ_LEN	1024

/* Counters of packets refused in C before the engine (pfsync_io.c). */
#define	PFSYNC_RS_RX_EARLY_IPACKETS	0
#define	PFSYNC_RS_RX_EARLY_BADIF	1
#define	PFSYNC_RS_RX_EARLY_BADTTL	2
#define	PFSYNC_RS_RX_EARLY_N		3

/* Largest pfsync payload the input path copies into one buffer. */
#define	PFSYNC_RS_MAX_FRAME	65535

MALLOC_DECLARE(M_PFSYNC_RS);

/*
 * Pending-event bits the hooks park in pf_kstate.sync_state (PFSYNC_S_NONE
 * when the state is not in the inbox).  The core's sync slot lives in the
 * bytes of pf_kstate.sync_list, which the shim never uses as a list.
 */
#define	PFSYNC_RS_EV_INSERTED	0x01
#define	PFSYNC_RS_EV_UPDATED	0x02
#define	PFSYNC_RS_EV_DELETED	0x04
#define	PFSYNC_RS_EV_NOSYNC	0x08	/* PFSTATE_NOSYNC when deleted */
#define	PFSYNC_RS_EV_MASK	0x0f
_Static_assert((PFSYNC_S_NONE & PFSYNC_RS_EV_MASK) != PFSYNC_S_NONE,
    "event bits never spell PFSYNC_S_NONE");

/*
 * Inbox: a FIFO of parked states in chunks allocated with M_NOWAIT.  What
 * the engine needs beyond the state's id is taken in the hook, under the
 * row lock: by the time the task runs, an unlinked state's keys may be
 * freed (pf_state_key_detach after the delete hook returns).
 */
struct pfsync_rs_inbox_ent {
	struct pf_kstate	*e_st;		/* referenced */
	uint8_t			 e_wire_proto;
	uint8_t			 e_rule_nosync;
};
#define	PFSYNC_RS_INBOX_CHUNK	254
struct pfsync_rs_inbox_chunk {
	STAILQ_ENTRY(pfsync_rs_inbox_chunk) c_next;
	u_int			 c_head, c_tail;
	struct pfsync_rs_inbox_ent c_ent[PFSYNC_RS_INBOX_CHUNK];
};

struct pfsync_rs_deferral {
	TAILQ_ENTRY(pfsync_rs_deferral) d_entry;
	struct pfsync_rs_softc	*d_sc;
	struct pf_kstate	*d_st;		/* referenced */
	struct pfsync_rs_state_info d_info;	/* taken in the hook */
	struct mbuf		*d_m;
	int			 d_delivered;	/* handed to the engine */
};

struct pfsync_rs_softc {
	struct ifnet		*sc_ifp;
	struct vnet		*sc_vnet;

	/* Engine and its single timer; the callout runs with the mutex held. */
	struct mtx		 sc_engine_mtx;
	struct pfsync_rs_engine	*sc_engine;
	struct callout		 sc_timer;

	/* Hook inbox: states with parked events, in arrival order. */
	struct mtx		 sc_inbox_mtx;
	STAILQ_HEAD(, pfsync_rs_inbox_chunk) sc_inbox;
	struct pfsync_rs_inbox_chunk *sc_inbox_spare;
	uint64_t		 sc_inbox_dropped;	/* no memory for a chunk */
	TAILQ_HEAD(, pfsync_rs_deferral) sc_defer_new;	/* not yet delivered */
	TAILQ_HEAD(, pfsync_rs_deferral) sc_defer_free;
	/* Refused by the engine after the hook took them; see pfsync_pf.c. */
	TAILQ_HEAD(, pfsync_rs_deferral) sc_defer_late;
	struct callout		 sc_defer_late_co;
	u_int			 sc_defer_used;
	struct pfsync_rs_deferral sc_defer_slots[PFSYNC_RS_DEFER_SLOTS];
	struct task		 sc_hook_task;

	/* Frames built under the engine lock, sent by the tx task. */
	struct mtx		 sc_txq_mtx;
	struct mbufq		 sc_txq;	/* pfsync frames */
	struct mbufq		 sc_txq_data;	/* released deferred packets */
	struct task		 sc_tx_task;

	/* Configuration; written under sc_cfg_sx (exclusive) and the engine lock. */
	struct sx		 sc_set_sx;
	struct sx		 sc_cfg_sx;
	struct pfsync_rs_config	 sc_cfg;
	struct ifnet		*sc_sync_if;	/* if_ref'd */
	struct sockaddr_storage	 sc_peer;	/* effective destination */
	struct ip_moptions	 sc_imo;
	struct ip6_moptions	 sc_im6o;
	int			 sc_in_input;	/* engine called from input */
	/* Packets the input path refused before the engine, as stock counts. */
	counter_u64_t		 sc_rx_early[PFSYNC_RS_RX_EARLY_N];
	int			 sc_dying;
};

/* pfsync_module.c */
VNET_DECLARE(struct pfsync_rs_softc *, pfsync_rs_softc);
#define	V_pfsync_rs_softc	VNET(pfsync_rs_softc)
VNET_DECLARE(int, pfsync_rs_carp_adj);
#define	V_pfsync_rs_carp_adj	VNET(pfsync_rs_carp_adj)
VNET_DECLARE(u_int, pfsync_rs_defer_delay_ms);
#define	V_pfsync_rs_defer_delay_ms	VNET(pfsync_rs_defer_delay_ms)
VNET_DECLARE(u_int, pfsync_rs_bulk_pace_us);
#define	V_pfsync_rs_bulk_pace_us	VNET(pfsync_rs_bulk_pace_us)
VNET_DECLARE(u_int, pfsync_rs_anti_entropy);
#define	V_pfsync_rs_anti_entropy	VNET(pfsync_rs_anti_entropy)
VNET_DECLARE(u_int, pfsync_rs_ae_period_ms);
#define	V_pfsync_rs_ae_period_ms	VNET(pfsync_rs_ae_period_ms)
uint64_t	pfsync_rs_now_ns(void);

/*
 * pfsync_engine.c: the module's private taskqueue (hook and tx tasks of
 * every VNET), then entering and leaving the engine.
 */
extern struct taskqueue *pfsync_rs_tq;
void	pfsync_rs_engine_enter(struct pfsync_rs_softc *);
void	pfsync_rs_engine_leave(struct pfsync_rs_softc *);
void	pfsync_rs_engine_leave_locked_work(struct pfsync_rs_softc *);
int	pfsync_rs_engine_attach(struct pfsync_rs_softc *);
void	pfsync_rs_engine_detach(struct pfsync_rs_softc *);
extern const struct pfsync_rs_host_ops pfsync_rs_host_ops;

/* pfsync_if.c */
int	pfsync_rs_clone_attach(void);
void	pfsync_rs_clone_detach(void);
void	pfsync_rs_detach_ifnet(struct ifnet *);

/* pfsync_nv.c */
int	pfsync_rs_nv_to_config(const nvlist_t *, struct pfsync_rs_config *);
nvlist_t *pfsync_rs_config_to_nv(const char *, const struct sockaddr_storage *,
	    uint32_t, uint32_t, uint32_t);
void	pfsync_rs_req_to_config(const struct pfsyncreq *,
	    struct pfsync_rs_config *);
void	pfsync_rs_config_to_req(const char *, const struct sockaddr_storage *,
	    uint32_t, uint32_t, struct pfsyncreq *);

/* pfsync_io.c */
int	pfsync_rs_proto_register(void);
void	pfsync_rs_proto_unregister(void);
int	pfsync_rs_host_send(void *, const uint8_t *, size_t);
void	pfsync_rs_tx_task(void *, int);
void	pfsync_rs_tx_kick(struct pfsync_rs_softc *);
void	pfsync_rs_mopts_init(struct ip_moptions *, struct ip6_moptions *);
int	pfsync_rs_multicast_setup(struct ifnet *, struct sockaddr_storage *,
	    struct ip_moptions *, struct ip6_moptions *);
void	pfsync_rs_mopts_leave(struct ip_moptions *, struct ip6_moptions *);
void	pfsync_rs_mopts_swap(struct pfsync_rs_softc *, struct ip_moptions *,
	    struct ip6_moptions *);
void	pfsync_rs_multicast_cleanup(struct pfsync_rs_softc *);
void	pfsync_rs_bpf_tap(struct pfsync_rs_softc *, struct mbuf *, int);
const struct in6_addr *pfsync_rs_default_group6(void);
struct pfsyncstats;
void	pfsync_rs_input_stats(struct pfsync_rs_softc *, struct pfsyncstats *);
void	pfsync_rs_input_stats_clear(struct pfsync_rs_softc *);

/* pfsync_pf.c */
void	pfsync_rs_hooks_install(void);
void	pfsync_rs_hooks_remove(void);
void	pfsync_rs_hooks_quiesce(void);
void	pfsync_rs_hook_task(void *, int);
void	pfsync_rs_inbox_drain(struct pfsync_rs_softc *, int);
void	pfsync_rs_defer_init(struct pfsync_rs_softc *);
void	pfsync_rs_defer_flush(struct pfsync_rs_softc *);
void	pfsync_rs_inbox_init(struct pfsync_rs_softc *);
void	pfsync_rs_inbox_fini(struct pfsync_rs_softc *);
int	pfsync_rs_host_state_lookup(void *, const struct pfsync_rs_state_id *,
	    struct pfsync_rs_state_snapshot *);
int	pfsync_rs_host_state_import(void *, const struct pfsync_rs_import *,
	    uint32_t, const uint8_t *);
int	pfsync_rs_host_state_merge(void *, const struct pfsync_rs_state_id *,
	    const uint8_t *, const uint8_t *, uint8_t, uint32_t,
	    struct pfsync_rs_merge_out *);
int	pfsync_rs_host_state_store_slot(void *,
	    const struct pfsync_rs_state_id *, const uint8_t *);
int	pfsync_rs_host_state_delete(void *, const struct pfsync_rs_state_id *);
uint64_t pfsync_rs_host_states_clear(void *, const uint8_t *, const char *);
int	pfsync_rs_host_state_next(void *, struct pfsync_rs_cursor *,
	    struct pfsync_rs_state_snapshot *);
int	pfsync_rs_host_state_export(void *, const struct pfsync_rs_state_id *,
	    uint32_t, uint8_t *, size_t);
void	pfsync_rs_host_deferred_release(void *, uint64_t, int);

#endif /* PFSYNC_RS_SHIM_H */
