/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small test harness in the manner of the kernel's BPF selftests:
 * PW_TEST(name) defines and registers a test, ASSERT_* macros name the
 * check that failed and return false from the test. Each test prints
 * "ok - <suite>/<name>" or "not ok - <suite>/<name>"; tests/run.sh counts
 * those lines.
 */
#ifndef PW_TESTLIB_H
#define PW_TESTLIB_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct pw_test {
	const char *name;
	bool (*fn)(void);
};

void pw_test_register(const char *name, bool (*fn)(void));
/* The test registered as @name, or NULL. */
bool (*pw_test_find(const char *name))(void);
/* Runs the tests whose names contain @filter (all if NULL); returns the
 * number that failed. */
int pw_test_run_all(const char *suite, const char *filter);

#define PW_TEST(name)                                                  \
	static bool test_##name(void);                                 \
	__attribute__((constructor)) static void register_##name(void) \
	{                                                              \
		pw_test_register(#name, test_##name);                  \
	}                                                              \
	static bool test_##name(void)

#define PW_FAIL(fmt, ...) \
	fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__)

#define ASSERT_TRUE(cond, what)                                        \
	({                                                             \
		bool ___ok = (cond);                                   \
		if (!___ok)                                            \
			PW_FAIL("%s: expected true: %s", what, #cond); \
		if (!___ok)                                            \
			return false;                                  \
		___ok;                                                 \
	})

#define ASSERT_EQ(actual, expected, what)                                   \
	({                                                                  \
		long long ___a = (long long)(actual);                       \
		long long ___e = (long long)(expected);                     \
		if (___a != ___e) {                                         \
			PW_FAIL("%s: got %lld, want %lld (%s)", what, ___a, \
				___e, #actual);                             \
			return false;                                       \
		}                                                           \
		true;                                                       \
	})

#define ASSERT_NEQ(actual, unexpected, what)                               \
	({                                                                 \
		long long ___a = (long long)(actual);                      \
		long long ___u = (long long)(unexpected);                  \
		if (___a == ___u) {                                        \
			PW_FAIL("%s: got %lld, which it must not be (%s)", \
				what, ___a, #actual);                      \
			return false;                                      \
		}                                                          \
		true;                                                      \
	})

#define ASSERT_OK(err, what) ASSERT_EQ(err, 0, what)

#define ASSERT_STREQ(actual, expected, what)                         \
	({                                                           \
		const char *___a = (actual), *___e = (expected);     \
		if (!___a || strcmp(___a, ___e)) {                   \
			PW_FAIL("%s: got \"%s\", want \"%s\"", what, \
				___a ? ___a : "(null)", ___e);       \
			return false;                                \
		}                                                    \
		true;                                                \
	})

#endif /* PW_TESTLIB_H */
