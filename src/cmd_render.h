/*
 * cmd_render: `ghit render --db PATH --out DIR`, the 2015 cron job done right.
 */
#ifndef GHIT_CMD_RENDER_H
#define GHIT_CMD_RENDER_H

/* Runs `ghit render` (argv[0] is "render"); returns the process exit status. */
int cmd_render(int argc, char **argv);

#endif
