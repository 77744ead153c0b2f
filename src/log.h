/*
 * log: one line per event on stderr, "2026-11-28T05:40:08Z ghit[pid] level: message".
 *
 * stderr is what systemd's journal and a terminal both capture; ghit never
 * writes log files of its own. log_set_level() filters; the default is info.
 */
#ifndef GHIT_LOG_H
#define GHIT_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 if s is none of them. */
int log_parse_level(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
