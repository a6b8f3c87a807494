// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Runs the registered tests: test_<suite> [name-filter] */
#include <libgen.h>
#include <stdlib.h>
#include "testlib.h"
#include "log.h"

int main(int argc, char **argv)
{
	const char *suite = basename(argv[0]);

	if (getenv("PW_DEBUG"))
		pw_log_set_level(PW_LOG_DEBUG);
	pw_log_init_libbpf();
	return pw_test_run_all(suite, argc > 1 ? argv[1] : NULL) ? 1 : 0;
}
