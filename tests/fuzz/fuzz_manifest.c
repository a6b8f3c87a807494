// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: manifest text (JSON or YAML) through decoding,
 * validation, the cluster, the compiler and explain. Built with
 * -fsanitize=fuzzer,address,undefined; any crash, leak or sanitizer report
 * is a failure.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "compile.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u8 a[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};
	static const __u8 b[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
	struct pw_objects objs = {};
	struct pw_cluster *c = NULL;
	struct pw_compiled out;
	struct pw_explain ex;
	char err[PW_ERR_LEN];

	if (pw_manifest_load_buf((const char *)data, size, "fuzz", &objs, err,
				 sizeof(err)))
		return 0;
	if (pw_cluster_new(&c) || pw_cluster_apply(c, &objs))
		goto out;
	if (!pw_compile(c, &out, err, sizeof(err)))
		pw_compiled_free(&out);
	pw_explain(c, a, b, 6, 80, &ex);
	pw_explain(c, b, a, 17, 53, &ex);
out:
	pw_objects_free(&objs);
	pw_cluster_free(c);
	return 0;
}
