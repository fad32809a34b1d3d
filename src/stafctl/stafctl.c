/* SPDX-License-Identifier: Apache-2.0 */
/* stafctl - query stafd over D-Bus. */
#include "cli.h"
#include "stas/wire.h"

int main(int argc, char **argv) {
        static const CliService svc = {
                .program = "stafctl",
                .daemon = "stafd",
                .bus_name = STAF_BUS_NAME,
                .path = STAF_BUS_PATH,
                .interface = STAF_BUS_IFACE,
                .debug_interface = STAF_BUS_DEBUG_IFACE,
                .log_pages = true,
        };
        return cli_main(&svc, argc, argv);
}
