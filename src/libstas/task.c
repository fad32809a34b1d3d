/* SPDX-License-Identifier: Apache-2.0 */
/*
 * task.c - a small worker pool completing on sd-event. See task.h for the contract.
 *
 * Threading model: the pool's queue, its completed list and each task's state field are
 * protected by pool->lock. Everything else (pending count, the cancelled flag, calling done()
 * and cleanup()) belongs to the loop thread. A worker pops a queued task, runs work() without
 * the lock, appends the task to the completed list and bumps the eventfd; the loop then
 * delivers done()/cleanup() and frees the task.
 *
 * Cancelled tasks never get done(). A queued task that is cancelled is moved straight to the
 * completed list, so cleanup() still runs from the loop (never inside task_cancel(), so a
 * caller may safely clear its own handle after cancelling). task_pool_free() treats everything
 * not yet delivered as cancelled: cleanup() only.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "stas/event.h"
#include "stas/log.h"
#include "stas/task.h"

typedef enum TaskState {
        TASK_QUEUED,
        TASK_RUNNING,
        TASK_COMPLETED,
} TaskState;

struct StasTask {
        StasTaskPool *pool;
        StasTaskWork work;
        StasTaskDone done;
        StasTaskCleanup cleanup;
        void *userdata;
        int result;
        TaskState state; /* under pool->lock */
        bool cancelled;  /* loop thread only */
        StasTask *prev, *next;
};

typedef struct TaskList {
        StasTask *head, *tail;
} TaskList;

struct StasTaskPool {
        sd_event *event;
        sd_event_source *io;
        int efd;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t *threads;
        unsigned n_threads, max_threads, idle;
        TaskList queue, completed;
        unsigned n_queued;
        unsigned n_exited; /* workers that left worker_main() (task_pool_free_within()) */
        bool stopping;
        StasTaskPool *abandoned_next; /* task_pool_free_within() left it behind */

        unsigned pending; /* loop thread only */
};

static void list_append(TaskList *l, StasTask *t) {
        t->next = NULL;
        t->prev = l->tail;
        if (l->tail)
                l->tail->next = t;
        else
                l->head = t;
        l->tail = t;
}

static void list_remove(TaskList *l, StasTask *t) {
        if (t->prev)
                t->prev->next = t->next;
        else
                l->head = t->next;
        if (t->next)
                t->next->prev = t->prev;
        else
                l->tail = t->prev;
        t->prev = t->next = NULL;
}

static void pool_kick(StasTaskPool *pool) {
        uint64_t one = 1;

        /* Can only fail if the counter would overflow, which means a wake-up is pending anyway. */
        (void) !write(pool->efd, &one, sizeof(one));
}

static void *worker_main(void *arg) {
        StasTaskPool *pool = arg;

        pthread_mutex_lock(&pool->lock);
        for (;;) {
                StasTask *t;
                int r;

                while (!pool->queue.head && !pool->stopping) {
                        pool->idle++;
                        pthread_cond_wait(&pool->cond, &pool->lock);
                        pool->idle--;
                }
                t = pool->queue.head;
                if (!t) { /* stopping and nothing left to run */
                        pool->n_exited++;
                        pthread_cond_broadcast(&pool->cond);
                        break;
                }
                list_remove(&pool->queue, t);
                pool->n_queued--;
                t->state = TASK_RUNNING;
                pthread_mutex_unlock(&pool->lock);

                r = t->work(t->userdata);

                pthread_mutex_lock(&pool->lock);
                t->result = r;
                t->state = TASK_COMPLETED;
                list_append(&pool->completed, t);
                pool_kick(pool);
        }
        pthread_mutex_unlock(&pool->lock);
        return NULL;
}

static void task_deliver(StasTask *t) {
        if (!t->cancelled && t->done)
                t->done(t->result, t->userdata);
        if (t->cleanup)
                t->cleanup(t->userdata);
        free(t);
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StasTaskPool *pool = userdata;
        TaskList batch;
        uint64_t v;

        (void) !read(fd, &v, sizeof(v));

        pthread_mutex_lock(&pool->lock);
        batch = pool->completed;
        pool->completed = (TaskList){};
        pthread_mutex_unlock(&pool->lock);

        /*
         * Deliver one by one, unlinking first: a done() may cancel a task that is still further
         * down this batch, which only sets its cancelled flag.
         */
        while (batch.head) {
                StasTask *t = batch.head;

                list_remove(&batch, t);
                pool->pending--;
                task_deliver(t);
        }
        return 0;
}

/**
 * task_pool_new() - create a pool of at most @max_threads workers completing on @event.
 * Threads start lazily, when work is queued and no idle worker can take it.
 *
 * Return: 0, -EINVAL (@max_threads 0) or -errno.
 */
int task_pool_new(sd_event *event, unsigned max_threads, StasTaskPool **ret) {
        _cleanup_(task_pool_freep) StasTaskPool *pool = NULL;
        int r;

        if (!event || max_threads == 0 || !ret)
                return -EINVAL;

        pool = new0(StasTaskPool, 1);
        if (!pool)
                return -ENOMEM;
        pool->efd = -1;
        pool->max_threads = max_threads;
        pthread_mutex_init(&pool->lock, NULL);
        {
                pthread_condattr_t ca;

                /* task_pool_free_within() waits on it with a CLOCK_MONOTONIC deadline */
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&pool->cond, &ca);
                pthread_condattr_destroy(&ca);
        }
        pool->event = sd_event_ref(event);

        pool->threads = new0(pthread_t, max_threads);
        if (!pool->threads)
                return -ENOMEM;

        pool->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (pool->efd < 0)
                return -errno;
        r = sd_event_add_io(event, &pool->io, pool->efd, EPOLLIN, on_eventfd, pool);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(pool->io, "stas-task-pool");

        *ret = TAKE_PTR(pool);
        return 0;
}

/**
 * task_pool_free() - cancel queued tasks, wait for running ones, join every worker, then call
 * cleanup() (never done()) for each task not yet delivered. Must be called on the loop thread,
 * not from inside a done()/cleanup() of this pool. NULL-tolerant.
 *
 * Return: NULL.
 */
StasTaskPool *task_pool_free(StasTaskPool *pool) {
        (void) task_pool_free_within(pool, UINT64_MAX);
        return NULL;
}

/* Pools left behind by task_pool_free_within(): kept, and reachable, until the process ends. */
static StasTaskPool *abandoned;

/* Stop taking work; return the queued tasks (they never start). */
static TaskList pool_stop(StasTaskPool *pool) {
        TaskList left;

        pthread_mutex_lock(&pool->lock);
        pool->stopping = true;
        left = pool->queue;
        pool->queue = (TaskList){};
        pool->n_queued = 0;
        pthread_cond_broadcast(&pool->cond);
        pthread_mutex_unlock(&pool->lock);
        return left;
}

/* Wait until every worker left, at most @timeout_usec (UINT64_MAX: no limit). Return: they all did. */
static bool pool_wait_workers(StasTaskPool *pool, uint64_t timeout_usec) {
        struct timespec deadline;
        bool all;
        int r = 0;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        if (timeout_usec != UINT64_MAX) {
                uint64_t ns = (uint64_t) deadline.tv_nsec + (timeout_usec % USEC_PER_SEC) * 1000;

                deadline.tv_sec += (time_t) (timeout_usec / USEC_PER_SEC + ns / 1000000000);
                deadline.tv_nsec = (long) (ns % 1000000000);
        }
        pthread_mutex_lock(&pool->lock);
        while (pool->n_exited < pool->n_threads && r != ETIMEDOUT) {
                if (timeout_usec == UINT64_MAX)
                        r = pthread_cond_wait(&pool->cond, &pool->lock);
                else
                        r = pthread_cond_timedwait(&pool->cond, &pool->lock, &deadline);
        }
        all = pool->n_exited == pool->n_threads;
        pthread_mutex_unlock(&pool->lock);
        return all;
}

/* Cleanup for the queued tasks; the workers are detached and the pool is kept (see task.h). */
static void pool_abandon(StasTaskPool *pool, TaskList *left, uint64_t timeout_usec) {
        unsigned running;

        while (left->head) {
                StasTask *t = left->head;

                list_remove(left, t);
                pool->pending--;
                t->cancelled = true;
                task_deliver(t);
        }
        for (unsigned i = 0; i < pool->n_threads; i++)
                (void) pthread_detach(pool->threads[i]);
        pthread_mutex_lock(&pool->lock);
        running = pool->n_threads - pool->n_exited;
        pthread_mutex_unlock(&pool->lock);
        /* the loop is going away: completions are never delivered; the eventfd stays open */
        pool->io = sd_event_source_disable_unref(pool->io);
        pool->abandoned_next = abandoned;
        abandoned = pool;
        log_warning(
                "%u operation(s) still blocked in the kernel after %.1f s; exiting without waiting for them.",
                running,
                (double) timeout_usec / USEC_PER_SEC);
}

/**
 * task_pool_free_within() - task_pool_free(), waiting at most @timeout_usec. See task.h.
 *
 * Return: true (freed) or false (left behind).
 */
bool task_pool_free_within(StasTaskPool *pool, uint64_t timeout_usec) {
        TaskList left;

        if (!pool)
                return true;
        left = pool_stop(pool);
        if (!pool_wait_workers(pool, timeout_usec)) {
                pool_abandon(pool, &left, timeout_usec);
                return false;
        }
        for (unsigned i = 0; i < pool->n_threads; i++)
                (void) pthread_join(pool->threads[i], NULL);

        /* Workers are gone: no locking needed from here on. */
        while (pool->completed.head) {
                StasTask *t = pool->completed.head;

                list_remove(&pool->completed, t);
                list_append(&left, t);
        }
        while (left.head) {
                StasTask *t = left.head;

                list_remove(&left, t);
                t->cancelled = true;
                task_deliver(t);
        }

        pool->io = sd_event_source_disable_unref(pool->io);
        if (pool->efd >= 0)
                (void) close(pool->efd);
        sd_event_unref(pool->event);
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        free(pool->threads);
        free(pool);
        return true;
}

/* Called with pool->lock held. */
static int pool_spawn_locked(StasTaskPool *pool) {
        sigset_t all, saved;
        int r;

        /* Workers must never take the daemon's signals: start them with everything blocked. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = -pthread_create(&pool->threads[pool->n_threads], NULL, worker_main, pool);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        pool->n_threads++;
        log_debug("Task pool: started worker %u of %u.", pool->n_threads, pool->max_threads);
        return 0;
}

/**
 * task_submit() - queue @work(@userdata) on @pool; see task.h. @done and @cleanup may be NULL.
 *
 * Return: 0, -EINVAL, -ESHUTDOWN (pool being freed) or -errno (no worker could be started).
 */
int task_submit(
        StasTaskPool *pool,
        StasTaskWork work,
        StasTaskDone done,
        StasTaskCleanup cleanup,
        void *userdata,
        StasTask **ret) {

        StasTask *t;
        int r = 0;

        if (!pool || !work)
                return -EINVAL;

        t = new0(StasTask, 1);
        if (!t)
                return -ENOMEM;
        *t = (StasTask){
                .pool = pool,
                .work = work,
                .done = done,
                .cleanup = cleanup,
                .userdata = userdata,
                .state = TASK_QUEUED,
        };

        pthread_mutex_lock(&pool->lock);
        if (pool->stopping) {
                pthread_mutex_unlock(&pool->lock);
                free(t);
                return -ESHUTDOWN;
        }
        list_append(&pool->queue, t);
        pool->n_queued++;
        if (pool->n_queued > pool->idle && pool->n_threads < pool->max_threads) {
                r = pool_spawn_locked(pool);
                if (r < 0 && pool->n_threads > 0) {
                        /* The existing workers will get to it. */
                        log_debug_errno(r, "Task pool: cannot start another worker, continuing: %m");
                        r = 0;
                }
        }
        if (r < 0) {
                list_remove(&pool->queue, t);
                pool->n_queued--;
                pthread_mutex_unlock(&pool->lock);
                free(t);
                return log_debug_errno(r, "Task pool: cannot start a worker: %m");
        }
        pthread_cond_signal(&pool->cond);
        pthread_mutex_unlock(&pool->lock);

        pool->pending++;
        if (ret)
                *ret = t;
        return 0;
}

/**
 * task_cancel() - make sure done() is never called for @task; cleanup() still runs once, from
 * the loop, after work() has finished (or at once, from the loop, if work() never started).
 * Idempotent. NULL-tolerant. Loop thread only.
 */
void task_cancel(StasTask *task) {
        StasTaskPool *pool;

        if (!task || task->cancelled)
                return;
        task->cancelled = true;

        pool = task->pool;
        pthread_mutex_lock(&pool->lock);
        if (task->state == TASK_QUEUED) {
                list_remove(&pool->queue, task);
                pool->n_queued--;
                task->state = TASK_COMPLETED;
                list_append(&pool->completed, task);
                pool_kick(pool);
        }
        pthread_mutex_unlock(&pool->lock);
}

/**
 * task_pool_pending() - tasks submitted whose done()/cleanup() has not run yet.
 */
unsigned task_pool_pending(StasTaskPool *pool) {
        return pool ? pool->pending : 0;
}
