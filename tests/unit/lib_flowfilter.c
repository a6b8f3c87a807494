// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* podwall flows' filters on flow records, and its time arguments. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flowfilter.h"
#include "testlib.h"

/* web -> db:5432, denied at db's ingress; and a flow to the world. */
static const char *const recs[] = {
	"{\"time\":\"2026-11-29T05:00:00.5Z\",\"type\":\"drop\",\"verdict\":"
	"\"denied\",\"direction\":\"ingress\",\"protocol\":\"tcp\",\"src\":{"
	"\"ip\":\"10.1.0.2\",\"port\":40000,\"namespace\":\"shop\",\"pod\":"
	"\"web-1\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},\"dst\":{"
	"\"ip\":\"10.1.0.3\",\"port\":5432,\"namespace\":\"shop\",\"pod\":"
	"\"db-1\",\"labels\":{\"app\":\"db\"}},\"observed_at\":\"shop/db-1\","
	"\"reason\":\"policy-denied\",\"count\":1}",
	"{\"time\":\"2026-11-29T06:00:00Z\",\"type\":\"new\",\"verdict\":"
	"\"allowed\",\"direction\":\"egress\",\"protocol\":\"udp\",\"src\":{"
	"\"ip\":\"10.1.0.3\",\"port\":5353,\"namespace\":\"shop\",\"pod\":"
	"\"db-1\",\"labels\":{\"app\":\"db\"}},\"dst\":{\"ip\":\"8.8.8.8\","
	"\"port\":53,\"cidr\":\"8.0.0.0/8\"},\"observed_at\":\"shop/db-1\","
	"\"policy\":\"shop/dns\",\"rule\":\"egress[0]\",\"count\":1}",
};

/* Which of recs[] match, as a bit mask, for one filter. */
static int matches(struct pw_flowfilter *f)
{
	int i, m = 0;

	for (i = 0; i < 2; i++) {
		cJSON *r = cJSON_Parse(recs[i]);

		if (r && pw_ff_match(f, r))
			m |= 1 << i;
		cJSON_Delete(r);
	}
	return m;
}

struct fcase {
	enum pw_ff_what what;
	enum pw_ff_end end;
	const char *v1, *v2; /* v2: the same condition again (OR), or NULL */
	int want;
};

PW_TEST(flowfilter_conditions)
{
	static const struct fcase cases[] = {
		{PW_FF_NAMESPACE, PW_FF_EITHER, "shop", NULL, 3},
		{PW_FF_NAMESPACE, PW_FF_EITHER, "sho", NULL, 0},
		{PW_FF_POD, PW_FF_EITHER, "shop/web", NULL, 1},
		{PW_FF_POD, PW_FF_EITHER, "db", NULL, 3},
		{PW_FF_POD, PW_FF_SRC, "db", NULL, 2},
		{PW_FF_POD, PW_FF_DST, "shop/db-1", NULL, 1},
		{PW_FF_POD, PW_FF_DST, "other/db", NULL, 0},
		{PW_FF_LABEL, PW_FF_SRC, "app=web", NULL, 1},
		{PW_FF_LABEL, PW_FF_SRC, "app=web,tier=front", NULL, 1},
		{PW_FF_LABEL, PW_FF_SRC, "app=web,tier!=front", NULL, 0},
		{PW_FF_LABEL, PW_FF_EITHER, "!tier", NULL, 3},
		{PW_FF_LABEL, PW_FF_DST, "tier", NULL, 0},
		/* the world has no labels: not even !k selects it */
		{PW_FF_LABEL, PW_FF_DST, "!app", NULL, 0},
		{PW_FF_LABEL, PW_FF_SRC, "app=web", "app=db", 3},
		{PW_FF_IP, PW_FF_EITHER, "8.8.0.0/16", NULL, 2},
		{PW_FF_IP, PW_FF_DST, "10.1.0.3", NULL, 1},
		{PW_FF_IP, PW_FF_EITHER, "10.1.0.0/24", NULL, 3},
		{PW_FF_IP, PW_FF_EITHER, "fd00::/8", NULL, 0},
		{PW_FF_PORT, PW_FF_EITHER, "53", NULL, 2},
		{PW_FF_PORT, PW_FF_SRC, "53", NULL, 0},
		{PW_FF_PORT, PW_FF_DST, "5432", "53", 3},
		{PW_FF_PROTOCOL, PW_FF_EITHER, "TCP", NULL, 1},
		{PW_FF_VERDICT, PW_FF_EITHER, "denied", NULL, 1},
		{PW_FF_VERDICT, PW_FF_EITHER, "allowed", "denied", 3},
		{PW_FF_REASON, PW_FF_EITHER, "policy-denied", NULL, 1},
		{PW_FF_POLICY, PW_FF_EITHER, "shop/", NULL, 2},
		{PW_FF_TYPE, PW_FF_EITHER, "new", NULL, 2},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_flowfilter *f;
		int got;

		ASSERT_OK(pw_ff_new(&f), "filter");
		ASSERT_OK(pw_ff_add(f, cases[i].what, cases[i].end, cases[i].v1,
				    err, sizeof(err)),
			  "condition");
		if (cases[i].v2)
			ASSERT_OK(pw_ff_add(f, cases[i].what, cases[i].end,
					    cases[i].v2, err, sizeof(err)),
				  "second value");
		got = matches(f);
		pw_ff_free(f);
		if (got != cases[i].want)
			PW_FAIL("case %zu (%s%s%s): matched %d, want %d", i,
				cases[i].v1, cases[i].v2 ? " or " : "",
				cases[i].v2 ?: "", got, cases[i].want);
		ASSERT_EQ(got, cases[i].want, "matches");
	}
	return true;
}

/* Different conditions must all hold. */
PW_TEST(flowfilter_conditions_combine_with_and)
{
	struct pw_flowfilter *f;
	char err[256];

	ASSERT_OK(pw_ff_new(&f), "filter");
	ASSERT_OK(pw_ff_add(f, PW_FF_NAMESPACE, PW_FF_EITHER, "shop", err,
			    sizeof(err)),
		  "ns");
	ASSERT_EQ(matches(f), 3, "namespace alone");
	ASSERT_OK(pw_ff_add(f, PW_FF_PROTOCOL, PW_FF_EITHER, "udp", err,
			    sizeof(err)),
		  "udp");
	ASSERT_EQ(matches(f), 2, "and udp");
	ASSERT_OK(pw_ff_add(f, PW_FF_VERDICT, PW_FF_EITHER, "denied", err,
			    sizeof(err)),
		  "denied");
	ASSERT_EQ(matches(f), 0, "and denied: none");
	pw_ff_free(f);
	return true;
}

PW_TEST(flowfilter_bad_values_refused)
{
	struct pw_flowfilter *f;
	char err[256];

	ASSERT_OK(pw_ff_new(&f), "filter");
	ASSERT_EQ(pw_ff_add(f, PW_FF_IP, PW_FF_EITHER, "10.0.0.1/8", err,
			    sizeof(err)),
		  -EINVAL, "host bits in a CIDR");
	ASSERT_TRUE(strstr(err, "--ip") != NULL, "error names --ip");
	ASSERT_EQ(pw_ff_add(f, PW_FF_PORT, PW_FF_EITHER, "70000", err,
			    sizeof(err)),
		  -EINVAL, "port");
	ASSERT_EQ(pw_ff_add(f, PW_FF_VERDICT, PW_FF_EITHER, "dropped", err,
			    sizeof(err)),
		  -EINVAL, "verdict");
	ASSERT_EQ(
		pw_ff_add(f, PW_FF_LABEL, PW_FF_EITHER, "=x", err, sizeof(err)),
		-EINVAL, "selector");
	ASSERT_EQ(matches(f), 3, "refused conditions were not added");
	pw_ff_free(f);
	return true;
}

PW_TEST(flowfilter_time_window)
{
	const __u64 s = 1000000000ULL;
	struct pw_flowfilter *f;
	__u64 t, now = 1795928400ULL * s; /* 2026-11-29T05:00:00Z */

	ASSERT_OK(pw_ff_parse_time("2026-11-29T05:00:00Z", 0, &t), "abs");
	ASSERT_EQ(t, now, "RFC 3339");
	ASSERT_OK(pw_ff_parse_time("2026-11-29 05:00:00.25", 0, &t), "space");
	ASSERT_EQ(t, now + s / 4, "fraction");
	ASSERT_OK(pw_ff_parse_time("1h30m", now, &t), "relative");
	ASSERT_EQ(t, now - 5400 * s, "an hour and a half ago");
	ASSERT_OK(pw_ff_parse_time("2d", now, &t), "days");
	ASSERT_EQ(t, now - 2 * 86400 * s, "two days ago");
	ASSERT_EQ(pw_ff_parse_time("5x", now, &t), -EINVAL, "bad unit");
	ASSERT_EQ(pw_ff_parse_time("yesterday", now, &t), -EINVAL, "words");
	ASSERT_EQ(pw_ff_parse_time("2026-11-29T05:00:00+02", 0, &t), -EINVAL,
		  "offsets other than Z are refused, not misread");

	ASSERT_OK(pw_ff_new(&f), "filter");
	pw_ff_window(f, now + s, 0);
	ASSERT_EQ(matches(f), 2, "since 05:00:01: the 06:00 one");
	pw_ff_window(f, 0, now + s);
	ASSERT_EQ(matches(f), 1, "until 05:00:01: the 05:00:00.5 one");
	pw_ff_window(f, now, now + s / 2);
	ASSERT_EQ(matches(f), 1, "both ends inclusive");
	pw_ff_free(f);
	return true;
}
