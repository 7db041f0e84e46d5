/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pfsync_core.h: the C ABI between the pfsync-rs kernel shim (kmod/) and
 * the Rust core (src/ffi/).
 *
 * Division of labour
 * ------------------
 * The shim is mechanism: it owns every FreeBSD object (ifnet, mbufs, pf
 * states, callouts, locks, multicast memberships) and turns what happens to
 * them into calls listed under "Calls into the core".  The core is policy: it
 * parses and validates every received byte, decides what to queue, when to
 * send, how to merge a peer's update into a local state, when to demote CARP,
 * and keeps every pfsyncstats counter.  It asks the shim to act through the
 * function table in struct pfsync_rs_host_ops.
 *
 * Nothing that crosses this header names a FreeBSD type.  pf states travel as
 * their id plus the few scalar fields the core needs to decide without
 * calling back; packets held for "defer" travel as an opaque 64-bit token.
 * State records travel as the wire bytes pf itself
 * produces (pfsync_state_export) or as struct pfsync_rs_import, which the core
 * fills after validating the wire bytes, so the shim never parses a record.
 *
 * Time
 * ----
 * Every call that can change engine state takes `now_ns`: a monotonic clock
 * in nanoseconds chosen by the shim (sbinuptime converted to ns).  It must
 * never go backwards for a given engine.  The core has no clock of its own.
 *
 * Locking and re-entrancy (the contract that keeps both sides deadlock-free)
 * -------------------------------------------------------------------------
 *  - Each engine has one lock, held by the shim around every call that takes
 *    a `struct pfsync_rs_engine *`.  The core is not thread-safe by itself.
 *  - The engine lock ranks above pf's state (hash-row) locks and below pf's
 *    rules lock.  pf calls its pfsync hooks with a row lock held, so the shim
 *    never enters the engine from a hook: a hook parks the event on the state
 *    and a task delivers it with no pf lock held, in the order pf raised it.
 *    Consequently every host op below may take pf locks, and the core may
 *    call any op from any entry point.
 *  - A host op never calls back into the engine.  Where pf would re-enter
 *    pfsync (inserting an imported state fires the insert hook, removing a
 *    state fires the delete hook), the shim marks the state PFSTATE_NOSYNC
 *    first and the event reaches the engine, later, carrying that flag.
 *    `state_merge` calls the pure function pfsync_rs_merge_peers(), which
 *    takes no engine.
 *  - `send` does not transmit synchronously: it copies the frame into an
 *    mbuf and queues it; the shim transmits after releasing the engine lock.
 *
 * States
 * ------
 * The core names states by id (struct pfsync_rs_state_id) and never holds a
 * pointer to one.  Each pf state carries PFSYNC_RS_SLOT_LEN bytes that belong
 * to the core (the "sync slot": queue position, last pfsync touch, deferral
 * flag), stored by the shim in the space pf reserves for pfsync inside
 * struct pf_kstate.  The shim initialises it with pfsync_rs_slot_init(),
 * passes it by pointer to the hook entry points, copies it into snapshots,
 * and stores the value the core asks for (`state_import`, `state_store_slot`,
 * `state_merge`).  The core only reads or writes a slot with the engine lock
 * held.
 *
 * Memory
 * ------
 * The core allocates through pfsync_rs_kmalloc()/pfsync_rs_kfree(), which the
 * shim implements over malloc(9) with the module's malloc type and M_NOWAIT.
 * A NULL return is a normal outcome: the core survives it and counts it in
 * pfsyncs_onomem.
 *
 * Errors are positive FreeBSD errno values (0 = success).  Byte-order rules:
 * fields named *_be are network order (as on the wire); every other integer
 * is host order.
 */

#ifndef PFSYNC_RS_CORE_H
#define PFSYNC_RS_CORE_H

#ifdef _KERNEL
#include <sys/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

/* Bumped on any incompatible change; checked at engine creation. */
#define PFSYNC_RS_ABI_VERSION		1

/*
 * `pfsync_rs_poll_timeout` result meaning "no timer needed" (UINT64_MAX;
 * hidden from bindgen 0.60, which would mistype it: Rust uses u64::MAX).
 */
#ifndef PFSYNC_RS_BINDGEN
#define PFSYNC_RS_NO_DEADLINE		UINT64_MAX
#endif

/*
 * `release_version` of an OpenBSD kernel (pfsync v6 frames; kmod/openbsd/).
 * Not a __FreeBSD_version, which are all above 1400000.
 */
#define PFSYNC_RS_RELEASE_OPENBSD	6

/* `msg_version` of OpenBSD's 264-byte struct pfsync_state (`state_export`). */
#define PFSYNC_RS_MSG_OPENBSD		6

/* Sizes fixed by FreeBSD's headers (checked by _Static_assert in the shim). */
#define PFSYNC_RS_IFNAMSIZ		16
#define PFSYNC_RS_TAGNAMSIZ		64
#define PFSYNC_RS_PEER_LEN		32	/* struct pf_state_peer_export */
#define PFSYNC_RS_STATE_MAX_LEN		360	/* union pfsync_state_union, 15.x */
#define PFSYNC_RS_PF_CKSUM_LEN		16	/* pf_status.pf_chksum */

/* Address families as FreeBSD numbers them. */
#define PFSYNC_RS_AF_UNSPEC		0
#define PFSYNC_RS_AF_INET		2
#define PFSYNC_RS_AF_INET6		28

/* Configuration flags (struct pfsync_rs_config.flags), as PFSYNCF_* in if_pfsync.h. */
#define PFSYNC_RS_CFG_OK		0x0001	/* get only: bulk update complete ("syncok") */
#define PFSYNC_RS_CFG_DEFER		0x0002	/* hold packets of new outbound states */

/* Import flags (`state_import` and pfsync_rs_import_decode), as PFSYNC_SI_*. */
#define PFSYNC_RS_SI_IOCTL		0x01	/* from DIOCADDSTATE, not the network */
#define PFSYNC_RS_SI_CKSUM		0x02	/* sender's ruleset checksum equals ours */
#define PFSYNC_RS_SI_ACK		0x04

/* Hook verdicts returned by pfsync_rs_state_policy(). */
#define PFSYNC_RS_POLICY_SYNC		0	/* tell the engine about this state */
#define PFSYNC_RS_POLICY_NOSYNC		1	/* set PFSTATE_NOSYNC, never sync it */
#define PFSYNC_RS_POLICY_IGNORE		2	/* already NOSYNC: skip silently */

/* Bytes of the core's per-state sync slot (see "States"). */
#define PFSYNC_RS_SLOT_LEN		12

/* Opaque per-VNET engine. */
struct pfsync_rs_engine;

/*
 * The identity of a state, as pf keeps it: `id` is pf_kstate.id and
 * `creatorid` pf_kstate.creatorid, both copied byte for byte (pf holds them
 * in network order).
 */
struct pfsync_rs_state_id {
	uint8_t		id_be[8];
	uint8_t		creatorid_be[4];
};

/* What a hook tells the core about a state (StateInfo in the engine). */
struct pfsync_rs_state_info {
	struct pfsync_rs_state_id sid;
	uint16_t	state_flags;	/* PFSTATE_* */
	uint8_t		wire_proto;	/* protocol of the wire key, 0 once unlinked */
	uint8_t		rule_nosync;	/* creating rule has PFRULE_NOSYNC */
	uint8_t		timeout;	/* PFTM_* index; >= 25 (PFTM_MAX) = going away */
	uint8_t		pad;
	uint16_t	pending_updates; /* update hooks folded into this delivery */
};

/* A copy of the fields of a state the core's decisions need. */
struct pfsync_rs_state_snapshot {
	struct pfsync_rs_state_id sid;
	uint16_t	state_flags;
	uint8_t		wire_proto;
	uint8_t		timeout;
	uint8_t		src[PFSYNC_RS_PEER_LEN];	/* wire peers, network order */
	uint8_t		dst[PFSYNC_RS_PEER_LEN];
	uint8_t		slot[PFSYNC_RS_SLOT_LEN];
};

/*
 * Resumable position in pf's id hash for the bulk sender.  The core stores
 * it between calls and never interprets it.
 */
struct pfsync_rs_cursor {
	uint64_t	row;		/* id-hash row to scan next */
	uint64_t	position;	/* states already returned from `row` */
	struct pfsync_rs_state_id last;	/* the last one returned */
	uint8_t		pad[4];
};

/* Result of `state_merge`. */
struct pfsync_rs_merge_out {
	uint8_t		stale_sides;	/* 0..2 sides where ours was newer */
	uint8_t		wire_proto;
	uint16_t	state_flags;
	uint8_t		slot[PFSYNC_RS_SLOT_LEN];	/* after the merge */
};

/*
 * A validated full state, ready for pf.  Produced by the core from the wire
 * bytes of any message version (pfsync_rs_import_decode, or the engine when
 * a peer sends INS/UPD); consumed by the shim's `state_import`.  All names
 * are NUL-terminated (the core guarantees it).  `src`/`dst` are the 32-byte
 * wire peers, which the shim converts with pf_state_peer_ntoh().
 */
struct pfsync_rs_import {
	struct pfsync_rs_state_id sid;
	char		ifname[PFSYNC_RS_IFNAMSIZ];
	char		orig_ifname[PFSYNC_RS_IFNAMSIZ];	/* "" = same as ifname */
	char		rt_ifname[PFSYNC_RS_IFNAMSIZ];	/* used when rt != 0 */
	char		tagname[PFSYNC_RS_TAGNAMSIZ];	/* "" = no tag */
	uint8_t		key_addr[2][2][16];	/* [wire/stack][src/dst], network order */
	uint8_t		key_port_be[2][2][2];
	uint8_t		src[PFSYNC_RS_PEER_LEN];
	uint8_t		dst[PFSYNC_RS_PEER_LEN];
	uint8_t		rt_addr[16];
	uint32_t	rule;		/* rule number, UINT32_MAX = none */
	uint32_t	anchor;		/* UINT32_MAX = none */
	uint32_t	creation_age_s;	/* seconds the state has existed */
	uint32_t	expire_s;	/* seconds left, 0 = use the full timeout */
	int32_t		rtableid;	/* -1 = none */
	uint32_t	msg_version;	/* 1301, 1400 or 1500: what the sender used */
	uint16_t	state_flags;
	uint16_t	qid, pqid, dnpipe, dnrpipe, max_mss;
	uint8_t		wire_af, stack_af, wire_proto, stack_proto;
	uint8_t		direction, log, timeout, rt, rt_af;
	uint8_t		min_ttl, set_tos;
	uint8_t		set_prio[2];
	uint8_t		pad[3];
};

/*
 * The ifconfig-visible configuration plus the sysctl knobs the core needs.
 * The shim fills it from an nvlist or a struct pfsyncreq (after checking
 * that every required key is present and of the right type) and from the
 * per-VNET sysctls; the core validates the values.
 */
struct pfsync_rs_config {
	char		syncdev[PFSYNC_RS_IFNAMSIZ];	/* "" = none */
	uint8_t		syncpeer_af;	/* PFSYNC_RS_AF_*; UNSPEC = default group */
	uint8_t		syncdev_multicast; /* syncdev has IFF_MULTICAST */
	uint8_t		pad[2];
	uint8_t		syncpeer[16];	/* network order; v4 in the first 4 bytes */
	uint32_t	maxupdates;	/* 0..255 */
	uint32_t	flags;		/* PFSYNC_RS_CFG_DEFER; OK is ignored on set */
	uint32_t	version;	/* 0 = release default, else 1301/1400/1500 */
	uint32_t	syncdev_mtu;	/* MTU of syncdev, 0 without one */
	uint32_t	ifmtu;		/* pfsync0 MTU: the frame budget */
	uint32_t	defer_delay_ms;	/* net.pfsync.defer_delay */
	int32_t		carp_demotion;	/* net.pfsync.carp_demotion_factor */
	uint32_t	bulk_pace_us;	/* net.pfsync.rs.bulk_pace_us, 0 = engine default */
	uint8_t		hostid_be[4];	/* V_pf_status.hostid, raw */
	uint8_t		pf_cksum[PFSYNC_RS_PF_CKSUM_LEN]; /* V_pf_status.pf_chksum */
	/*
	 * if_baudrate of syncdev in bits/s, 0 = unknown or no syncdev.  With
	 * bulk_pace_us 0 the bulk is paced at 80% of it (100 MB/s if unknown).
	 */
	uint64_t	syncdev_baudrate;
};

/*
 * Facts about a received pfsync packet that only the shim can see.  The
 * bytes handed over with it start at the pfsync header (the IP header is
 * already stripped); the core performs every check listed in pfsync-wire.md
 * section 1.1 and counts each failure.
 */
struct pfsync_rs_rx_meta {
	uint8_t		af;		/* PFSYNC_RS_AF_INET or _INET6 */
	uint8_t		ttl;		/* IPv4 TTL or IPv6 hop limit */
	uint8_t		rcvif_is_syncdev;
	uint8_t		pf_running;	/* V_pf_status.running */
	uint8_t		if_running;	/* pfsync0 is up (IFF_DRV_RUNNING) */
	uint8_t		truncated;	/* could not linearise: count hdrops */
	uint8_t		pad[2];
	uint32_t	ip_total_len;	/* IP header + payload as received */
	uint8_t		src_addr[16];	/* sender, network order */
	/* Unused: the core reads the checksum through `pf_status`. */
	uint8_t		local_pf_cksum[PFSYNC_RS_PF_CKSUM_LEN];
};

/*
 * Everything the core may ask of the shim.  `ctx` is the pointer given to
 * pfsync_rs_engine_create.  Every op runs with the engine lock held and no
 * pf lock held (see "Locking").  Ops that name a state return ENOENT when pf
 * no longer has it.
 */
struct pfsync_rs_host_ops {
	/* pf_find_state_byid(): 0 and a snapshot, or ENOENT. */
	int	(*state_lookup)(void *ctx, const struct pfsync_rs_state_id *sid,
		    struct pfsync_rs_state_snapshot *out);

	/*
	 * Create a pf state from a validated record and store `slot` in it.
	 * `flags` are PFSYNC_RS_SI_*.  0 = created, or deliberately skipped as
	 * stock does on the network path (unknown interface); EEXIST = pf
	 * already has that id; EINVAL = refused; ENOMEM = no memory or limit;
	 * EDEADLK = called outside pfsync_rs_on_frame_received (importing needs
	 * pf's rules lock, which the shim only holds on the input path).
	 */
	int	(*state_import)(void *ctx, const struct pfsync_rs_import *rec,
		    uint32_t flags, const uint8_t slot[PFSYNC_RS_SLOT_LEN]);

	/*
	 * Under the state's lock: call pfsync_rs_merge_peers() on the state's
	 * peers and timeout with the incoming wire peers, write back what it
	 * changed (restarting expiry when it says so), store `touched` in the
	 * slot's touched field, and report.  0 or ENOENT.
	 */
	int	(*state_merge)(void *ctx, const struct pfsync_rs_state_id *sid,
		    const uint8_t src[PFSYNC_RS_PEER_LEN],
		    const uint8_t dst[PFSYNC_RS_PEER_LEN], uint8_t timeout,
		    uint32_t touched, struct pfsync_rs_merge_out *out);

	/* Store a new slot value.  0 or ENOENT. */
	int	(*state_store_slot)(void *ctx,
		    const struct pfsync_rs_state_id *sid,
		    const uint8_t slot[PFSYNC_RS_SLOT_LEN]);

	/* Unlink a state from pf (PFSTATE_NOSYNC set first).  0 or ENOENT. */
	int	(*state_delete)(void *ctx, const struct pfsync_rs_state_id *sid);

	/*
	 * Unlink every state whose creatorid matches and, when ifname is not
	 * "", whose interface matches.  Returns how many.
	 */
	uint64_t (*states_clear)(void *ctx, const uint8_t creatorid_be[4],
		    const char ifname[PFSYNC_RS_IFNAMSIZ]);

	/*
	 * Bulk walk: the next state after `cur` in id-hash order (skipping
	 * PFSTATE_NOSYNC states and those being unlinked), advancing `cur`.
	 * 0 = found, ENOENT = end of table.
	 */
	int	(*state_next)(void *ctx, struct pfsync_rs_cursor *cur,
		    struct pfsync_rs_state_snapshot *out);

	/*
	 * Write the state in message format `msg_version` (1301/1400/1500) into
	 * `out`, exactly as pf's pfsync_state_export() lays it out.  0; ENOENT;
	 * EINVAL for a version this release cannot produce; ENOSPC if out_len
	 * is below the record size.
	 */
	int	(*state_export)(void *ctx, const struct pfsync_rs_state_id *sid,
		    uint32_t msg_version, uint8_t *out, size_t out_len);

	/*
	 * Transmit one pfsync frame (`frame` starts at the pfsync header) to the
	 * configured peer, or only to BPF listeners without one.  0 = queued,
	 * ENOBUFS = no mbuf (onomem), anything else = not sent (oerrors).
	 */
	int	(*send)(void *ctx, const uint8_t *frame, size_t len);

	/* carp_demote_adj_p(adj, reason) if carp is loaded. */
	void	(*carp_demote)(void *ctx, int32_t adj, const char *reason);

	/*
	 * Finish a deferral accepted by pfsync_rs_on_defer_requested: transmit
	 * (`transmit` != 0) or drop the held packet, clear PFSTATE_ACK on its
	 * state.  Called exactly once per accepted deferral token.
	 */
	void	(*deferred_release)(void *ctx, uint64_t token, int transmit);

	/*
	 * pf's live V_pf_status.hostid (raw) and pf_chksum.  The core asks at
	 * every entry that may send, so frame headers and BUS records carry
	 * what pf has now (pfctl -f changes the checksum without telling
	 * pfsync), as stock's pfsync_sendout does.  The hostid_be and
	 * pf_cksum of struct pfsync_rs_config are overridden by these.
	 */
	void	(*pf_status)(void *ctx, uint8_t hostid_be[4],
		    uint8_t pf_cksum[PFSYNC_RS_PF_CKSUM_LEN]);
};

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Calls into the core
 * -------------------
 */

/*
 * Create the engine of one VNET.  Returns NULL on allocation failure or an
 * ABI mismatch.  `release_version` is the __FreeBSD_version the module was
 * built for (it picks the default message version and what it may send);
 * `host` must outlive the engine.  `hostid_be` (V_pf_status.hostid) and
 * `auth_epoch` identify this node in signed frames: the epoch must be higher
 * than at any earlier start (the shim uses the wall clock in nanoseconds).
 */
struct pfsync_rs_engine *pfsync_rs_engine_create(uint32_t abi_version,
    uint32_t release_version, const struct pfsync_rs_host_ops *host,
    void *ctx, const uint8_t hostid_be[4], uint64_t auth_epoch,
    uint64_t now_ns);

/*
 * Destroy an engine.  Gives back every deferral it still holds through
 * `deferred_release` (packets are dropped) and undoes its own CARP
 * demotion ("pfsync destroy"), so call it with the engine lock held and pf
 * still loaded.
 */
void	pfsync_rs_engine_destroy(struct pfsync_rs_engine *eng);

/*
 * One received pfsync packet.  `frame` points at the pfsync header, `len` is
 * the number of bytes after the IP header (may be 0 when meta->truncated).
 * The shim holds PF_RULES_RLOCK and the network epoch.
 */
void	pfsync_rs_on_frame_received(struct pfsync_rs_engine *eng,
	    const uint8_t *frame, size_t len,
	    const struct pfsync_rs_rx_meta *meta, uint64_t now_ns);

/*
 * Pure and lock-free, callable from pf hooks: should this new state be
 * synchronised?  Returns a PFSYNC_RS_POLICY_* verdict.
 */
int	pfsync_rs_state_policy(const struct pfsync_rs_state_info *st);

/*
 * Pure and lock-free, for pf's defer hook: 1 if the engine would keep the
 * first packet of this state given the configuration flags, pfsync0's
 * IFF_DRV_RUNNING and whether a sync interface is set; 0 if pf must send
 * it now.  The hook must not take a packet the engine would refuse: pf
 * goes on using the mbuf after the hook returns until it sees PF_DEFER.
 */
int	pfsync_rs_defer_policy(const struct pfsync_rs_state_info *st,
	    uint32_t cfg_flags, int running, int has_syncdev);

/* Pure: the slot value of a state the core has never seen. */
void	pfsync_rs_slot_init(uint8_t slot[PFSYNC_RS_SLOT_LEN]);

/*
 * pf events, delivered by the shim's hook task in the order pf raised them.
 * `slot` points at the state's own slot and may be rewritten.  The shim
 * calls them with no pf lock held: a frame that fills during the call is
 * handed to `send` before it returns, so a burst delivered back to back
 * never runs a bucket out of room.
 */
void	pfsync_rs_on_state_inserted(struct pfsync_rs_engine *eng,
	    const struct pfsync_rs_state_info *st,
	    uint8_t slot[PFSYNC_RS_SLOT_LEN], uint64_t now_ns);
void	pfsync_rs_on_state_updated(struct pfsync_rs_engine *eng,
	    const struct pfsync_rs_state_info *st,
	    uint8_t slot[PFSYNC_RS_SLOT_LEN], uint64_t now_ns);
void	pfsync_rs_on_state_deleted(struct pfsync_rs_engine *eng,
	    const struct pfsync_rs_state_info *st,
	    uint8_t slot[PFSYNC_RS_SLOT_LEN], uint64_t now_ns);
void	pfsync_rs_on_states_cleared(struct pfsync_rs_engine *eng,
	    const uint8_t creatorid_be[4],
	    const char ifname[PFSYNC_RS_IFNAMSIZ], uint64_t now_ns);

/*
 * pf wants to hold the first packet of a new outbound state until the peer
 * has the state.  The shim has already put the packet aside under `token`;
 * returns 1 if the engine keeps it (and will call `deferred_release`
 * later), 0 if the shim must send it at once.
 */
int	pfsync_rs_on_defer_requested(struct pfsync_rs_engine *eng,
	    const struct pfsync_rs_state_info *st,
	    uint8_t slot[PFSYNC_RS_SLOT_LEN], uint64_t token, uint64_t now_ns);

/*
 * Pure: merge a peer's update into our copy of a state, never moving a side
 * backwards (engine/merge.rs).  `src`, `dst`, `timeout` are ours (wire
 * format, network order) and are updated in place; returns the number of
 * stale sides (0..2) and sets *refresh_expiry when the state's expiry clock
 * should restart.  Returns -1 (changing nothing) if a peer is malformed.
 */
int	pfsync_rs_merge_peers(uint8_t wire_proto,
	    uint8_t src[PFSYNC_RS_PEER_LEN], uint8_t dst[PFSYNC_RS_PEER_LEN],
	    uint8_t *timeout, const uint8_t in_src[PFSYNC_RS_PEER_LEN],
	    const uint8_t in_dst[PFSYNC_RS_PEER_LEN], uint8_t in_timeout,
	    int *refresh_expiry);

/* Pure: store `touched` in a slot (used by the shim inside `state_merge`). */
void	pfsync_rs_slot_set_touched(uint8_t slot[PFSYNC_RS_SLOT_LEN],
	    uint32_t touched);

/*
 * Validate a full-state record (DIOCADDSTATE, or any record) and convert it
 * for `state_import`.  Pure, lock-free.  `bytes` is a union
 * pfsync_state_union of `msg_version` layout.  0, or EINVAL when the ifname
 * is not NUL-terminated, the family, protocol, direction, timeout or peer
 * states are out of range, or the creator id is zero.
 */
int	pfsync_rs_import_decode(const uint8_t *bytes, size_t len,
	    uint32_t msg_version, struct pfsync_rs_import *out);

/* Timers: one host timer per engine (callout(9)). */
void	pfsync_rs_on_timeout(struct pfsync_rs_engine *eng, uint64_t now_ns);
uint64_t pfsync_rs_poll_timeout(const struct pfsync_rs_engine *eng);

/*
 * Check a configuration without applying it (EINVAL for maxupdates > 255,
 * a version unknown to `release_version`, an unknown family, an MTU out of
 * range).  Pure.
 */
int	pfsync_rs_config_check(const struct pfsync_rs_config *cfg,
	    uint32_t release_version);

/*
 * Apply a configuration the shim has already made effective (syncdev
 * reference taken, multicast group joined).  The engine requests a bulk
 * update when the sync interface appears or changes, not on every SET
 * (stock does; opnsense/core #10858).  Returns 0, EINVAL, or ENOMEM (the
 * old configuration then stays in force).
 */
int	pfsync_rs_on_config_changed(struct pfsync_rs_engine *eng,
	    const struct pfsync_rs_config *cfg, uint64_t now_ns);

/* pfsync0 went up (1) or down (0); down discards queued data. */
void	pfsync_rs_on_running_changed(struct pfsync_rs_engine *eng,
	    int running, uint64_t now_ns);

/* Ask the peers for a full bulk update now (net.pfsync.rs.resync). */
void	pfsync_rs_on_resync_requested(struct pfsync_rs_engine *eng,
	    uint64_t now_ns);

/* Effective flags (PFSYNC_RS_CFG_OK | _DEFER) and message version. */
uint32_t pfsync_rs_status_flags(const struct pfsync_rs_engine *eng);
uint32_t pfsync_rs_effective_version(const struct pfsync_rs_engine *eng);

/*
 * Write the counters in the layout of the running release's struct
 * pfsyncstats: 16 scalar u64 counters, then iacts[n] and oacts[n] where
 * n = (len - 128) / 16 (15 on 14.x, 17 on 15.x).  Returns 0, or EINVAL if
 * `len` is not such a size.
 */
int	pfsync_rs_stats_export(const struct pfsync_rs_engine *eng,
	    void *out, size_t len);

/*
 * `frames` the engine had handed to `send` (and counted in opackets) were
 * then refused by ip_output/ip6_output: count them in oerrors instead, as
 * stock does.
 */
void	pfsync_rs_on_transmit_failed(struct pfsync_rs_engine *eng,
	    uint32_t frames);

/* Zero every counter (a write to net.pfsync.stats, as `netstat -z` does). */
void	pfsync_rs_stats_clear(struct pfsync_rs_engine *eng);

/*
 * Records the engine could not queue for lack of memory since it was
 * created (a bucket's arena exhausted).  Zero unless the host stops
 * delivering frames the engine hands to `send`.
 */
uint64_t pfsync_rs_queue_drops(const struct pfsync_rs_engine *eng);

/*
 * The engine's counters that stock pfsync does not have, one "name value"
 * line each, into buf (always NUL-terminated when len > 0, truncated if
 * short).  Returns the length the whole text needs without the NUL; 0 for
 * a NULL engine or buffer.
 */
size_t	pfsync_rs_counters_format(const struct pfsync_rs_engine *eng,
	    char *buf, size_t len);

/*
 * Bulk progress for net.pfsync.rs.bulk: states sent in bulk answers since
 * the engine was created, and whether our own bulk update is still
 * incomplete (the "syncok" flag is clear).
 */
void	pfsync_rs_bulk_progress(const struct pfsync_rs_engine *eng,
	    uint64_t *states_sent, uint32_t *request_pending);

/*
 * Frame authentication (docs/auth.md; off until a key is installed).
 * Install or replace the 32-byte key `id` (the first one installed signs
 * outgoing frames): 0, or EINVAL for a wrong length, ENOSPC with two other
 * keys installed.  Clearing removes every key: frames go out unsigned and
 * unsigned frames are accepted again.
 */
int	pfsync_rs_auth_set_key(struct pfsync_rs_engine *eng, uint8_t id,
	    const uint8_t *key, size_t len, uint64_t now_ns);
/*
 * As pfsync_rs_auth_set_key, and when this is the first key (authentication
 * was off) signing moves to the epoch `wall_ns` (the wall clock in
 * nanoseconds, now) if it is higher than the one given at creation: a
 * module preloaded at boot is created before inittodr(), when the wall clock
 * still reads about the uptime, and peers would refuse that epoch as older
 * than the previous boot's.
 */
int	pfsync_rs_auth_set_key_at(struct pfsync_rs_engine *eng, uint8_t id,
	    const uint8_t *key, size_t len, uint64_t wall_ns, uint64_t now_ns);
void	pfsync_rs_auth_clear(struct pfsync_rs_engine *eng, uint64_t now_ns);

/* Whether frames are signed, and with which key id (-1 for none). */
void	pfsync_rs_auth_status(const struct pfsync_rs_engine *eng,
	    int *enabled, int *send_key_id);

/*
 * Loss repair between pfsync-rs peers (docs/anti-entropy.md; off until
 * enabled).  With `enabled` nonzero, a digest of the states this host created
 * goes out every `period_ms` milliseconds (100 .. 3600000) in empty pfsync
 * frames that stock peers ignore, and the peer's digests are compared and
 * differences repaired with UPD_REQ.  The table walks behind a digest are
 * taken in slices from the timer (`state_next` with a cursor), a few thousand
 * states per call.  Everything the session needs is allocated here: 0, or
 * EINVAL for a period out of range, ENOMEM (counted in onomem; the previous
 * setting stays).  `enabled` 0 frees it all.  The deadline returned by
 * pfsync_rs_poll_timeout includes the session's.
 */
int	pfsync_rs_anti_entropy_set(struct pfsync_rs_engine *eng, int enabled,
	    uint32_t period_ms, uint64_t now_ns);

/* Anti-entropy counters since it was enabled (all zero while it is off). */
struct pfsync_rs_ae_stats {
	uint64_t	enabled;
	uint64_t	digests_sent;
	uint64_t	frames_sent;
	uint64_t	bytes_sent;
	uint64_t	rounds_compared;
	uint64_t	buckets_mismatched;
	uint64_t	updates_requested;
	uint64_t	states_deleted;
	uint64_t	ignored;
	uint64_t	no_memory;
	uint64_t	states_walked;
	uint64_t	walk_slices;
};
void	pfsync_rs_anti_entropy_stats(const struct pfsync_rs_engine *eng,
	    struct pfsync_rs_ae_stats *out);

/*
 * Implemented by the shim, linked by name
 * ----------------------------------------
 */

/* malloc(9) with M_NOWAIT and the module's malloc type; align <= PAGE_SIZE. */
void	*pfsync_rs_kmalloc(size_t size, size_t align);
void	pfsync_rs_kfree(void *ptr);

/* log(9) at `level` (LOG_ERR .. LOG_DEBUG); `msg` is not NUL-terminated. */
void	pfsync_rs_klog(int level, const uint8_t *msg, size_t len);

/* Called once at module load, before any engine exists. 0 or errno. */
int	pfsync_rs_core_init(void);

/* The core's version, a static NUL-terminated string. */
const char *pfsync_rs_core_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PFSYNC_RS_CORE_H */
