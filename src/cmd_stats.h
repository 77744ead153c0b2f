/*
 * cmd_stats: `ghit stats --db PATH [--repo OWNER/NAME] [--top K] [--day DAY]`,
 * the dashboard's facts as a terminal table (issue 9).
 */
#ifndef GHIT_CMD_STATS_H
#define GHIT_CMD_STATS_H

/* Runs `ghit stats` (argv[0] is "stats"); returns the process exit status. */
int cmd_stats(int argc, char **argv);

#endif
