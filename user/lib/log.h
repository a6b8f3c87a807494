/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One logging path for all of podwall's userspace: pr_warn, pr_info and
 * pr_debug go to stderr through pw_log(); libbpf's own messages are routed
 * through it one level quieter, as xdp-tools does.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

enum pw_log_level {
	PW_LOG_WARN = 0,
	PW_LOG_INFO = 1,
	PW_LOG_DEBUG = 2,
};

void pw_log_set_level(enum pw_log_level level);
void pw_log_init_libbpf(void);
void pw_log(enum pw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(fmt, ...)  pw_log(PW_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  pw_log(PW_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pw_log(PW_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif /* PW_LOG_H */
