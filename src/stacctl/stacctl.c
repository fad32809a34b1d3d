/* SPDX-License-Identifier: Apache-2.0 */
/* stacctl - query stacd over D-Bus. */
#include "cli.h"
#include "stas/wire.h"

int main(int argc, char **argv) {
        static const CliService svc = {
                .program = "stacctl",
                .daemon = "stacd",
                .bus_name = STAC_BUS_NAME,
                .path = STAC_BUS_PATH,
                .interface = STAC_BUS_IFACE,
                .debug_interface = STAC_BUS_DEBUG_IFACE,
                .log_pages = false,
        };
        return cli_main(&svc, argc, argv);
}
