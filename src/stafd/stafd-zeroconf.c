/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-zeroconf.c - zeroconf browser -> DC manager glue (see stafd-zeroconf.h).
 */
#include <errno.h>

#include "stafd-zeroconf.h"
#include "stas/kvv.h"
#include "stas/log.h"

/**
 * staf_zeroconf_service_types() - see stafd-zeroconf.h.
 * @conf: the configuration
 */
char *const *staf_zeroconf_service_types(const StasConf *conf) {
        static char *const all[] = { (char *) ZC_STYPE_TCP, (char *) ZC_STYPE_UDP, NULL };
        static char *const none[] = { NULL };

        return conf && conf->zeroconf ? all : none;
}

/**
 * staf_zeroconf_apply_conf() - see stafd-zeroconf.h.
 * @z: the browser (NULL: nothing to do)
 * @conf: the configuration
 */
int staf_zeroconf_apply_conf(StasZeroconf *z, const StasConf *conf) {
        if (!z)
                return 0;
        return zc_set_service_types(z, staf_zeroconf_service_types(conf));
}

/**
 * staf_zeroconf_sync() - see stafd-zeroconf.h.
 * @m: the manager
 * @z: the browser
 */
int staf_zeroconf_sync(StafManager *m, const StasZeroconf *z) {
        _cleanup_(kvv_freep) StasKV **l = NULL;
        int r;

        r = zc_get_controllers(z, &l);
        if (r < 0)
                return r;
        log_debug("Zeroconf: %zu reachable discovery controller(s).", kvv_length(l));
        return staf_manager_set_zeroconf(m, l, kvv_length(l));
}
