/*
 * serve: the `ghit serve` command: wires store, counter table, flusher and
 * HTTP together, and takes them down in order on SIGTERM or SIGINT.
 */
#ifndef GHIT_SERVE_H
#define GHIT_SERVE_H

/* Runs `ghit serve` (argv[0] is "serve"); returns the process exit status. */
int serve_main(int argc, char **argv);

#endif
