/* SPDX-License-Identifier: ISC */
/* pfsync_obsd_import.c: needs no kernel type beyond the two structs named. */

#ifndef PFSYNC_OBSD_IMPORT_H
#define PFSYNC_OBSD_IMPORT_H

#include "pfsync_core.h"

struct pfsync_state;

void	pfsync_obsd_import_record(const struct pfsync_rs_import *,
	    struct pfsync_state *);

#endif /* PFSYNC_OBSD_IMPORT_H */
