/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.h - run one blocking call on a worker thread and complete it on the sd-event loop.
 *
 * A StasTaskPool owns up to @max_threads worker threads and an eventfd watched by the loop.
 * task_submit() queues work(); work() runs on a worker thread and must not touch loop-owned
 * state other than its own userdata. When work() returns, done() is called on the loop thread
 * with work()'s return value. task_cancel() before completion guarantees done() is never
 * called (the worker may still be running work(); its result is discarded and cleanup() is
 * called on the loop thread when it finishes). Nothing here logs above debug level.
 *
 * A pool runs its queue in order on at most @max_threads workers: with every worker busy, new
 * work waits. Work that can block for long therefore gets a pool of its own, so that it only
 * ever delays work of its kind. Both daemons run two pools: one for connects (a connect to a
 * dead target can hang in the kernel for the transport's connect timeout) and one for the short
 * operations (Get Log Page, supported log pages, DIM, disconnect, host name lookups); see
 * StasCtrlNvmeCtx in ctrl.h, and stafd.c / stacd-manager.c for the sizes and why.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "stas/macro.h"

typedef struct StasTaskPool StasTaskPool;
typedef struct StasTask StasTask;

/* work() runs on a worker thread; its return value (0 or -errno, or any int) goes to done(). */
typedef int (*StasTaskWork)(void *userdata);
/* done() runs on the loop thread. The StasTask is freed after done() returns. */
typedef void (*StasTaskDone)(int result, void *userdata);
/* cleanup() (optional) runs on the loop thread after done(), or after a cancelled work() ends. */
typedef void (*StasTaskCleanup)(void *userdata);

/* task_pool_new() - attach a pool to @event. Return: 0 or -errno. */
int task_pool_new(sd_event *event, unsigned max_threads, StasTaskPool **ret);
/*
 * task_pool_free() - cancel queued tasks (cleanup() called for each), wait for running ones
 * to finish, join the threads. NULL-tolerant; returns NULL.
 */
StasTaskPool *task_pool_free(StasTaskPool *pool);
DEFINE_TRIVIAL_CLEANUP_FUNC(StasTaskPool *, task_pool_free);

/*
 * task_pool_free_within() - task_pool_free() for a daemon that is exiting: running work gets at
 * most @timeout_usec (UINT64_MAX: no limit) to finish. Work still running then (a connect or
 * disconnect blocked in the kernel) is left behind: one warning says how many, queued tasks get
 * their cleanup(), the workers are detached, and the pool and the tasks they run are kept,
 * reachable, until the process ends; their done() and cleanup() are never called, so whatever
 * a running work() uses stays valid. Return: true if the pool was freed, false if left behind.
 */
bool task_pool_free_within(StasTaskPool *pool, uint64_t timeout_usec);

/*
 * task_submit() - queue @work. @ret (optional) receives a handle valid until done()/cleanup()
 * has run; use it only for task_cancel(). Return: 0 or -errno.
 */
int task_submit(
        StasTaskPool *pool,
        StasTaskWork work,
        StasTaskDone done,
        StasTaskCleanup cleanup,
        void *userdata,
        StasTask **ret);

/* task_cancel() - see the header comment. Safe to call from done() of another task. */
void task_cancel(StasTask *task);

/* task_pool_pending() - tasks queued or running (not yet completed on the loop). */
unsigned task_pool_pending(StasTaskPool *pool);
