/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stacd-ctrl.h - stacd's per-IOC object (StacdIoc, stacd-manager.h): create one for a TID with
 * its sources (controller= entry, DLPE), its connect options from the configuration and the
 * DLPE, its controller callbacks (connected, connect failed with the NCC rule of §5.9), start
 * it, the lists the manager keeps them in, and its list_controllers dicts. The manager
 * (stacd-manager.c) decides which IOCs exist; this file is what one IOC does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stacd-manager.h"

/* ioc_new() - a tracked, not yet started IOC for @tid (copied) from @src (NULL: none), added to m->iocs. */
int ioc_new(StacdManager *m, const StasTid *tid, const StacdSource *src, StacdIoc **ret);
/* ioc_free() - free @io and its controller (the kernel connection is left alone). */
void ioc_free(StacdIoc *io);
/* ioc_start() - start connecting @io (once). */
void ioc_start(StacdIoc *io);
/* ioc_set_source() - replace @io's controller= entry and DLPE (copies). Return: 0, -ENOMEM. */
int ioc_set_source(StacdIoc *io, const StasKV *entry, const StasKV *dlpe);
/* ioc_options() - @io's connect options: [Global] with its controller= entry and DLPE applied. */
int ioc_options(StacdManager *m, StacdIoc *io, StasConnectOptions *ret);
/* ioc_list_add(), ioc_list_remove() - the manager's IOC arrays. Return: 0, -ENOMEM / -ENOENT. */
int ioc_list_add(StacdIoc ***l, size_t *n, StacdIoc *io);
int ioc_list_remove(StacdIoc ***l, size_t *n, StacdIoc *io);
/* ioc_tid_str() - @tid for a log line (a new string; NULL on ENOMEM). */
char *ioc_tid_str(const StasTid *tid);
/* ioc_dict_build() - @io's list_controllers dict, short or @detailed. NULL on ENOMEM. */
StasKV *ioc_dict_build(StacdIoc *io, bool detailed);
