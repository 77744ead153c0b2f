/* cmd_import2015: `ghit import-2015`, a 2015 ghit.me Redis merged into a store (issue 8). */
#ifndef GHIT_CMD_IMPORT2015_H
#define GHIT_CMD_IMPORT2015_H

/* ghit import-2015 --from URL --db STORE ...; argv[0] is "import-2015". Returns the exit status. */
int cmd_import2015(int argc, char **argv);

#endif
