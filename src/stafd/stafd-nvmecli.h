/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stafd-nvmecli.h - stafd's interop with nvme-cli (§5.11). While stafd runs it installs a udev
 * rule in /run/udev/rules.d that masks nvme-cli's autoconnect rule (same name), and removes it
 * at exit; a DC that stafd does not manage but whose device reports a discovery change is handed
 * to nvme-cli's nvmf-connect@.service, as that rule would have done.
 *
 * Test hooks (environment): STAS_UDEV_RULES_DIR (instead of /run/udev/rules.d),
 * STAS_UDEV_RULE_TEMPLATE (instead of the installed template), STAS_SYSTEMCTL (instead of the
 * configured systemctl).
 */
#pragma once

#include <systemd/sd-event.h>

#include "stas/udev.h"

#define UDEV_RULE_NAME "70-nvmf-autoconnect.rules"

/*
 * nvmecli_rule_install() - install the override from the template, or take over one with the
 * template's content that a stafd which did not exit cleanly left; someone else's file of that
 * name is left alone (notice). Problems are warnings: stafd runs on without the override.
 * Return: the path to remove at exit (nvmecli_rule_remove()), or NULL.
 */
char *nvmecli_rule_install(void);
/* nvmecli_rule_remove() - remove *@path (NULL: nothing) and free it. */
void nvmecli_rule_remove(char **path);

/*
 * nvmecli_foreign_dc() - @ev is a change event of a DC stafd does not manage: when its device is
 * a discovery controller, run "systemctl --no-block restart nvmf-connect@<options>.service"
 * (signals unblocked for the child, reaped on @event). A failure is a warning.
 */
void nvmecli_foreign_dc(sd_event *event, const StasUevent *ev);
