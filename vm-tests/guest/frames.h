/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pfsync frames as a stock FreeBSD peer would put them on the wire
 * (Ethernet + IPv4 + pfsync), built from the real if_pfsync.h/pfvar.h
 * structs, and a reader for the frames the module sends back.
 */
#ifndef GUEST_FRAMES_H
#define GUEST_FRAMES_H

#include "net.h"

#define	PEER_CREATORID	0x5eed0001u	/* the fake peer's hostid */
#define	PEER_ADDR	0xc6120001u	/* 198.18.0.1: the fake peer's end */
#define	SYNC_ADDR	0xc6120002u	/* 198.18.0.2: pfsync0's syncdev */

struct frame {
	unsigned char	buf[1514];
	size_t		len;
	unsigned char	*count_at;	/* the open subheader's count, or NULL */
	int		records;
};

/* Starts a frame from src (host order) to 224.0.0.240 with the given TTL. */
void	frame_begin(struct frame *, uint32_t src, int ttl, int version);
/* Opens a section; records follow with frame_record. */
void	frame_section(struct frame *, int action);
/* Appends one record of len bytes to the open section; NULL if it does not fit. */
void	*frame_record(struct frame *, size_t len);
void	frame_end(struct frame *);

/* A TCP state 198.18.1.x:port -> 198.18.2.1:80 from the fake peer, id n. */
void	state_1500(struct pfsync_state_1500 *, uint64_t n);
uint64_t state_id(uint64_t n);
/* The same state as FreeBSD 13 sent it, created by rule number `rule`. */
void	state_1301(struct pfsync_state_1301 *, uint64_t n, uint32_t rule,
	    uint32_t rt_addr);
/* Sets the ruleset checksum a finished frame carries. */
void	frame_set_chksum(struct frame *, const uint8_t *);

/* What a capture of the module's frames held. */
struct capture {
	int	frames;
	int	bad_frames;		/* not pfsync v5 or cut short */
	int	bus_start, bus_end;
	int	actions[PFSYNC_ACT_MAX];
	int	states;			/* INS/UPD records of any version */
	int	peer_states;		/* ... whose creator is PEER_CREATORID */
	uint64_t last_id;
	uint32_t creatorid;		/* the sender's, from its BUS records */
	uint8_t	pf_chksum[PF_MD5_DIGEST_LENGTH];	/* of the last frame */
};

/* Sends n INS_1500 records from the fake peer over BPF, ids first..first+n-1,
 * four to a frame; returns the frames sent or -1. */
int	send_inserts(int bpf, uint64_t first, int n, int ttl);

void	capture_frame(const unsigned char *, size_t, void *capture);

#endif
