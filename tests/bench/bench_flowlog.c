// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flow log benchmark: events per second from the datapath's ring buffer to
 * JSON Lines on disk, with nothing lost.
 *
 * The events are real: the datapath is loaded (nothing pinned, nothing
 * attached) with one endpoint on a veth of a private network namespace,
 * and a producer thread runs a crafted denied TCP SYN through pw_from_pod
 * with BPF_PROG_TEST_RUN in batches (repeat), paced to a rate or flat
 * out; each run is one drop event in the ring. A consumer thread is the
 * agent's pipeline: pw_events_poll (epoll) -> pw_flowlog_event with
 * aggregation off (every event is a record, with the pod's names and
 * labels), JSON Lines in a file, every 200 ms the ring's losses as a
 * "lost" record and a flush, as podwalld does. Files rotate as podwalld's
 * defaults (100 MiB, gzip by the flow log's own thread), or not at all.
 *
 * Measured, in one run:
 *   - formatting alone (pw_flowrec_format in a loop) and format + write
 *     (pw_flowlog_event in a loop, no ring): the consumer's own cost;
 *   - the producer flat out with a no-op consumer (events drained, not
 *     formatted), woken by epoll as the agent is, and draining every 1 ms
 *     instead: a consumer that keeps up makes the producer wake it for
 *     nearly every event, which bounds the producer, not the ring;
 *   - the producer flat out with the flow log: past saturation, what is
 *     written and what is lost, and that every event is accounted for;
 *   - the highest producer rate with zero loss, with podwalld's rotation
 *     and with one file: a search over paced rates (2 steps long each),
 *     confirmed over a run of 4 steps with every line read back from the
 *     files (.gz too), stepping down 5% (up to 10 times) while anything
 *     is lost.
 * Prints a Markdown table (the runs themselves on stderr). Numbers, never
 * pass/fail: exit 1 only if the setup fails.
 *
 * usage: bench_flowlog [seconds per step (default 1)] [ring bytes
 *        (default 0: the agent's, 4 MiB)] [folder for the log (default
 *        /tmp)]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include "compile.h"
#include "datapath.h"
#include "flowlog.h"
#include "flowrec.h"
#include "log.h"
#include "manifest.h"

#define TICK_S	0.2 /* podwalld's TICK_MS */
#define BATCH	1024
#define POD_IP	"10.0.0.1"
#define PEER_IP "10.9.0.9"
#define VETH	"pwbench0"

static const __u8 pod_mac[6] = {2, 0, 0, 0, 0, 1};
static const __u8 host_mac[6] = {2, 0xee, 0xee, 0xee, 0xee, 1};

static struct pw_dp *dp;
static int ifindex, prog_fd;
static __u8 frame[64];
static size_t frame_len;
static struct pw_flowmeta *meta;
static char log_dir[4096];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void scan_dir(int *plain, int *gz, unsigned long long *lines, bool rm);

/* Whatever way it exits, the log folder goes. */
static void cleanup(void)
{
	int a, b;

	if (!log_dir[0])
		return;
	scan_dir(&a, &b, NULL, true);
	rmdir(log_dir);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_flowlog: %s\n", what);
	exit(1);
}

/* ---------------------------------------------------------------- setup */

static void mapped4(const char *s, __u8 out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	inet_pton(AF_INET, s, out + 12);
}

static __u16 csum16(const void *p, size_t n)
{
	const __u8 *b = p;
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Ethernet + IPv4 + TCP SYN, pod -> PEER_IP:81, as the pod sends it. */
static void build_frame(void)
{
	__u8 *e = frame, *ip = frame + 14, *tcp = ip + 20;

	memset(frame, 0, sizeof(frame));
	memcpy(e, host_mac, 6);
	memcpy(e + 6, pod_mac, 6);
	e[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40; /* total length */
	ip[5] = 1;  /* id */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, POD_IP, ip + 12);
	inet_pton(AF_INET, PEER_IP, ip + 16);
	ip[10] = csum16(ip, 20) >> 8;
	ip[11] = csum16(ip, 20) & 0xff;
	tcp[0] = 40001 >> 8;
	tcp[1] = 40001 & 0xff;
	tcp[3] = 81;
	tcp[7] = 1;	  /* seq */
	tcp[12] = 5 << 4; /* data offset */
	tcp[13] = 0x02;	  /* SYN */
	tcp[14] = 0xff;	  /* window */
	frame_len = 14 + 40;
}

/* Names for the records: the pod at POD_IP, a policy (as in a cluster).
 * A flow log owns its names, so each gets its own. */
static struct pw_flowmeta *new_meta(void)
{
	static const char text[] =
		"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		"\"namespace\":\"shop\",\"name\":\"web-7d4b9c8f6-x2x7k\","
		"\"labels\":{\"app\":\"web\",\"tier\":\"frontend\","
		"\"pod-template-hash\":\"7d4b9c8f6\"}},\"status\":{\"podIP\":"
		"\"" POD_IP "\"}},"
		"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		"\"NetworkPolicy\",\"metadata\":{\"namespace\":\"shop\","
		"\"name\":\"web-out\"},\"spec\":{\"podSelector\":{},"
		"\"policyTypes\":[\"Egress\"],\"egress\":[{\"ports\":[{"
		"\"port\":80}]}]}}]}";
	struct pw_objects objs = {};
	struct pw_flowmeta *m = NULL;
	struct pw_cluster *c;
	struct pw_compiled co;
	char err[PW_ERR_LEN];

	if (pw_cluster_new(&c) ||
	    pw_manifest_load_buf(text, strlen(text), "bench", &objs, err,
				 sizeof(err)) ||
	    pw_cluster_apply(c, &objs) ||
	    pw_compile(c, &co, err, sizeof(err)) ||
	    pw_flowmeta_build(c, &co, &m))
		die("cannot build the names");
	pw_compiled_free(&co);
	pw_cluster_free(c);
	return m;
}

static void setup(__u32 events_bytes)
{
	struct pw_dp_opts o = {.ct_max = 4096,
			       .policy_max = 1024,
			       .ipcache_max = 1024,
			       .ep_max = 64,
			       .frag_max = 1024,
			       .events_bytes = events_bytes};
	struct pw_endpoint ep = {
		.ep_id = 1,
		.pol_id = 1,
		.identity = 1001,
		.rev = 1,
		.flags = PW_EP_F_HAS_IP4 | PW_EP_F_HAS_MAC |
			 PW_EP_F_EGRESS_ENFORCED,
	};

	/* The test run takes a context ifindex only for a device of the
	 * current network namespace: a private one, gone when we exit. */
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET) (run as root)");
	if (system("ip link add " VETH " type veth peer name " VETH "p"))
		die("ip link add veth failed");
	ifindex = if_nametoindex(VETH);
	if (!ifindex)
		die("no veth");
	if (pw_dp_load(&o, &dp))
		die("cannot load the datapath");
	prog_fd = pw_dp_prog_fd(dp, PW_DIR_EGRESS);
	mapped4(POD_IP, ep.ip4);
	memcpy(ep.mac, pod_mac, 6);
	/* egress enforced, no rule: every SYN is a policy-denied drop */
	if (pw_dp_endpoint_set(dp, ifindex, &ep))
		die("cannot set the endpoint");
	build_frame();
	meta = new_meta();
}

/* @repeat runs of the frame; returns the program's verdict. */
static int run_batch(__u32 repeat)
{
	struct __sk_buff ctx = {.ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = frame_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	return opts.retval;
}

static __u64 lost_now(void)
{
	__u64 n = 0;

	pw_dp_events_lost(dp, &n);
	return n;
}

/* ------------------------------------------------------- one measurement */

struct run {
	/* in */
	double rate; /* events/s the producer paces at; 0: flat out */
	double secs;
	bool format;	/* consumer: the flow log (else drain only) */
	int keep;	/* rotated files kept; 0: podwalld's 10 */
	bool batch;	/* no-op consumer: drain every 1 ms, no epoll */
	bool one_file;	/* no rotation (else podwalld's: 100 MiB, gzip) */
	bool read_back; /* count the lines on disk */
	/* out */
	unsigned long long produced, consumed, lost, records, lost_records;
	unsigned long long write_errors, rotations, lines;
	double prod_s;	/* the producer's time */
	double total_s; /* from the first event to the last one consumed */
	double free_s;	/* closing the flow log: the compressor finishing */
	int backlog;	/* rotated files not compressed yet at the end */
	int errors;
};

struct consumer {
	struct run *r;
	struct pw_flowlog *fl;
	volatile int stop;
	double t_end;
	__u64 lost0;
};

static int on_event(const struct pw_flow_event *ev, void *arg)
{
	struct consumer *c = arg;

	c->r->consumed++;
	if (c->fl)
		pw_flowlog_event(c->fl, ev);
	return 0;
}

/* The agent's loop: poll the ring; every 200 ms the losses as a record
 * and a flush (pw_agent_tick). */
static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct pw_events *evs;
	double next = now_s() + TICK_S;
	__u64 seen = c->lost0;

	if (pw_events_open(dp, on_event, c, &evs)) {
		c->r->errors++;
		return NULL;
	}
	for (;;) {
		int stop = c->stop;
		int n;

		if (c->r->batch) {
			/* no epoll: a pass over the ring every 1 ms; the
			 * producer then rarely finds it drained, so rarely
			 * wakes anyone */
			if (!stop)
				sleep_until(now_s() + 0.001);
			n = pw_events_poll(evs, 0);
		} else {
			n = pw_events_poll(evs, stop ? 0 : 50);
		}

		if (n < 0 && n != -EINTR) {
			c->r->errors++;
			break;
		}
		if (now_s() >= next || (stop && n == 0)) {
			__u64 l = lost_now();

			if (c->fl && l > seen)
				pw_flowlog_lost(c->fl, l - seen, "ring-buffer");
			seen = l;
			if (c->fl)
				pw_flowlog_tick(c->fl);
			next = now_s() + TICK_S;
		}
		/* stopped and the ring is empty: done */
		if (stop && n == 0)
			break;
	}
	c->t_end = now_s();
	pw_events_close(evs);
	return NULL;
}

/* Rotated files (plain: not compressed yet), lines in every file, and
 * with @rm, remove them all. */
static void scan_dir(int *plain, int *gz, unsigned long long *lines, bool rm)
{
	DIR *d = opendir(log_dir);
	struct dirent *e;

	*plain = *gz = 0;
	if (lines)
		*lines = 0;
	while (d && (e = readdir(d))) {
		char p[sizeof(log_dir) + 300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%.255s", log_dir, e->d_name);
		if (!strncmp(e->d_name, "flows-", 6)) {
			if (strstr(e->d_name, ".gz"))
				(*gz)++;
			else
				(*plain)++;
		}
		if (lines && !strstr(e->d_name, ".tmp")) {
			gzFile f = gzopen(p, "rb"); /* plain files too */
			static char buf[1 << 16];
			int n, i;

			if (f)
				gzbuffer(f, 1 << 17);
			while (f && (n = gzread(f, buf, sizeof(buf))) > 0)
				for (i = 0; i < n; i++)
					*lines += buf[i] == '\n';
			if (f)
				gzclose(f);
		}
		if (rm)
			unlink(p);
	}
	if (d)
		closedir(d);
}

static void measure(struct run *r)
{
	/* as podwalld's defaults (--flow-log-max-mb 100, --flow-log-keep
	 * 10), aggregation off so that every event is a record */
	struct pw_flowlog_opts o = {
		.dir = log_dir,
		.max_bytes = r->one_file ? (size_t)1 << 40 : (size_t)100 << 20,
		.keep = r->keep ?: 10,
		.aggregate_ms = 0,
		.ring = 0,
	};
	struct consumer c = {.r = r};
	struct pw_flowlog_stats st;
	pthread_t th;
	double t0, t;
	int gz;

	scan_dir(&gz, &gz, NULL, true);
	if (r->format) {
		if (pw_flowlog_new(&o, NULL, NULL, &c.fl))
			die("cannot open the flow log");
		pw_flowlog_set_meta(c.fl, new_meta());
	}
	c.lost0 = lost_now();
	if (pthread_create(&th, NULL, consume, &c))
		die("thread");
	t0 = now_s();
	/* the producer: this thread, batches paced to the rate */
	while ((t = now_s()) - t0 < r->secs) {
		int ret = run_batch(BATCH);

		if (ret != TC_ACT_SHOT) {
			r->errors++;
			break;
		}
		r->produced += BATCH;
		if (r->rate > 0) {
			double due = t0 + r->produced / r->rate;

			sleep_until(due);
		}
	}
	r->prod_s = now_s() - t0;
	c.stop = 1;
	pthread_join(th, NULL);
	r->total_s = c.t_end - t0;
	r->lost = lost_now() - c.lost0;
	if (c.fl) {
		pw_flowlog_stats(c.fl, &st);
		r->records = st.records;
		r->rotations = st.rotations;
		r->write_errors = st.write_errors;
		r->lost_records = st.records - r->consumed;
		/* what the compressor still had to do when the load ended */
		scan_dir(&r->backlog, &gz, NULL, false);
		t = now_s();
		pw_flowlog_free(c.fl); /* waits for the compressor */
		r->free_s = now_s() - t;
		if (r->read_back) {
			int plain;

			/* every record is a line on disk */
			scan_dir(&plain, &gz, &r->lines, false);
			if (r->lines != r->records)
				r->errors++;
		}
	}
	scan_dir(&gz, &gz, NULL, true);
}

/* ------------------------------------------------------------ the bench */

static struct pw_flow_event sample;
static int nsample;

static int keep_one(const struct pw_flow_event *ev, void *arg)
{
	(void)arg;
	if (!nsample++)
		sample = *ev;
	return 0;
}

/* One real event from the datapath, to format in a loop. */
static void take_sample(void)
{
	struct pw_events *evs;

	if (run_batch(1) != TC_ACT_SHOT)
		die("the crafted SYN was not dropped");
	if (pw_events_open(dp, keep_one, NULL, &evs))
		die("cannot open the ring");
	while (pw_events_poll(evs, 100) > 0)
		;
	pw_events_close(evs);
	if (nsample != 1 || sample.type != PW_EV_DROP ||
	    sample.reason != PW_DROP_POLICY_DENIED)
		die("the crafted SYN gave no policy-denied drop event");
}

/* pw_flowrec_format alone: records/s; *len gets a record's length. */
static double bench_format(long n, int *len)
{
	char buf[PW_FLOWREC_MAX];
	struct pw_flow_event ev = sample;
	double t0 = now_s();
	long i;
	__u64 sink = 0;

	for (i = 0; i < n; i++) {
		ev.ts_ns += 1000; /* time changes as it would */
		*len = pw_flowrec_format(meta, &ev,
					 1800000000000000000ULL + ev.ts_ns, 1,
					 buf, sizeof(buf));
		sink += buf[*len - 1];
	}
	if (!sink)
		die("no record");
	return n / (now_s() - t0);
}

/* pw_flowlog_event without the ring: format + write to one file (no
 * rotation), the final flush and close included. */
static double bench_write(long n, unsigned long long *bytes)
{
	struct pw_flowlog_opts o = {
		.dir = log_dir, .max_bytes = (size_t)1 << 40, .keep = 1};
	struct pw_flow_event ev = sample;
	struct pw_flowlog_stats st;
	struct pw_flowlog *fl;
	double t0;
	long i;
	int a, b;

	if (pw_flowlog_new(&o, NULL, NULL, &fl))
		die("cannot open the flow log");
	pw_flowlog_set_meta(fl, new_meta());
	t0 = now_s();
	for (i = 0; i < n; i++) {
		ev.ts_ns += 1000;
		pw_flowlog_event(fl, &ev);
	}
	pw_flowlog_tick(fl);
	pw_flowlog_stats(fl, &st);
	pw_flowlog_free(fl);
	t0 = n / (now_s() - t0);
	*bytes = st.bytes;
	scan_dir(&a, &b, NULL, true);
	return t0;
}

static bool zero_loss(const struct run *r)
{
	return !r->errors && !r->lost && r->consumed == r->produced &&
	       r->records == r->produced && !r->write_errors;
}

static double rate_of(unsigned long long n, double s)
{
	return s > 0 ? n / s : 0;
}

static void show_run(const char *what, const struct run *r)
{
	fprintf(stderr,
		"# %-8s paced at %8.0f/s: produced %9llu (%8.0f/s) consumed "
		"%9llu lost %8llu records %9llu (%llu lost-records) "
		"rotations %llu, %d not compressed at the end, close %.2f "
		"s%s\n",
		what, r->rate, r->produced, rate_of(r->produced, r->prod_s),
		r->consumed, r->lost, r->records, r->lost_records, r->rotations,
		r->backlog, r->free_s, r->errors ? " ERRORS" : "");
}

/* The highest paced rate with zero loss between @lo and @hi: a bisection
 * over runs of 2 * @secs (a rate the producer could not keep is not a
 * pass), then a run of 4 * @secs with nothing deleted and every line read
 * back, stepping down 5% (up to 10 times) while anything is lost. */
static struct run zero_loss_rate(double secs, bool one_file, double lo,
				 double hi)
{
	struct run best = {0}, conf = {0};
	int i;

	for (i = 0; i < 7; i++) {
		struct run r = {.rate = (lo + hi) / 2,
				.secs = 2 * secs,
				.format = true,
				.one_file = one_file};

		measure(&r);
		show_run("search", &r);
		if (zero_loss(&r) &&
		    rate_of(r.produced, r.prod_s) >= 0.97 * r.rate) {
			lo = r.rate;
			best = r;
		} else {
			hi = r.rate;
		}
	}
	for (i = 0; i < 10; i++) {
		conf = (struct run){.rate = (best.rate ?: lo) * (1 - 0.05 * i),
				    .secs = 4 * secs,
				    .format = true,
				    .one_file = one_file,
				    .keep = 100000,
				    .read_back = true};
		measure(&conf);
		show_run("confirm", &conf);
		if (zero_loss(&conf))
			break;
	}
	return conf;
}

static void print_zero_loss(const char *what, const struct run *c)
{
	printf("| highest zero-loss rate, %s (%.0f s, every line read back) "
	       "| %.2f M events/s%s: %llu events, %llu lines on disk, %llu "
	       "lost; %llu rotations, %d left to compress at the end, closed "
	       "in %.1f s |\n",
	       what, c->secs, rate_of(c->produced, c->prod_s) / 1e6,
	       zero_loss(c) ? "" : " (NOT zero-loss: see stderr)", c->produced,
	       c->lines, c->lost, c->rotations, c->backlog, c->free_s);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	__u32 ring = argc > 2 ? (__u32)strtoul(argv[2], NULL, 0) : 0;
	const char *where = argc > 3 ? argv[3] : "/tmp";
	struct run noop = {.secs = secs}, batched = {.secs = secs, .batch = 1};
	struct run sat = {.secs = secs, .format = true}, conf, one;
	double fmt_rate, write_rate, lo, hi, r_ok;
	unsigned long long wbytes;
	int len = 0;

	if (secs <= 0 || secs > 60) {
		fprintf(stderr, "usage: bench_flowlog [seconds per step <= 60] "
				"[ring bytes] [folder]\n");
		return 2;
	}
	if (geteuid() != 0) {
		printf("bench_flowlog: skipped (needs root: BPF, a network "
		       "namespace)\n");
		return 0;
	}
	pw_log_init_libbpf();
	pw_log_set_level(PW_LOG_WARN);
	snprintf(log_dir, sizeof(log_dir), "%s/pw-bench-flowlog-XXXXXX", where);
	if (!mkdtemp(log_dir)) {
		log_dir[0] = '\0';
		die("mkdtemp");
	}
	atexit(cleanup);
	setup(ring);
	take_sample();

	fmt_rate = bench_format(2000000, &len);
	write_rate = bench_write(1000000, &wbytes);

	measure(&noop);
	show_run("no-op", &noop);
	measure(&batched);
	show_run("no-op/1ms", &batched);
	measure(&sat);
	show_run("flat out", &sat);

	/* between a quarter of what the flow log wrote flat out and what
	 * the producer can make at all */
	lo = rate_of(sat.consumed, sat.total_s) * 0.25;
	hi = rate_of(batched.produced, batched.prod_s);
	conf = zero_loss_rate(secs, false, lo, hi > lo ? hi : lo);
	one = zero_loss_rate(secs, true, lo, hi > lo ? hi : lo);
	r_ok = rate_of(conf.produced, conf.prod_s);

	printf("\n| flow log: ring buffer -> JSON Lines (%ld CPUs, ring %u "
	       "KiB, %d-byte records, files in %s) | |\n",
	       sysconf(_SC_NPROCESSORS_ONLN), ring ? ring >> 10 : 4096, len,
	       where);
	printf("|---|---|\n");
	printf("| format only (pw_flowrec_format) | %.2f M records/s (%.0f "
	       "ns each) |\n",
	       fmt_rate / 1e6, 1e9 / fmt_rate);
	printf("| format + write, no ring (pw_flowlog_event, one file) | "
	       "%.2f M records/s, %.0f MB/s |\n",
	       write_rate / 1e6, write_rate * wbytes / 1000000 / 1e6);
	printf("| producer flat out, no-op consumer woken per event (epoll, "
	       "as the agent) | %.2f M/s produced, %.2f M/s drained, %llu "
	       "lost |\n",
	       rate_of(noop.produced, noop.prod_s) / 1e6,
	       rate_of(noop.consumed, noop.total_s) / 1e6, noop.lost);
	printf("| producer flat out, no-op consumer draining every 1 ms (no "
	       "wakeups) | %.2f M/s produced, %.2f M/s drained, %llu lost |\n",
	       rate_of(batched.produced, batched.prod_s) / 1e6,
	       rate_of(batched.consumed, batched.total_s) / 1e6, batched.lost);
	printf("| producer flat out, flow log (100 MiB rotation + gzip, as "
	       "podwalld) | %.2f M/s produced, %.2f M/s written |\n",
	       rate_of(sat.produced, sat.prod_s) / 1e6,
	       rate_of(sat.consumed, sat.total_s) / 1e6);
	printf("| ... past saturation | %.1f%% lost (%llu), all counted: "
	       "written %llu + lost %llu %s produced %llu; %llu \"lost\" "
	       "records; drained %.2f s after %.2f s of load; closed in "
	       "%.2f s%s |\n",
	       100.0 * sat.lost / (sat.produced ?: 1), sat.lost, sat.consumed,
	       sat.lost, sat.consumed + sat.lost == sat.produced ? "=" : "!=",
	       sat.produced, sat.lost_records, sat.total_s - sat.prod_s,
	       sat.prod_s, sat.free_s, sat.errors ? " (ERRORS)" : "");
	print_zero_loss("as podwalld (100 MiB rotation + gzip)", &conf);
	print_zero_loss("one file (no rotation, no gzip)", &one);
	printf("| zero-loss rate / format-only rate | %.2f |\n",
	       r_ok / fmt_rate);
	printf("| zero-loss rate / format + write rate | %.2f |\n",
	       r_ok / write_rate);
	printf("| zero-loss rate / no-op drain rate (no wakeups) | %.2f |\n",
	       r_ok / rate_of(batched.consumed, batched.total_s));
	printf("| target: 1 M events/s with zero loss | %s as podwalld; %s "
	       "with one file |\n",
	       zero_loss(&conf) && r_ok >= 1e6 ? "met" : "not met",
	       zero_loss(&one) && rate_of(one.produced, one.prod_s) >= 1e6
		       ? "met"
		       : "not met");
	pw_flowmeta_free(meta);
	pw_dp_close(dp);
	return 0;
}
