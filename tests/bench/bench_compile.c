// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Compiler benchmark: a generated cluster of PODS pods in NS namespaces with
 * POLICIES NetworkPolicies. Pods come as deployments of 5 replicas that
 * share labels and container ports, as in a real cluster; each namespace
 * runs 4 apps. Measures the full compile, then the cost of one
 * policy change, one pod arrival and one label change (each followed by the
 * compile that brings the maps' desired state up to date), and memory per
 * endpoint. Prints a Markdown table. Medians of REPEAT runs.
 *
 * usage: bench_compile [pods] [namespaces] [policies] [repeat]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "compile.h"
#include "manifest.h"

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

static double compile_ms(struct pw_cluster *c, int *npol, int *nipc)
{
	struct pw_compiled out;
	double t0 = now_ms(), t;

	if (pw_compile(c, &out, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "bench: %s\n", errbuf);
		exit(1);
	}
	t = now_ms() - t0;
	if (npol)
		*npol = out.npol;
	if (nipc)
		*nipc = out.nipc;
	pw_compiled_free(&out);
	return t;
}

int main(int argc, char **argv)
{
	int pods = argc > 1 ? atoi(argv[1]) : 1000;
	int nns = argc > 2 ? atoi(argv[2]) : 50;
	int npols = argc > 3 ? atoi(argv[3]) : 1000;
	int repeat = argc > 4 ? atoi(argv[4]) : 5;
	double full[64], polchg[64], podnew[64], relabel[64], load_ms;
	int i, r, npol = 0, nipc = 0;
	struct pw_cluster *c;
	long rss0, rss1;

	if (repeat < 1 || repeat > 64 || pods < 1 || nns < 1 || npols < 0) {
		fprintf(stderr, "usage: bench_compile [pods] [namespaces] "
				"[policies] [repeat<=64]\n");
		return 2;
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

	for (r = 0; r < repeat; r++)
		full[r] = compile_ms(c, &npol, &nipc);
	rss1 = rss_kib();
	for (r = 0; r < repeat; r++) {
		double t0 = now_ms();

		policy(c, r % (npols ?: 1), nns, 81 + r);
		compile_ms(c, NULL, NULL);
		polchg[r] = now_ms() - t0;

		t0 = now_ms();
		pod(c, pods + r, nns, "a1");
		compile_ms(c, NULL, NULL);
		podnew[r] = now_ms() - t0;

		t0 = now_ms();
		pod(c, r, nns, "a7");
		compile_ms(c, NULL, NULL);
		relabel[r] = now_ms() - t0;
	}
	printf("| cluster | %d pods, %d namespaces, %d policies |\n", pods, nns,
	       npols);
	printf("|---|---|\n");
	printf("| policy entries / ipcache entries | %d / %d |\n", npol, nipc);
	printf("| load and validate the manifests | %.1f ms |\n", load_ms);
	printf("| full compile (median of %d) | %.1f ms |\n", repeat,
	       median(full, repeat));
	printf("| one policy changed, then compile | %.1f ms |\n",
	       median(polchg, repeat));
	printf("| one pod added, then compile | %.1f ms |\n",
	       median(podnew, repeat));
	printf("| one pod relabelled, then compile | %.1f ms |\n",
	       median(relabel, repeat));
	printf("| compiler memory per endpoint | %.1f KiB |\n",
	       (double)(rss1 - rss0) / pods);
	pw_cluster_free(c);
	return 0;
}
