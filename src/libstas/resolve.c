/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stas/kvv.h"
#include "stas/log.h"
#include "stas/resolve.h"

/* getaddrinfo() errors (negative EAI_x) are passed around as -(RESOLVE_EAI_BASE - EAI_x) */
#define RESOLVE_EAI_BASE 10000

typedef struct Name {
        char *name;
        bool done;
        int error;           /* 0 or negative */
        struct addrinfo *ai; /* answer */
} Name;

struct StasResolver {
        StasTaskPool *pool;
        StasResolverDone done;
        void *userdata;
        Name *names;
        size_t n_names;
        unsigned pending;
        StasTask **tasks; /* outstanding, for cancellation */
        size_t n_tasks;
};

typedef struct Job {
        StasResolver *r; /* valid in done() only (cancelled jobs never get there) */
        StasTask *task;
        char *name;
        struct addrinfo *ai;
        int gai;
        int err; /* errno of the worker for EAI_SYSTEM */
} Job;

/**
 * resolve_needed() - is @traddr a host name to resolve?
 * @transport: tcp and rdma use IP addresses
 * @traddr: the configured address
 */
bool resolve_needed(const char *transport, const char *traddr) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (!streq_ptr(transport, "tcp") && !streq_ptr(transport, "rdma"))
                return false;
        if (isempty(traddr))
                return false;
        return inet_pton(AF_INET, traddr, buf) != 1 && inet_pton(AF_INET6, traddr, buf) != 1;
}

static const struct addrinfo *first_of(const struct addrinfo *ai, int family) {
        for (; ai; ai = ai->ai_next)
                if (ai->ai_family == family && ai->ai_addr)
                        return ai;
        return NULL;
}

/**
 * resolve_pick() - the address to use among getaddrinfo() results.
 * @ai: the results (in resolver order)
 * @families: ip-family
 * @ipv6_first: ip-family=ipv6+ipv4
 * @ret: the numeric address
 */
int resolve_pick(const struct addrinfo *ai, StasIpFamily families, bool ipv6_first, char **ret) {
        const struct addrinfo *v4 = (families & STAS_IPFAM_V4) ? first_of(ai, AF_INET) : NULL;
        const struct addrinfo *v6 = (families & STAS_IPFAM_V6) ? first_of(ai, AF_INET6) : NULL;
        const struct addrinfo *pick = ipv6_first ? (v6 ?: v4) : (v4 ?: v6);
        char buf[INET6_ADDRSTRLEN];
        const void *addr;

        if (!pick)
                return -EADDRNOTAVAIL;
        if (pick->ai_family == AF_INET)
                addr = &((const struct sockaddr_in *) pick->ai_addr)->sin_addr;
        else
                addr = &((const struct sockaddr_in6 *) pick->ai_addr)->sin6_addr;
        if (!inet_ntop(pick->ai_family, addr, buf, sizeof buf))
                return -errno;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/**
 * resolve_strerror() - describe a resolver error.
 * @error: negative errno or encoded getaddrinfo() error
 */
const char *resolve_strerror(int error) {
        if (error <= -RESOLVE_EAI_BASE)
                return gai_strerror(RESOLVE_EAI_BASE + error);
        if (error == -EADDRNOTAVAIL)
                return "no address of a family enabled by ip-family";
        return strerror(-error);
}

/**
 * resolver_new() - see resolve.h.
 * @pool: worker pool (NULL: no lookups possible)
 * @done: called when the last outstanding lookup is answered
 * @userdata: for @done
 * @ret: the resolver
 */
int resolver_new(StasTaskPool *pool, StasResolverDone done, void *userdata, StasResolver **ret) {
        StasResolver *r = new0(StasResolver, 1);

        if (!r)
                return -ENOMEM;
        r->pool = pool;
        r->done = done;
        r->userdata = userdata;
        *ret = r;
        return 0;
}

static void name_done(Name *n) {
        free(n->name);
        if (n->ai)
                freeaddrinfo(n->ai);
}

/**
 * resolver_reset() - forget the answers; outstanding lookups stay.
 * @r: the resolver
 */
void resolver_reset(StasResolver *r) {
        size_t k = 0;

        if (!r)
                return;
        for (size_t i = 0; i < r->n_names; i++)
                if (r->names[i].done)
                        name_done(&r->names[i]);
                else
                        r->names[k++] = r->names[i];
        r->n_names = k;
}

/**
 * resolver_free() - see resolve.h.
 * @r: NULL-tolerant
 */
StasResolver *resolver_free(StasResolver *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_tasks; i++)
                task_cancel(r->tasks[i]);
        free(r->tasks);
        for (size_t i = 0; i < r->n_names; i++)
                name_done(&r->names[i]);
        free(r->names);
        free(r);
        return NULL;
}

/**
 * resolver_pending() - outstanding lookups.
 * @r: the resolver
 */
unsigned resolver_pending(const StasResolver *r) {
        return r ? r->pending : 0;
}

static Name *name_find(StasResolver *r, const char *name) {
        for (size_t i = 0; i < r->n_names; i++)
                if (streq(r->names[i].name, name))
                        return &r->names[i];
        return NULL;
}

/* worker thread: the blocking lookup */
static int job_work(void *userdata) {
        Job *j = userdata;
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };

        j->gai = getaddrinfo(j->name, NULL, &hints, &j->ai);
        j->err = errno;
        return 0;
}

static void job_done(int result, void *userdata) {
        Job *j = userdata;
        StasResolver *r = j->r;
        Name *n = name_find(r, j->name);

        for (size_t i = 0; i < r->n_tasks; i++)
                if (r->tasks[i] == j->task) {
                        r->tasks[i] = r->tasks[--r->n_tasks];
                        break;
                }
        if (n && !n->done) {
                n->done = true;
                if (j->gai == 0) {
                        n->ai = TAKE_PTR(j->ai);
                        n->error = 0;
                } else
                        n->error =
                                j->gai == EAI_SYSTEM && j->err > 0 ? -j->err : -(RESOLVE_EAI_BASE - j->gai);
                log_debug("Resolved %s: %s", j->name, n->error < 0 ? resolve_strerror(n->error) : "ok");
        }
        if (r->pending > 0 && --r->pending == 0 && r->done)
                r->done(r, r->userdata);
}

static void job_cleanup(void *userdata) {
        Job *j = userdata;

        if (j->ai)
                freeaddrinfo(j->ai);
        free(j->name);
        free(j);
}

/* start looking @name up; the Name is added undone */
static int lookup_start(StasResolver *r, const char *name) {
        Name *nn = realloc(r->names, (r->n_names + 1) * sizeof(Name));
        StasTask **nt = realloc(r->tasks, (r->n_tasks + 1) * sizeof(StasTask *));
        Job *j;
        int k;

        if (nn)
                r->names = nn;
        if (nt)
                r->tasks = nt;
        if (!nn || !nt)
                return -ENOMEM;
        r->names[r->n_names] = (Name){ .name = strdup(name) };
        if (!r->names[r->n_names].name)
                return -ENOMEM;
        r->n_names++;
        if (!r->pool) {
                Name *n = &r->names[r->n_names - 1];
                n->done = true;
                n->error = -ENOSYS;
                return 0;
        }
        j = new0(Job, 1);
        if (!j || !(j->name = strdup(name))) {
                free(j);
                return -ENOMEM;
        }
        j->r = r;
        k = task_submit(r->pool, job_work, job_done, job_cleanup, j, &j->task);
        if (k < 0) {
                job_cleanup(j);
                r->names[r->n_names - 1].done = true;
                r->names[r->n_names - 1].error = k;
                return 0;
        }
        r->tasks[r->n_tasks++] = j->task;
        r->pending++;
        return 0;
}

/**
 * resolver_resolve_entries() - see resolve.h.
 * @r: the resolver
 * @entries: controller= dicts
 * @n: their number
 * @families: ip-family
 * @ipv6_first: ip-family=ipv6+ipv4
 * @excluded: optional: drop an entry before resolving its name
 * @failed: optional: told about each entry dropped because its name did not resolve
 * @userdata: for the callbacks
 * @ret: the resolved entries
 */
int resolver_resolve_entries(
        StasResolver *r,
        StasKV *const *entries,
        size_t n,
        StasIpFamily families,
        bool ipv6_first,
        bool (*excluded)(const StasKV *entry, void *userdata),
        void (*failed)(const StasKV *entry, int error, void *userdata),
        void *userdata,
        StasKV ***ret) {
        _cleanup_(kvv_freep) StasKV **l = new0(StasKV *, 1);
        bool waiting = false;
        int k;

        if (!l)
                return -ENOMEM;
        /* first pass: start every missing lookup at once */
        for (size_t i = 0; i < n; i++) {
                const char *t = kv_get(entries[i], "transport"), *a = kv_get(entries[i], "traddr");
                Name *nm;

                if (!resolve_needed(t, a) || (excluded && excluded(entries[i], userdata)))
                        continue;
                if (!r)
                        continue; /* no resolver: fails below */
                nm = name_find(r, a);
                if (!nm) {
                        k = lookup_start(r, a);
                        if (k < 0)
                                return k;
                        nm = name_find(r, a);
                }
                if (!nm->done)
                        waiting = true;
        }
        if (waiting)
                return -EINPROGRESS;
        for (size_t i = 0; i < n; i++) {
                const char *t = kv_get(entries[i], "transport"), *a = kv_get(entries[i], "traddr");
                _cleanup_free_ char *addr = NULL;
                StasKV *c;

                if (resolve_needed(t, a)) {
                        Name *nm;

                        if (excluded && excluded(entries[i], userdata))
                                continue;
                        nm = r ? name_find(r, a) : NULL;
                        k = !nm                 ? -ENOSYS
                                : nm->error < 0 ? nm->error
                                                : resolve_pick(nm->ai, families, ipv6_first, &addr);
                        if (k == -ENOMEM)
                                return k;
                        if (k < 0) {
                                if (failed)
                                        failed(entries[i], k, userdata);
                                continue;
                        }
                }
                c = kv_copy(entries[i]);
                if (!c || (addr && kv_set(c, "traddr", addr) < 0)) {
                        kv_free(c);
                        return -ENOMEM;
                }
                k = kvv_consume(&l, c);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static void conf_name_failed(const StasKV *entry, int error, void *userdata) {
        log_error(
                "Cannot resolve %s: %s. Ignoring controller %s/%s until the next reconcile.",
                kv_get(entry, "traddr"),
                resolve_strerror(error),
                kv_get(entry, "traddr"),
                strempty(kv_get(entry, "trsvcid")));
}

/**
 * resolver_resolve_conf() - resolve the host names of a configuration's controller= entries.
 * @r: the resolver
 * @conf: the configuration (controllers, ip-family)
 * @excluded: optional: drop an entry before resolving its name
 * @userdata: for @excluded
 * @ret: the resolved entries
 */
int resolver_resolve_conf(
        StasResolver *r,
        const StasConf *conf,
        bool (*excluded)(const StasKV *entry, void *userdata),
        void *userdata,
        StasKV ***ret) {
        return resolver_resolve_entries(
                r,
                conf->controllers,
                conf->n_controllers,
                conf->ip_family,
                conf->ipv6_first,
                excluded,
                conf_name_failed,
                userdata,
                ret);
}
