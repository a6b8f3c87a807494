// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's flow log on real datapath events: records name the pods and
 * the policy, repeated denies fold into one record with a count, and when
 * the ring buffer overflows, records plus "lost" records account for every
 * event exactly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf_fixture.h"
#include "compile.h"
#include "flowlog.h"

struct lines {
	cJSON *v[4096];
	int n;
};

static void keep(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;

	if (l->n < 4096)
		l->v[l->n++] = cJSON_ParseWithLength(line, len);
}

static void lines_free(struct lines *l)
{
	while (l->n)
		cJSON_Delete(l->v[--l->n]);
}

static struct pw_flowlog *feed_fl;

static int feed(const struct pw_flow_event *ev, void *arg)
{
	(void)arg;
	pw_flowlog_event(feed_fl, ev);
	return 0;
}

/* Events from the ring buffer into @fl, as the agent does. */
static int pump(struct pw_flowlog *fl)
{
	struct pw_events *evs;
	int n, total = 0;

	feed_fl = fl;
	if (pw_events_open(fx.dp, feed, NULL, &evs))
		return -1;
	while ((n = pw_events_poll(evs, 10)) > 0)
		total += n;
	pw_events_close(evs);
	return total;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);

	return cJSON_GetStringValue(b ? cJSON_GetObjectItem(x, b) : x) ?: "";
}

/* A's address (10.0.0.1) is pod shop/web with app=web; a policy on it
 * allows egress to TCP 80 only. */
static struct pw_flowmeta *shop_meta(void)
{
	static const char text[] =
		"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		"\"namespace\":\"shop\",\"name\":\"web\",\"labels\":{\"app\":"
		"\"web\"}},\"status\":{\"podIP\":\"10.0.0.1\"}},"
		"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		"\"NetworkPolicy\",\"metadata\":{\"namespace\":\"shop\","
		"\"name\":\"out\"},\"spec\":{\"podSelector\":{},\"egress\":[{"
		"\"ports\":[{\"port\":80}]}]}}]}";
	struct pw_objects objs = {};
	struct pw_flowmeta *m = NULL;
	struct pw_cluster *c;
	struct pw_compiled co;
	char err[PW_ERR_LEN];

	if (pw_cluster_new(&c))
		return NULL;
	if (!pw_manifest_load_buf(text, strlen(text), "t", &objs, err,
				  sizeof(err)) &&
	    !pw_cluster_apply(c, &objs) &&
	    !pw_compile(c, &co, err, sizeof(err))) {
		pw_flowmeta_build(c, &co, &m);
		pw_compiled_free(&co);
	}
	pw_cluster_free(c);
	return m;
}

PW_TEST(flowlog_records_name_pods_and_policies)
{
	struct pw_flowlog_opts o = {.ring = 16};
	struct fx_flow ok = FX_FLOW(A, "10.9.0.9", 40000, 80);
	struct fx_flow no = FX_FLOW(A, "10.9.0.9", 40001, 81);
	struct pw_flowmeta *m = shop_meta();
	struct lines l = {};
	struct pw_flowlog *fl;
	const cJSON *r;

	ASSERT_TRUE(m != NULL, "names from a compiled cluster");
	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	/* rule id of slot 1, egress, rule 0: what the compiler gives */
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80,
			   1U << 12 | 1U << 11),
		  "rule");
	ASSERT_OK(pw_flowlog_new(&o, keep, &l, &fl), "flow log");
	pw_flowlog_set_meta(fl, m);
	fx_events_drain();
	ASSERT_EQ(fx_tcp(&ok, EG, PG_SYN), FX_PASS, "allowed");
	ASSERT_EQ(fx_tcp(&no, EG, PG_SYN), PW_DROP_POLICY_DENIED, "denied");
	/* the fixture consumed them; format its copies */
	pw_flowlog_event(fl, fx_ev_nth(PW_EV_NEW, 0));
	pw_flowlog_event(fl, fx_ev_nth(PW_EV_DROP, 0));
	pw_flowlog_free(fl);
	ASSERT_EQ(l.n, 2, "two records");
	r = l.v[0];
	ASSERT_STREQ(str_at(r, "type", NULL), "new", "type");
	ASSERT_STREQ(str_at(r, "verdict", NULL), "allowed", "verdict");
	ASSERT_STREQ(str_at(r, "src", "pod"), "web", "source pod");
	ASSERT_STREQ(str_at(r, "src", "namespace"), "shop", "its namespace");
	ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(
			     cJSON_GetObjectItem(cJSON_GetObjectItem(r, "src"),
						 "labels"),
			     "app"))
			     ?: "",
		     "web", "its labels");
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(r, "dst"), "world")),
		    "the peer is the world");
	ASSERT_STREQ(str_at(r, "policy", NULL), "shop/out", "policy");
	ASSERT_STREQ(str_at(r, "rule", NULL), "egress[0]", "rule");
	/* A is endpoint 1, and so is shop/web, the only pod */
	ASSERT_STREQ(str_at(r, "observed_at", NULL), "shop/web", "seen at");
	r = l.v[1];
	ASSERT_STREQ(str_at(r, "verdict", NULL), "denied", "denied");
	ASSERT_STREQ(str_at(r, "reason", NULL), "policy-denied", "reason");
	ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "dst"), "port")
			  ->valueint,
		  81, "port");
	ASSERT_TRUE(cJSON_GetObjectItem(r, "policy") == NULL,
		    "no policy allowed it");
	ASSERT_TRUE(strncmp(str_at(r, "time", NULL), "20", 2) == 0,
		    "wall-clock time");
	lines_free(&l);
	return true;
}

/* The same denied packet again and again: one record at once, then one
 * with the count of the rest when the interval ends. */
PW_TEST(flowlog_repeated_denies_fold)
{
	struct pw_flowlog_opts o = {.aggregate_ms = 100000, .ring = 16};
	struct fx_flow no = FX_FLOW(A, "10.9.0.9", 40001, 81);
	struct fx_flow other = FX_FLOW(A, "10.9.0.9", 40001, 82);
	struct lines l = {};
	struct pw_flowlog *fl;
	struct pg p;
	__u32 retval;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(pw_flowlog_new(&o, keep, &l, &fl), "flow log");
	fx_events_drain();
	fx_tcp_frame(&p, &no, EG, PG_SYN);
	ASSERT_OK(fx_run_raw(&p, EG, A->ifindex, 50, &retval), "50 denies");
	fx_tcp_frame(&p, &other, EG, PG_SYN);
	ASSERT_OK(fx_run_raw(&p, EG, A->ifindex, 1, &retval), "another port");
	ASSERT_EQ(pump(fl), 51, "51 events");
	ASSERT_EQ(l.n, 2, "the first of 81, and 82, right away");
	pw_flowlog_tick(fl); /* the interval has not ended */
	ASSERT_EQ(l.n, 2, "the rest wait");
	pw_flowlog_free(fl); /* an agent that stops writes what it owes */
	ASSERT_EQ(l.n, 3, "one folded record");
	ASSERT_EQ(cJSON_GetObjectItem(l.v[2], "count")->valueint, 49,
		  "with the count of the rest");
	ASSERT_EQ(
		cJSON_GetObjectItem(cJSON_GetObjectItem(l.v[2], "dst"), "port")
			->valueint,
		81, "for port 81");
	lines_free(&l);
	return true;
}

/* A ring too small for a burst: what the file holds plus what the lost
 * records count is exactly what was sent. */
PW_TEST(flowlog_ring_overflow_accounted_exactly)
{
	struct pw_dp_opts dpo = {.events_bytes = 4096};
	struct fx_flow no = FX_FLOW(A, "10.9.0.9", 40001, 81);
	char dir[] = "/tmp/pwt-flowlog-XXXXXX", path[64], line[PW_FLOWREC_MAX];
	struct pw_flowlog_opts o = {.max_bytes = 1 << 20, .keep = 2};
	struct pw_flowlog *fl;
	__u64 lost = 0, recs = 0, counted = 0;
	const __u32 n = 1000;
	struct pg p;
	__u32 retval;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir) != NULL, "temp folder");
	o.dir = dir;
	ASSERT_OK(fx_init_opts(&dpo), "one-page ring");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(pw_flowlog_new(&o, NULL, NULL, &fl), "flow log");
	fx_tcp_frame(&p, &no, EG, PG_SYN);
	ASSERT_OK(fx_run_raw(&p, EG, A->ifindex, n, &retval), "burst");
	ASSERT_TRUE(pump(fl) > 0, "some delivered");
	ASSERT_OK(pw_dp_events_lost(fx.dp, &lost), "lost counter");
	ASSERT_TRUE(lost > 0, "some lost");
	pw_flowlog_lost(fl, lost, "ring-buffer");
	pw_flowlog_free(fl);
	snprintf(path, sizeof(path), "%s/" PW_FLOW_LOG_FILE, dir);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL, "log file");
	while (fgets(line, sizeof(line), f)) {
		cJSON *r = cJSON_Parse(line);
		const char *t = str_at(r, "type", NULL);

		if (!strcmp(t, "drop"))
			recs += cJSON_GetObjectItem(r, "count")->valueint;
		else if (!strcmp(t, "lost"))
			counted += cJSON_GetObjectItem(r, "count")->valuedouble;
		cJSON_Delete(r);
	}
	fclose(f);
	unlink(path);
	rmdir(dir);
	ASSERT_EQ(counted, lost, "the lost record says how many");
	ASSERT_EQ(recs + counted, n, "every event written or counted lost");
	return true;
}
