/* cmd_vacuum: `ghit vacuum`, a SQLite store rebuilt in place while no server runs. */
#ifndef GHIT_CMD_VACUUM_H
#define GHIT_CMD_VACUUM_H

int cmd_vacuum(int argc, char **argv);

#endif
