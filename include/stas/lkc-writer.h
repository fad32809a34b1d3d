/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc-writer.h - when and where a daemon's state file (lkc.h) is written.
 *
 * A daemon asks for a save whenever what it knows changes (a controller connected, a log page
 * read); with hundreds of controllers coming up that is hundreds of requests a second, and
 * each write ends in two fsync() calls. An LkcWriter coalesces them: lkc_writer_schedule()
 * only marks the state dirty, and at most one write starts per LKC_WRITER_INTERVAL_USEC. The
 * document is built and serialized on the loop (it reads the daemon's state), then written,
 * synced and renamed into place on the writer's own thread, so the loop never waits for the
 * disk. The outcome is recorded in the daemon's LkcStatus on the loop (one warning per
 * distinct problem, as lkc_save_status()). Since every write is atomic (lkc.h), the file is
 * always the old or a new complete version, also after a SIGKILL.
 *
 * At stop, lkc_writer_flush() waits for a write in flight and then writes the latest state
 * at once, on the calling thread, if a save is still pending.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/lkc.h"
#include "stas/macro.h"

/* At most one write starts per this many microseconds (issue 9: ≤ 1 per 100 ms). */
#define LKC_WRITER_INTERVAL_USEC (100 * 1000ULL)
/* The timer's slack (sd-event's default, 250 ms, would stretch the interval). */
#define LKC_WRITER_ACCURACY_USEC (5 * 1000ULL)

typedef struct LkcWriter LkcWriter;

/* The document to save (the "data" member), a new reference; NULL on ENOMEM. Runs on the loop. */
typedef json_object *(*LkcWriterBuild)(void *userdata);

/*
 * lkc_writer_new() - a writer of @path for @daemon on @event. @st is the daemon's status of
 * the file (outlives the writer); @build makes the document when a write starts. Starts the
 * writer thread. Return: 0 or -errno.
 */
int lkc_writer_new(
        sd_event *event,
        const char *path,
        const char *daemon,
        LkcStatus *st,
        LkcWriterBuild build,
        void *userdata,
        LkcWriter **ret);

/* lkc_writer_schedule() - the state changed: write it soon (coalesced, see above). NULL-tolerant. */
void lkc_writer_schedule(LkcWriter *w);

/*
 * lkc_writer_flush() - at stop: wait for the write in flight, then write now, on the calling
 * thread, if a save was scheduled since it started (a daemon that always saves at stop calls
 * lkc_writer_schedule() first). Return: 0 or the -errno of the last write. NULL-tolerant.
 */
int lkc_writer_flush(LkcWriter *w);

/* lkc_writer_writes() - how many writes were started (process_info and tests). */
uint64_t lkc_writer_writes(const LkcWriter *w);

/*
 * lkc_writer_free() - stop the thread (a queued write is still made) and free. Does not flush:
 * call lkc_writer_flush() first to save the latest state. NULL-tolerant; returns NULL.
 */
LkcWriter *lkc_writer_free(LkcWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(LkcWriter *, lkc_writer_free);
