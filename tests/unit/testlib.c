// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include "testlib.h"

#define PW_TESTS_MAX 512

static struct pw_test tests[PW_TESTS_MAX];
static int ntests;

void pw_test_register(const char *name, bool (*fn)(void))
{
	if (ntests == PW_TESTS_MAX) {
		fprintf(stderr, "testlib: more than %d tests\n", PW_TESTS_MAX);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

bool (*pw_test_find(const char *name))(void)
{
	int i;

	for (i = 0; i < ntests; i++)
		if (!strcmp(tests[i].name, name))
			return tests[i].fn;
	return NULL;
}

int pw_test_run_all(const char *suite, const char *filter)
{
	int i, failed = 0, ran = 0;

	for (i = 0; i < ntests; i++) {
		bool ok;

		if (filter && !strstr(tests[i].name, filter))
			continue;
		ran++;
		ok = tests[i].fn();
		printf("%s - %s/%s\n", ok ? "ok" : "not ok", suite,
		       tests[i].name);
		fflush(stdout);
		failed += !ok;
	}
	if (!ran) {
		printf("not ok - %s: no test matched\n", suite);
		return 1;
	}
	return failed;
}
