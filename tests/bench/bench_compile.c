// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Compiler benchmark: a generated cluster of PODS pods in NS namespaces with
 * POLICIES NetworkPolicies. Pods come as deployments of 5 replicas that
 * share labels and container ports, as in a real cluster; each namespace
 * runs 4 apps. Measures the full compile, then the cost of one
 * policy change, one pod arrival and one label change (each followed by the
 * compile that brings the maps' desired state up to date), and memory per
 * endpoint. Run as root, it also loads the datapath (maps only, nothing
 * attached) and times each change's sync into the maps, every pod bound to
 * a made-up ifindex. Prints a Markdown table; changes are medians of
 * REPEAT runs.
 *
 * usage: bench_compile [pods] [namespaces] [policies] [repeat]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "compile.h"
#include "datapath.h"
#include "log.h"
#include "manifest.h"
#include "sync.h"

static char errbuf[PW_ERR_LEN];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void load(struct pw_cluster *c, const char *text)
{
	struct pw_objects objs = {};

	if (pw_manifest_load_buf(text, strlen(text), "bench", &objs, errbuf,
				 sizeof(errbuf)) ||
	    pw_cluster_apply(c, &objs)) {
		fprintf(stderr, "bench: %s\n", errbuf);
		exit(1);
	}
}

/* Pod i: replica i % 5 of deployment i / 5, in namespace (i / 5) % nns. */
static void pod(struct pw_cluster *c, int i, int nns, const char *app)
{
	int dep = i / 5;
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		 "\"namespace\":\"ns%d\",\"name\":\"pod%d\",\"labels\":{"
		 "\"app\":\"%s\",\"tier\":\"t%d\"}},\"spec\":{\"containers\":"
		 "[{\"name\":\"c\",\"ports\":[{\"name\":\"http\","
		 "\"containerPort\":%d}]}]},\"status\":{\"podIP\":"
		 "\"10.%d.%d.%d\"}}",
		 dep % nns, i, app, dep % 3, 8080 + dep % 5, 64 + i / 65536,
		 (i / 256) % 256, i % 256);
	load(c, buf);
}

static void policy(struct pw_cluster *c, int j, int nns, int port)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		 "\"NetworkPolicy\",\"metadata\":{\"namespace\":\"ns%d\","
		 "\"name\":\"np%d\"},\"spec\":{\"podSelector\":{"
		 "\"matchLabels\":{\"app\":\"a%d\"}},\"policyTypes\":["
		 "\"Ingress\",\"Egress\"],\"ingress\":[{\"from\":[{"
		 "\"podSelector\":{\"matchLabels\":{\"app\":\"a%d\"}}},{"
		 "\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t%d\"}},"
		 "\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\","
		 "\"operator\":\"In\",\"values\":[\"t0\",\"t1\"]}]}}],"
		 "\"ports\":[{\"port\":%d},{\"port\":\"http\"},{\"port\":"
		 "9000,\"endPort\":9099}]},{\"from\":[{\"ipBlock\":{\"cidr\":"
		 "\"172.%d.0.0/16\",\"except\":[\"172.%d.%d.0/24\"]}}]}],"
		 "\"egress\":[{\"to\":[{\"namespaceSelector\":{}}],\"ports\":"
		 "[{\"port\":53,\"protocol\":\"UDP\"}]}]}}",
		 j % nns, j, j % 4, (j + 1) % 4, j % 10, port, 16 + j % 16,
		 16 + j % 16, j % 256);
	load(c, buf);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static struct pw_dp *dp;
static struct pw_sync *syn;
static struct pw_binding *binds;
static int nbinds;

/* Compile, then sync to the maps if they are loaded; returns the total
 * in ms and the sync's share in *sync_ms. */
static double compile_ms(struct pw_cluster *c, int *npol, int *nipc,
			 double *sync_ms, int *writes)
{
	struct pw_sync_stats st;
	struct pw_compiled out;
	double t0 = now_ms(), t1;
	int i;

	if (pw_compile(c, &out, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "bench: %s\n", errbuf);
		exit(1);
	}
	t1 = now_ms();
	if (dp) {
		/* bind every pod, by its place in the compiled output */
		if (nbinds < out.neps) {
			binds = realloc(binds, out.neps * sizeof(*binds));
			if (!binds)
				exit(1);
		}
		for (i = 0; i < out.neps; i++) {
			memset(&binds[i], 0, sizeof(binds[i]));
			binds[i].ns = out.eps[i].ns;
			binds[i].name = out.eps[i].name;
			binds[i].ifindex = 100000 + out.eps[i].ep_id;
		}
		nbinds = out.neps;
		if (pw_sync_apply(syn, dp, &out, binds, nbinds, &st)) {
			fprintf(stderr, "bench: sync failed\n");
			exit(1);
		}
		if (writes)
			*writes = st.policy_writes + st.policy_deletes +
				  st.ipcache_writes + st.ipcache_deletes +
				  st.endpoints_changed;
	}
	if (sync_ms)
		*sync_ms = now_ms() - t1;
	if (npol)
		*npol = out.npol;
	if (nipc)
		*nipc = out.nipc;
	pw_compiled_free(&out);
	return now_ms() - t0;
}

int main(int argc, char **argv)
{
	int pods = argc > 1 ? atoi(argv[1]) : 1000;
	int nns = argc > 2 ? atoi(argv[2]) : 50;
	int npols = argc > 3 ? atoi(argv[3]) : 1000;
	int repeat = argc > 4 ? atoi(argv[4]) : 5;
	double idle[64], polchg[64], podnew[64], relabel[64];
	double s_pol[64], s_pod[64], s_rel[64], load_ms, first_ms;
	double first_sync = 0, sync_ms;
	int i, r, npol = 0, nipc = 0, w_pol[64], w_pod[64], w_rel[64];
	struct pw_cluster *c;
	long rss0, rss1;

	if (repeat < 1 || repeat > 64 || pods < 1 || nns < 1 || npols < 0) {
		fprintf(stderr, "usage: bench_compile [pods] [namespaces] "
				"[policies] [repeat<=64]\n");
		return 2;
	}
	pw_log_init_libbpf();
	if (geteuid() == 0) {
		struct pw_dp_opts opts = {.ep_max = pods + 64 + 1,
					  .ct_max = 1024};

		if (pw_dp_load(&opts, &dp) || pw_sync_new(&syn)) {
			fprintf(stderr, "bench: cannot load the datapath\n");
			return 1;
		}
	}
	rss0 = rss_kib();
	if (pw_cluster_new(&c))
		return 1;
	load_ms = now_ms();
	for (i = 0; i < nns; i++) {
		char buf[256];

		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
			 "\"metadata\":{\"name\":\"ns%d\",\"labels\":{\"team\":"
			 "\"t%d\"}}}",
			 i, i % 10);
		load(c, buf);
	}
	for (i = 0; i < pods; i++) {
		char app[16];

		snprintf(app, sizeof(app), "a%d", (i / 5 / nns) % 4);
		pod(c, i, nns, app);
	}
	for (i = 0; i < npols; i++)
		policy(c, i, nns, 80);
	load_ms = now_ms() - load_ms;
	first_ms = compile_ms(c, &npol, &nipc, &first_sync, NULL);
	rss1 = rss_kib();

	for (r = 0; r < repeat; r++) {
		idle[r] = compile_ms(c, NULL, NULL, NULL, NULL);

		policy(c, r % (npols ?: 1), nns, 81 + r);
		polchg[r] = compile_ms(c, NULL, NULL, &sync_ms, &w_pol[r]);
		s_pol[r] = sync_ms;

		pod(c, pods + r, nns, "a1");
		podnew[r] = compile_ms(c, NULL, NULL, &sync_ms, &w_pod[r]);
		s_pod[r] = sync_ms;

		pod(c, r, nns, "a3");
		relabel[r] = compile_ms(c, NULL, NULL, &sync_ms, &w_rel[r]);
		s_rel[r] = sync_ms;
	}
	printf("| %d pods, %d namespaces, %d policies | |\n", pods, nns, npols);
	printf("|---|---|\n");
	printf("| policy entries / ipcache entries | %d / %d |\n", npol, nipc);
	printf("| full build: decode, validate and apply every object | "
	       "%.0f ms |\n",
	       load_ms);
	printf("| full build: first compile | %.0f ms |\n",
	       first_ms - first_sync);
	if (dp)
		printf("| full build: first sync into the maps | %.0f ms |\n",
		       first_sync);
	printf("| recompile, nothing changed | %.2f ms |\n",
	       median(idle, repeat));
	printf("| one policy changed: compile%s | %.2f ms%s |\n",
	       dp ? " + sync" : "", median(polchg, repeat),
	       dp ? "" : " (no maps: not root)");
	printf("| one pod added: compile%s | %.2f ms |\n", dp ? " + sync" : "",
	       median(podnew, repeat));
	printf("| one pod relabelled: compile%s | %.2f ms |\n",
	       dp ? " + sync" : "", median(relabel, repeat));
	if (dp) {
		printf("| ... of which sync (policy / pod / relabel) | %.2f / "
		       "%.2f / %.2f ms |\n",
		       median(s_pol, repeat), median(s_pod, repeat),
		       median(s_rel, repeat));
		printf("| map writes per change (policy / pod / relabel) | "
		       "%d / %d / %d |\n",
		       w_pol[repeat - 1], w_pod[repeat - 1], w_rel[repeat - 1]);
	}
	printf("| compiler memory per endpoint (RSS) | %.1f KiB |\n",
	       (double)(rss1 - rss0) / pods);
	pw_cluster_free(c);
	pw_sync_free(syn);
	pw_dp_close(dp);
	free(binds);
	return 0;
}
