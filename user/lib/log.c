// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum pw_log_level log_level = PW_LOG_INFO;

void pw_log_set_level(enum pw_log_level level)
{
	log_level = level;
}

static void pw_vlog(enum pw_log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	vfprintf(stderr, fmt, ap);
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pw_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings become our info, its info our debug: its messages are
 * detail under the one line we log with context. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum pw_log_level l = level == LIBBPF_WARN ? PW_LOG_INFO : PW_LOG_DEBUG;

	pw_vlog(l, fmt, ap);
	return 0;
}

void pw_log_init_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
