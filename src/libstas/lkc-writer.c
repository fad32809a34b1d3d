/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lkc-writer.c - coalesced state-file writes off the loop. See lkc-writer.h.
 *
 * The loop owns everything but the hand-off: @job (the text to write, set by the loop, taken
 * by the thread), @done/@result (set by the thread when a write ended, read by the loop) and
 * @quit, all under @lock. The thread bumps @efd after each write; the loop then records the
 * result. @in_flight (loop only) is true from the moment a job is handed over until its result
 * was recorded, so at most one write is ever queued or running.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "stas/lkc-writer.h"
#include "stas/log.h"

struct LkcWriter {
        sd_event *event;
        sd_event_source *timer, *io;
        char *path, *daemon;
        LkcStatus *st;
        LkcWriterBuild build;
        void *userdata;

        /* loop only */
        bool dirty, in_flight;
        uint64_t last_start; /* CLOCK_MONOTONIC µs of the last write started, 0: none */
        uint64_t n_writes;

        /* shared, under lock */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        char *job;
        bool done, quit;
        int result;

        int efd;
        pthread_t thread;
        bool thread_started;
};

static void *writer_main(void *userdata) {
        LkcWriter *w = userdata;

        pthread_mutex_lock(&w->lock);
        for (;;) {
                char *text;
                int r;

                while (!w->job && !w->quit)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (!w->job)
                        break; /* quit, nothing left to write */
                text = TAKE_PTR(w->job);
                pthread_mutex_unlock(&w->lock);

                r = lkc_write_text(w->path, text);
                free(text);

                pthread_mutex_lock(&w->lock);
                w->result = r;
                w->done = true;
                pthread_cond_broadcast(&w->cond);
                (void) eventfd_write(w->efd, 1);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* The result of the write in flight, if it ended (@wait: wait until it does). Loop only. */
static int collect(LkcWriter *w, bool wait) {
        bool done;
        int r;

        if (!w->in_flight)
                return 0;
        pthread_mutex_lock(&w->lock);
        while (wait && !w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        done = w->done;
        r = w->result;
        w->done = false;
        pthread_mutex_unlock(&w->lock);
        if (!done)
                return 0;
        w->in_flight = false;
        return lkc_status_record(w->st, w->path, r);
}

static uint64_t now_usec(LkcWriter *w) {
        uint64_t t = 0;

        (void) sd_event_now(w->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* Arm the timer for the next write: now, or LKC_WRITER_INTERVAL_USEC after the last start. */
static void arm(LkcWriter *w) {
        uint64_t at = now_usec(w);
        int r;

        if (!w->dirty || w->in_flight)
                return; /* the write in flight ends in arm() again */
        if (w->last_start && w->last_start + LKC_WRITER_INTERVAL_USEC > at)
                at = w->last_start + LKC_WRITER_INTERVAL_USEC;
        r = sd_event_source_set_time(w->timer, at);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Cannot arm the state file timer: %m");
}

/* The document's text now, or NULL (recorded in the status). */
static char *serialize(LkcWriter *w) {
        json_object *doc = w->build(w->userdata);
        char *text;

        if (!doc) {
                (void) lkc_status_record(w->st, w->path, -ENOMEM);
                return NULL;
        }
        text = lkc_serialize(w->daemon, doc);
        json_object_put(doc);
        if (!text)
                (void) lkc_status_record(w->st, w->path, -errno);
        return text;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        LkcWriter *w = userdata;
        char *text;

        if (w->in_flight || !w->dirty)
                return 0;
        w->dirty = false;
        w->last_start = now_usec(w);
        text = serialize(w);
        if (!text)
                return 0;
        w->n_writes++;
        w->in_flight = true;
        pthread_mutex_lock(&w->lock);
        w->job = text;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LkcWriter *w = userdata;
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        (void) collect(w, false);
        arm(w);
        return 0;
}

/**
 * lkc_writer_new() - see lkc-writer.h.
 *
 * Return: 0 or -errno.
 */
int lkc_writer_new(
        sd_event *event,
        const char *path,
        const char *daemon,
        LkcStatus *st,
        LkcWriterBuild build,
        void *userdata,
        LkcWriter **ret) {
        _cleanup_(lkc_writer_freep) LkcWriter *w = NULL;
        sigset_t all, saved;
        int r;

        if (!event || isempty(path) || isempty(daemon) || !st || !build || !ret)
                return -EINVAL;
        w = new0(LkcWriter, 1);
        if (!w)
                return -ENOMEM;
        w->efd = -1;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->event = sd_event_ref(event);
        w->st = st;
        w->build = build;
        w->userdata = userdata;
        w->path = strdup(path);
        w->daemon = strdup(daemon);
        if (!w->path || !w->daemon)
                return -ENOMEM;
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return -errno;
        r = sd_event_add_io(event, &w->io, w->efd, EPOLLIN, on_done, w);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &w->timer, CLOCK_MONOTONIC, 0, LKC_WRITER_ACCURACY_USEC, on_timer, w);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;

        /* the daemon's signals go to the loop thread only */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = -pthread_create(&w->thread, NULL, writer_main, w);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        w->thread_started = true;
        *ret = TAKE_PTR(w);
        return 0;
}

/**
 * lkc_writer_schedule() - see lkc-writer.h.
 * @w: the writer
 */
void lkc_writer_schedule(LkcWriter *w) {
        if (!w)
                return;
        w->dirty = true;
        if (w->in_flight)
                return;
        if (sd_event_source_get_enabled(w->timer, NULL) > 0)
                return; /* already armed */
        arm(w);
}

/**
 * lkc_writer_flush() - see lkc-writer.h.
 * @w: the writer
 *
 * Return: 0 or -errno.
 */
int lkc_writer_flush(LkcWriter *w) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (!w)
                return 0;
        (void) sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        r = collect(w, true);
        if (!w->dirty)
                return r;
        w->dirty = false;
        w->last_start = now_usec(w);
        text = serialize(w);
        if (!text)
                return w->st->error;
        w->n_writes++;
        return lkc_status_record(w->st, w->path, lkc_write_text(w->path, text));
}

/**
 * lkc_writer_writes() - see lkc-writer.h.
 * @w: the writer
 *
 * Return: the number of writes started.
 */
uint64_t lkc_writer_writes(const LkcWriter *w) {
        return w ? w->n_writes : 0;
}

/**
 * lkc_writer_free() - see lkc-writer.h.
 * @w: the writer
 *
 * Return: NULL.
 */
LkcWriter *lkc_writer_free(LkcWriter *w) {
        if (!w)
                return NULL;
        if (w->thread_started) {
                pthread_mutex_lock(&w->lock);
                w->quit = true;
                pthread_cond_signal(&w->cond);
                pthread_mutex_unlock(&w->lock);
                pthread_join(w->thread, NULL);
        }
        free(w->job);
        sd_event_source_disable_unref(w->timer);
        sd_event_source_disable_unref(w->io);
        if (w->efd >= 0)
                close(w->efd);
        sd_event_unref(w->event);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w->path);
        free(w->daemon);
        free(w);
        return NULL;
}
