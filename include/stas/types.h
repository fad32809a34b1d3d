/* SPDX-License-Identifier: Apache-2.0 */
/*
 * types.h - small value types shared between the configuration, the filters and the nvme
 * adapter: IP-family selection, disconnect scope, and the per-connection options that reach the
 * kernel. Header-only; no allocation except what StasConnectOptions' strings own.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>

/* ip-family= (§3.3): a bit mask plus the order in which families are preferred. */
typedef enum StasIpFamily {
        STAS_IPFAM_V4 = 1 << 0,
        STAS_IPFAM_V6 = 1 << 1,
        STAS_IPFAM_BOTH = STAS_IPFAM_V4 | STAS_IPFAM_V6,
} StasIpFamily;

/* disconnect-scope= (§3.4) */
typedef enum StasDisconnectScope {
        STAS_DISCONNECT_ONLY_STAS,    /* only-stas-connections */
        STAS_DISCONNECT_ALL_MATCHING, /* all-connections-matching-disconnect-trtypes */
        STAS_DISCONNECT_NONE,         /* no-disconnect */
} StasDisconnectScope;

/* A tri-state or integer option not given anywhere: let the kernel default apply. */
#define STAS_OPT_UNSET (-1)

/*
 * StasConnectOptions - everything that reaches the kernel on connect, after merging [Global]
 * with the per-controller overrides of a controller= entry. Integers and booleans are
 * STAS_OPT_UNSET when neither gives a value (then the kernel default applies).
 * ctrl_loss_tmo is special: -1 is a real value ("forever"), so it has its own flag.
 * Secrets are owned copies (never logged; shown as "(set)").
 */
typedef struct StasConnectOptions {
        int kato;       /* keep-alive timeout, seconds */
        int queue_size; /* 16..1024 */
        int nr_io_queues;
        int nr_write_queues;
        int nr_poll_queues;
        int reconnect_delay; /* seconds */
        bool ctrl_loss_tmo_set;
        int ctrl_loss_tmo;        /* seconds, -1 = forever */
        int hdr_digest;           /* 0/1 or STAS_OPT_UNSET */
        int data_digest;          /* 0/1 or STAS_OPT_UNSET */
        int disable_sqflow;       /* 0/1 or STAS_OPT_UNSET */
        char *dhchap_secret;      /* host key for this connection (DHHC-1:...) or NULL */
        char *dhchap_ctrl_secret; /* controller key (bidirectional auth) or NULL */
} StasConnectOptions;

static inline void connect_options_init(StasConnectOptions *o) {
        *o = (StasConnectOptions){
                .kato = STAS_OPT_UNSET,
                .queue_size = STAS_OPT_UNSET,
                .nr_io_queues = STAS_OPT_UNSET,
                .nr_write_queues = STAS_OPT_UNSET,
                .nr_poll_queues = STAS_OPT_UNSET,
                .reconnect_delay = STAS_OPT_UNSET,
                .hdr_digest = STAS_OPT_UNSET,
                .data_digest = STAS_OPT_UNSET,
                .disable_sqflow = STAS_OPT_UNSET,
        };
}

static inline void connect_options_done(StasConnectOptions *o) {
        free(o->dhchap_secret);
        free(o->dhchap_ctrl_secret);
        o->dhchap_secret = o->dhchap_ctrl_secret = NULL;
}
