/*
 * cmdopt: one option table per command, as tmux does, for the commands
 * that are not serve (badge, render, stats, export, import, set, delete,
 * vacuum, import-2015). Pure but for printing.
 *
 * A command lists its options once (name, argument, help); parsing and
 * --help both come from that table, and the man page is checked against
 * --help. Options are "--name VALUE", "--name=VALUE" or, for a flag,
 * "--name"; every value is kept as text for the command to check. An
 * option in no table is refused as unknown, whatever follows it.
 */
#ifndef GHIT_CMDOPT_H
#define GHIT_CMDOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct badge_look;

struct cmdopt {
    const char *name;    /* without the leading "--" */
    const char *arg;     /* the argument's name in help; NULL for a flag */
    const char *help;    /* what it does, one line */
    const char **value;  /* where the value goes (options with arg) */
    bool *flag;          /* set when given (flags) */
    bool required;       /* parsing fails without it */
    const char *choices; /* NULL, or the values allowed, separated by '|' */
    bool allow_empty;    /* an empty value is taken (a badge's message), not refused */
};

/*
 * Parses argv (argv[0] is the command's name) against the n options of
 * opts, and checks that the required ones are given and choices are
 * respected. Returns 0 when done, 1 when --help was asked (usage printed
 * to stdout), -1 after printing an error to stderr. Values point into argv.
 */
int cmdopt_parse(const char *usage, const struct cmdopt *opts, int n, int argc, char **argv);

/*
 * cmdopt_parse() for a command that draws badges: it takes serve's badge
 * options too (--label, --style, ... from config.c's table), applied to
 * look as they come, and lists them in --help.
 */
int cmdopt_parse_look(const char *usage, const struct cmdopt *opts, int n, struct badge_look *look,
                      int argc, char **argv);

/*
 * Says on err that ghit cmd has no option --NAME (the first len bytes of
 * name, which comes without its "--"), and where the options are listed:
 * every command's words for it, serve's and redis's included.
 */
void cmdopt_unknown(FILE *err, const char *cmd, const char *name, size_t len);

/* Prints usage (its first lines) and the table of options to out. */
void cmdopt_usage(FILE *out, const char *usage, const struct cmdopt *opts, int n);

#endif
