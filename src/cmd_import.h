/* cmd_import: `ghit import`, repos from JSON Lines or CSV into a store (issue 10). */
#ifndef GHIT_CMD_IMPORT_H
#define GHIT_CMD_IMPORT_H

int cmd_import(int argc, char **argv);

#endif
