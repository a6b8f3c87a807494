// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent_priv.h"
#include "metrics.h"
#include "names.h"

static void header(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter_lines(FILE *f, const char *m, const char *ep,
			  const struct pw_counter *c, bool bytes)
{
	char lab[320];
	int s;

	/* node totals carry no endpoint label */
	snprintf(lab, sizeof(lab), "%s%s%s", ep ? "endpoint=\"" : "", ep ?: "",
		 ep ? "\"," : "");
	for (s = 0; s < PW_CNT_SLOTS; s++) {
		unsigned long long v = bytes ? c[s].bytes : c[s].packets;

		if (s == PW_CNT_ALLOWED)
			fprintf(f, "%s{%sverdict=\"allowed\"} %llu\n", m, lab,
				v);
		else if (s == PW_CNT_AUDIT)
			fprintf(f, "%s{%sverdict=\"audit\"} %llu\n", m, lab, v);
		else if (s < PW_DROP__MAX && v)
			fprintf(f,
				"%s{%sverdict=\"denied\",reason=\"%s\"} "
				"%llu\n",
				m, lab, pw_drop_reason_name(s), v);
	}
}

/* Node-wide, then per endpoint of this node, by verdict and reason. */
static void counters(FILE *f, const struct pw_agent *a, bool bytes)
{
	const char *what = bytes ? "Bytes" : "Packets";
	struct pw_counter c[PW_CNT_SLOTS];
	char m[64], help[128];
	int i, k;

	snprintf(m, sizeof(m), "podwall_node_%s_total",
		 bytes ? "bytes" : "packets");
	snprintf(help, sizeof(help),
		 "%s judged on this node, by verdict and drop reason.", what);
	header(f, m, "counter", help);
	if (!pw_dp_counters(a->dp, 0, c))
		counter_lines(f, m, NULL, c, bytes);
	snprintf(m, sizeof(m), "podwall_%s_total", bytes ? "bytes" : "packets");
	snprintf(help, sizeof(help),
		 "%s judged, by endpoint, verdict and drop reason.", what);
	header(f, m, "counter", help);
	for (i = 0; i < a->nbinds; i++) {
		const struct pw_binding *b = &a->binds[i];
		char ep[300];

		for (k = 0; k < a->co.neps; k++) {
			const struct pw_out_ep *e = &a->co.eps[k];

			if (strcmp(e->ns, b->ns) || strcmp(e->name, b->name) ||
			    pw_dp_counters(a->dp, e->ep_id, c))
				continue;
			snprintf(ep, sizeof(ep), "%s/%s", b->ns, b->name);
			counter_lines(f, m, ep, c, bytes);
		}
	}
}

int pw_metrics_write(const struct pw_agent *a, const char *path)
{
	static const struct {
		const char *name;
		enum pw_dp_map map;
	} maps[] = {
		{"endpoints", PW_MAP_ENDPOINTS},
		{"ipcache", PW_MAP_IPCACHE},
		{"policy", PW_MAP_POLICY},
		{"policy_exact", PW_MAP_POLICY_EXACT},
		{"conntrack", PW_MAP_CT},
		{"fragments", PW_MAP_FRAG},
		{"prefilter", PW_MAP_PREFILTER},
	};
	const int nmaps = sizeof(maps) / sizeof(maps[0]);
	struct pw_flowlog_stats fs;
	char tmp[4200];
	__u64 lost = 0, n;
	__u32 max;
	FILE *f;
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	counters(f, a, false);
	counters(f, a, true);
	header(f, "podwall_map_entries", "gauge", "Entries in each map.");
	for (i = 0; i < nmaps; i++)
		if (!pw_dp_map_fill(a->dp, maps[i].map, &n, &max))
			fprintf(f, "podwall_map_entries{map=\"%s\"} %llu\n",
				maps[i].name, (unsigned long long)n);
	header(f, "podwall_map_capacity", "gauge", "Size of each map.");
	for (i = 0; i < nmaps; i++)
		if (!pw_dp_map_fill(a->dp, maps[i].map, &n, &max))
			fprintf(f, "podwall_map_capacity{map=\"%s\"} %u\n",
				maps[i].name, max);
	pw_dp_events_lost(a->dp, &lost);
	header(f, "podwall_events_lost_total", "counter",
	       "Flow events the ring buffer had no room for.");
	fprintf(f, "podwall_events_lost_total %llu\n",
		(unsigned long long)lost);
	pw_flowlog_stats(a->flows, &fs);
	header(f, "podwall_flow_records_total", "counter",
	       "Flow records written.");
	fprintf(f, "podwall_flow_records_total %llu\n", fs.records);
	header(f, "podwall_flow_folded_total", "counter",
	       "Repeated denies folded into another record's count.");
	fprintf(f, "podwall_flow_folded_total %llu\n", fs.folded);
	header(f, "podwall_flow_write_errors_total", "counter",
	       "Flow log writes that failed.");
	fprintf(f, "podwall_flow_write_errors_total %llu\n", fs.write_errors);
	header(f, "podwall_compile_seconds", "gauge",
	       "Time the last reconcile took to compile.");
	fprintf(f, "podwall_compile_seconds %.6f\n", a->last_compile_ms / 1e3);
	header(f, "podwall_reconciles_total", "counter", "Reconciles run.");
	fprintf(f, "podwall_reconciles_total %llu\n", a->reconciles);
	header(f, "podwall_reconcile_errors_total", "counter",
	       "Reconciles that failed (the last good state stayed).");
	fprintf(f, "podwall_reconcile_errors_total %llu\n",
		a->reconcile_errors);
	header(f, "podwall_endpoints", "gauge", "Pods enforced on this node.");
	fprintf(f, "podwall_endpoints %d\n", a->nbinds);
	if (fflush(f) || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	fclose(f);
	return rename(tmp, path) ? -errno : 0;
}
