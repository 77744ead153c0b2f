/* cmd_export: `ghit export`, every repo of a store as JSON Lines or CSV (issue 10). */
#ifndef GHIT_CMD_EXPORT_H
#define GHIT_CMD_EXPORT_H

int cmd_export(int argc, char **argv);

#endif
