/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message-ids.h - the journal MESSAGE_IDs of stas's controller events (log_ctrl()), 128-bit ids
 * in hex without dashes, generated once; never change one. doc/stas.7 lists them.
 */
#pragma once

/* a controller connected (or an existing connection adopted) */
#define STAS_MESSAGE_CONNECTED "05e0cd75619843858ae2de4314203990"
/* a connected controller was disconnected by stas, or removed by the kernel */
#define STAS_MESSAGE_DISCONNECTED "7b4e83cb097b47eb966c4d96e0fd42ae"
/* the first failed connect of a streak */
#define STAS_MESSAGE_CONNECT_FAILED "ff405941205b4183bfe9500965b67f19"
/* a connect succeeded after a streak of failures */
#define STAS_MESSAGE_CONNECT_FAILURES_ENDED "dba91cb457e742bfaffcfd4dd4bb4cfd"
/* stafd: the discovery log page of a DC changed */
#define STAS_MESSAGE_LOG_PAGE_CHANGED "03faee77839c48b5a9cd3cb7991d087d"
/* stafd: registered with a DC (TP8010 DIM) */
#define STAS_MESSAGE_REGISTERED "e9c628f31ab34efca6bf314a266885c0"
/* stafd: deregistered from a DC (TP8010 DIM) */
#define STAS_MESSAGE_DEREGISTERED "bc3e48ef6b1948a08eef02320be4a360"
