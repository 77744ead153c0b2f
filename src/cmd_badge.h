/*
 * cmd_badge: `ghit badge`, one badge (or a batch of them) as SVG on stdout.
 */
#ifndef GHIT_CMD_BADGE_H
#define GHIT_CMD_BADGE_H

/* Runs `ghit badge` (argv[0] is "badge"); returns the exit status: 0, or 2 on bad usage. */
int cmd_badge(int argc, char **argv);

#endif
