/* cmd_set: `ghit set` and `ghit delete`, a repo's counts from the command line (issue 10). */
#ifndef GHIT_CMD_SET_H
#define GHIT_CMD_SET_H

int cmd_set(int argc, char **argv);
int cmd_delete(int argc, char **argv);

#endif
