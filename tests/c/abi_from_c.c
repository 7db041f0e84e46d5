/*
 * The core's pure entry points called from C through bindings/pfsync_core.h,
 * the way kmod/ calls them: the prototypes, constants and struct layouts a C
 * compiler sees are what is exercised, not bindgen's Rust view of them.
 * build.rs compiles this with the kernel build's warnings (kmod/cwarnings)
 * for host builds with the `kernel` feature; src/ffi/c_abi_tests.rs runs it.
 */
#include <stddef.h>
#include <string.h>

#include "pfsync_core.h"

int	pfsync_c_abi_check(void);

/*
 * pf.h's values, which pfsync_core.h does not carry; the layout oracle checks
 * the core's copies against the real headers.
 */
#define	PFSTATE_NOSYNC		0x0008
#define	IPPROTO_TCP		6
#define	IPPROTO_PFSYNC		240
/* Bits no header names: they must change nothing. */
#define	UNNAMED_STATE_FLAG	0x2000
#define	UNNAMED_CFG_FLAG	0x80000000u

static struct pfsync_rs_state_info
state_info(uint16_t state_flags, uint8_t proto, uint8_t rule_nosync)
{
	struct pfsync_rs_state_info st;

	memset(&st, 0, sizeof(st));
	st.sid.id_be[7] = 1;
	st.sid.creatorid_be[3] = 1;
	st.state_flags = state_flags;
	st.wire_proto = proto;
	st.rule_nosync = rule_nosync;
	st.timeout = 2;
	return (st);
}

/* 0 when every check passes, else the number of the first that failed. */
int
pfsync_c_abi_check(void)
{
	struct pfsync_rs_state_info st;
	uint8_t slot[PFSYNC_RS_SLOT_LEN], fresh[PFSYNC_RS_SLOT_LEN];
	const char *version;
	int n = 0;

#define	CHECK(cond) do {			\
	n++;					\
	if (!(cond))				\
		return (n);			\
} while (0)

	CHECK(pfsync_rs_core_init() == 0);
	version = pfsync_rs_core_version();
	CHECK(version != NULL && version[0] != '\0');

	st = state_info(0, IPPROTO_TCP, 0);
	CHECK(pfsync_rs_state_policy(&st) == PFSYNC_RS_POLICY_SYNC);
	st = state_info(UNNAMED_STATE_FLAG, IPPROTO_TCP, 0);
	CHECK(pfsync_rs_state_policy(&st) == PFSYNC_RS_POLICY_SYNC);
	st = state_info(PFSTATE_NOSYNC | UNNAMED_STATE_FLAG, IPPROTO_TCP, 0);
	CHECK(pfsync_rs_state_policy(&st) == PFSYNC_RS_POLICY_IGNORE);
	st = state_info(0, IPPROTO_TCP, 1);
	CHECK(pfsync_rs_state_policy(&st) == PFSYNC_RS_POLICY_NOSYNC);
	st = state_info(0, IPPROTO_PFSYNC, 0);
	CHECK(pfsync_rs_state_policy(&st) == PFSYNC_RS_POLICY_NOSYNC);
	CHECK(pfsync_rs_state_policy(NULL) == PFSYNC_RS_POLICY_IGNORE);

	st = state_info(0, IPPROTO_TCP, 0);
	CHECK(pfsync_rs_defer_policy(&st, PFSYNC_RS_CFG_DEFER, 1, 1) == 1);
	CHECK(pfsync_rs_defer_policy(&st,
	    PFSYNC_RS_CFG_DEFER | PFSYNC_RS_CFG_OK | UNNAMED_CFG_FLAG, 1, 1) == 1);
	CHECK(pfsync_rs_defer_policy(&st, PFSYNC_RS_CFG_OK | UNNAMED_CFG_FLAG,
	    1, 1) == 0);
	CHECK(pfsync_rs_defer_policy(&st, PFSYNC_RS_CFG_DEFER, 0, 1) == 0);
	CHECK(pfsync_rs_defer_policy(&st, PFSYNC_RS_CFG_DEFER, 1, 0) == 0);
	st = state_info(PFSTATE_NOSYNC, IPPROTO_TCP, 0);
	CHECK(pfsync_rs_defer_policy(&st, PFSYNC_RS_CFG_DEFER, 1, 1) == 0);
	CHECK(pfsync_rs_defer_policy(NULL, PFSYNC_RS_CFG_DEFER, 1, 1) == 0);

	memset(slot, 0xa5, sizeof(slot));
	pfsync_rs_slot_init(slot);
	pfsync_rs_slot_init(fresh);
	CHECK(memcmp(slot, fresh, sizeof(slot)) == 0);
	pfsync_rs_slot_set_touched(slot, 77);
	CHECK(memcmp(slot, fresh, sizeof(slot)) != 0);
	return (0);
#undef CHECK
}
