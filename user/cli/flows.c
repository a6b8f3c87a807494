// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwall flows: flow records from the agent (live, or its recent ones) or
 * from log files (current, rotated and gzip-compressed: the agent need not
 * run), filtered, and shown as a table, one compact line each, or the JSON
 * records themselves; or summed up with --summary.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "cli.h"
#include "ctl_client.h"
#include "flowfilter.h"
#include "flowlog.h"

enum out_fmt { OUT_TABLE, OUT_COMPACT, OUT_JSON };

struct ctx {
	struct pw_flowfilter *ff;
	enum out_fmt fmt;
	bool color;
	bool summary;
	long last;   /* -1: all */
	char **ring; /* --last over files */
	long ring_n, ring_head;
	unsigned long long shown;
	struct summary *sum;
};

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: podwall flows [options]\n"
		"Records come from the agent (live with --follow, its recent "
		"ones with\n"
		"--last), or from log files with --file or --dir (the agent "
		"need not\n"
		"run; .gz files are read too). With neither, the agent is "
		"asked, or\n"
		"else " PW_FLOW_LOG_DIR_DEFAULT " is read.\n"
		"  -f, --follow           keep showing new records\n"
		"  -n, --last N           the last N matching records\n"
		"      --file FILE        read FILE (repeatable)\n"
		"      --dir DIR          read DIR's flow log, oldest first\n"
		"      --since T, --until T  RFC 3339 time, or relative: 30s, "
		"5m, 2h, 1d\n"
		"      --namespace NS     either end in NS (--from-namespace, "
		"--to-namespace)\n"
		"      --pod [NS/]NAME    either end, name prefix (--from-pod, "
		"--to-pod)\n"
		"      --label SEL        k=v,k!=v,k,!k on either end "
		"(--from-label, --to-label)\n"
		"      --ip ADDR|CIDR     either end (--from-ip, --to-ip)\n"
		"      --port N           either end's port (--from-port, "
		"--to-port)\n"
		"      --protocol P       tcp, udp, sctp, icmp, icmpv6\n"
		"      --verdict V        allowed, denied or audit\n"
		"      --reason R         a drop reason, e.g. policy-denied\n"
		"      --policy NS/NAME   the policy that allowed it (prefix)\n"
		"      --type T           new, drop, end or lost\n"
		"  -o, --output FMT       table (default), compact or json\n"
		"      --summary          top talkers, top denied pairs, "
		"denies "
		"by\n"
		"                         endpoint and reason, over the "
		"records chosen\n"
		"      --color WHEN       auto (default: on a terminal), "
		"always, "
		"never\n"
		"A condition given twice matches either value; different "
		"conditions\n"
		"must all match. Exit status: 0, 1 on error, 2 on bad "
		"usage.\n");
}

static const char *s_of(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k))
		       ?: "";
}

static double n_of(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* "demo/web:80", "10.0.0.1:80", "10.0.0.9[10.0.0.0/8]", "10.0.0.1(node)" */
static void end_str(const cJSON *e, const char *proto, char *buf, size_t len)
{
	const char *pod = s_of(e, "pod"), *cidr = s_of(e, "cidr");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(e, "port");
	char who[300];

	if (*pod)
		snprintf(who, sizeof(who), "%s/%s", s_of(e, "namespace"), pod);
	else if (*cidr)
		snprintf(who, sizeof(who), "%s[%s]", s_of(e, "ip"), cidr);
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "node")))
		snprintf(who, sizeof(who), "%s(node)", s_of(e, "ip"));
	else
		snprintf(who, sizeof(who), "%s", s_of(e, "ip"));
	if (cJSON_IsNumber(port) && strncmp(proto, "icmp", 4))
		snprintf(buf, len, "%s:%d", who, port->valueint);
	else
		snprintf(buf, len, "%s", who);
}

static const char *color_of(const struct ctx *c, const char *verdict)
{
	if (!c->color)
		return "";
	if (!strcmp(verdict, "allowed"))
		return "\033[32m";
	if (!strcmp(verdict, "denied"))
		return "\033[31m";
	return "\033[33m";
}

static void why_str(const cJSON *r, char *buf, size_t len)
{
	const char *pol = s_of(r, "policy"), *reason = s_of(r, "reason");

	if (*reason)
		snprintf(buf, len, "%s", reason);
	else if (*pol)
		snprintf(buf, len, "%s %s", pol, s_of(r, "rule"));
	else if (!strcmp(s_of(r, "type"), "new"))
		snprintf(buf, len, "(not policed)");
	else
		buf[0] = '\0';
}

static void show_time(const cJSON *r, char *buf, size_t len)
{
	const char *t = s_of(r, "time");

	/* "2026-11-29T05:12:01.123456789Z" -> "05:12:01.123" */
	snprintf(buf, len, "%.12s", strlen(t) > 11 ? t + 11 : t);
}

static void print_table_header(const struct ctx *c)
{
	if (c->fmt == OUT_TABLE)
		printf("%-12s %-5s %-26s %-26s    %-26s %-6s %-15s %-8s %s\n",
		       "TIME", "TYPE", "SEEN AT", "SOURCE", "DESTINATION",
		       "PROTO", "FLAGS", "VERDICT", "POLICY OR REASON");
}

static void print_record(struct ctx *c, const char *line, const cJSON *r)
{
	char t[16], src[320], dst[320], at[320], why[400], cnt[96] = "";
	const char *proto = s_of(r, "protocol"), *v = s_of(r, "verdict");
	const char *reset = c->color ? "\033[0m" : "";

	if (c->fmt == OUT_JSON) {
		puts(line);
		return;
	}
	if (!strcmp(s_of(r, "type"), "lost")) {
		printf("%s!! %.0f flow records lost (%s)%s\n",
		       c->color ? "\033[1;31m" : "", n_of(r, "count"),
		       s_of(r, "source"), reset);
		return;
	}
	show_time(r, t, sizeof(t));
	end_str(cJSON_GetObjectItemCaseSensitive(r, "src"), proto, src,
		sizeof(src));
	end_str(cJSON_GetObjectItemCaseSensitive(r, "dst"), proto, dst,
		sizeof(dst));
	snprintf(at, sizeof(at), "%s %s", s_of(r, "observed_at"),
		 s_of(r, "direction"));
	why_str(r, why, sizeof(why));
	if (n_of(r, "count") > 1)
		snprintf(cnt, sizeof(cnt), " (x%.0f)", n_of(r, "count"));
	if (!strcmp(s_of(r, "type"), "end")) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "packets");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "bytes");

		snprintf(cnt, sizeof(cnt), " [%.0f/%.0f pkts %.0f/%.0f B]",
			 n_of(p, "forward"), n_of(p, "reply"),
			 n_of(b, "forward"), n_of(b, "reply"));
	}
	if (c->fmt == OUT_COMPACT)
		printf("%s %s -> %s %s %s %s%s%s %s%s (at %s)\n", t, src, dst,
		       proto, s_of(r, "tcp_flags"), color_of(c, v), v, reset,
		       why, cnt, at);
	else
		printf("%-12s %-5s %-26s %-26s -> %-26s %-6s %-15s "
		       "%s%-8s%s %s%s\n",
		       t, s_of(r, "type"), at, src, dst, proto,
		       s_of(r, "tcp_flags"), color_of(c, v), v, reset, why,
		       cnt);
}

/* ---- --summary ---- */

struct tally {
	char *key;
	double n;
};

struct summary {
	struct tally *talk, *denied, *why;
	int ntalk, ndenied, nwhy;
	unsigned long long records;
	__u64 first, last;
};

static void tally_add(struct tally **v, int *n, const char *key, double add)
{
	struct tally *t;
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].key, key)) {
			(*v)[i].n += add;
			return;
		}
	t = realloc(*v, (*n + 1) * sizeof(*t));
	if (!t)
		return;
	*v = t;
	t[*n].key = strdup(key);
	t[*n].n = add;
	if (t[*n].key)
		(*n)++;
}

static void summarize(struct summary *s, const cJSON *r)
{
	const char *proto = s_of(r, "protocol");
	char src[320], dst[320], key[700];
	double count = n_of(r, "count") ?: 1;
	__u64 t = pw_ff_record_time(r);

	s->records++;
	if (t && (!s->first || t < s->first))
		s->first = t;
	if (t > s->last)
		s->last = t;
	if (!strcmp(s_of(r, "type"), "lost"))
		return;
	end_str(cJSON_GetObjectItemCaseSensitive(r, "src"), proto, src,
		sizeof(src));
	/* the destination's port matters; the source's is ephemeral */
	end_str(cJSON_GetObjectItemCaseSensitive(r, "dst"), proto, dst,
		sizeof(dst));
	snprintf(key, sizeof(key), "%.*s -> %s %s", (int)strcspn(src, ":"), src,
		 dst, proto);
	if (!strcmp(s_of(r, "type"), "new"))
		tally_add(&s->talk, &s->ntalk, key, 1);
	if (!strcmp(s_of(r, "verdict"), "denied")) {
		tally_add(&s->denied, &s->ndenied, key, count);
		snprintf(key, sizeof(key), "%s %s: %s", s_of(r, "observed_at"),
			 s_of(r, "direction"), s_of(r, "reason"));
		tally_add(&s->why, &s->nwhy, key, count);
	}
}

static int tally_cmp(const void *a, const void *b)
{
	double x = ((const struct tally *)a)->n,
	       y = ((const struct tally *)b)->n;

	return (x < y) - (x > y);
}

static void print_top(const char *title, struct tally *v, int n)
{
	int i;

	printf("%s\n", title);
	if (!n)
		printf("  (none)\n");
	qsort(v, n, sizeof(*v), tally_cmp);
	for (i = 0; i < n && i < 10; i++)
		printf("  %8.0f  %s\n", v[i].n, v[i].key);
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

static void print_summary(struct summary *s)
{
	char a[32] = "-", b[32] = "-";
	time_t t;

	if (s->first) {
		t = s->first / 1000000000ULL;
		strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		t = s->last / 1000000000ULL;
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	}
	printf("%llu records, %s to %s\n\n", s->records, a, b);
	print_top("Top talkers (new flows, source -> destination):", s->talk,
		  s->ntalk);
	printf("\n");
	print_top("Top denied pairs (packets denied):", s->denied, s->ndenied);
	printf("\n");
	print_top("Denies by endpoint, direction and reason:", s->why, s->nwhy);
}

/* ---- one record ---- */

static void handle(struct ctx *c, const char *line, size_t len)
{
	cJSON *r = cJSON_ParseWithLength(line, len);

	if (!r)
		return;
	if (pw_ff_match(c->ff, r)) {
		if (c->summary) {
			summarize(c->sum, r);
		} else if (c->ring) {
			/* --last over files: keep the newest N */
			long at = (c->ring_head + c->ring_n) % c->last;

			if (c->ring_n == c->last) {
				free(c->ring[c->ring_head]);
				c->ring_head = (c->ring_head + 1) % c->last;
			} else {
				c->ring_n++;
			}
			c->ring[at] = strndup(line, len);
		} else {
			print_record(c, line, r);
			c->shown++;
		}
	}
	cJSON_Delete(r);
}

static int read_file(struct ctx *c, const char *path, bool rotated)
{
	gzFile f = gzopen(path, "rb"); /* reads plain files too */
	char *buf;
	size_t cap = 1 << 20;

	if (!f && rotated && errno == ENOENT) {
		/* the agent compressed it since the listing: the same records
		 * are in X.gz; if that is gone too, retention took them */
		char gz[4200];

		snprintf(gz, sizeof(gz), "%s.gz", path);
		f = gzopen(gz, "rb");
		if (!f && errno == ENOENT)
			return 0;
	}
	if (!f) {
		fprintf(stderr, "podwall flows: %s: %s\n", path,
			strerror(errno ?: ENOENT));
		return -ENOENT;
	}
	gzbuffer(f, 1 << 20);
	buf = malloc(cap);
	while (buf && !stop && gzgets(f, buf, cap)) {
		size_t len = strlen(buf);

		while (len == cap - 1 && buf[len - 1] != '\n') {
			char *v = realloc(buf, cap * 2);

			if (!v)
				break;
			buf = v;
			if (!gzgets(f, buf + len, cap + 1))
				break;
			cap *= 2;
			len = strlen(buf);
		}
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len)
			handle(c, buf, len);
	}
	free(buf);
	gzclose(f);
	return 0;
}

static int log_filter(const struct dirent *d)
{
	return (!strncmp(d->d_name, "flows-", 6) &&
		!strstr(d->d_name, ".tmp")) ||
	       !strcmp(d->d_name, PW_FLOW_LOG_FILE);
}

/* Rotated files sort by time; the current file comes last. */
static int log_sort(const struct dirent **a, const struct dirent **b)
{
	bool ca = !strcmp((*a)->d_name, PW_FLOW_LOG_FILE);
	bool cb = !strcmp((*b)->d_name, PW_FLOW_LOG_FILE);

	if (ca != cb)
		return ca - cb;
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int read_dir(struct ctx *c, const char *dir)
{
	struct dirent **names;
	int i, n = scandir(dir, &names, log_filter, log_sort), ret = 0;

	if (n < 0) {
		fprintf(stderr, "podwall flows: %s: %s\n", dir,
			strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		/* a rotated file not yet compressed when listed */
		bool plain =
			!strncmp(name, "flows-", 6) && !strstr(name, ".gz");
		/* X next to X.gz: the compressor is between its rename and its
		 * unlink, and X.gz holds the same records */
		bool dup = plain && i + 1 < n &&
			   !strncmp(names[i + 1]->d_name, name, len) &&
			   !strcmp(names[i + 1]->d_name + len, ".gz");
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (!ret && !stop && !dup)
			ret = read_file(c, path, plain);
		free(names[i]);
	}
	free(names);
	return ret;
}

static int from_agent(struct ctx *c, const char *sock, bool follow)
{
	struct pw_ctl_conn *conn;
	cJSON *req, *resp, *it;
	int err;

	err = pw_ctl_connect(sock, 30000, &conn);
	if (err)
		return err;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "flows");
	cJSON_AddBoolToObject(req, "follow", follow);
	/* filters apply here, so ask for the whole ring; without --follow
	 * the ring is all there is to show */
	if (c->last >= 0 || !follow)
		cJSON_AddNumberToObject(req, "last", 1e7);
	err = pw_ctl_call(conn, req, &resp);
	cJSON_Delete(req);
	if (err || !cJSON_IsTrue(cJSON_GetObjectItem(resp, "ok"))) {
		fprintf(stderr, "podwall flows: agent: %s\n",
			err ? strerror(-err) : s_of(resp, "error"));
		cJSON_Delete(resp);
		pw_ctl_disconnect(conn);
		return -EIO;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(resp, "records"))
	{
		char *s = cJSON_PrintUnformatted(it);

		if (s)
			handle(c, s, strlen(s));
		free(s);
	}
	cJSON_Delete(resp);
	if (c->ring) {
		long i;

		for (i = 0; i < c->ring_n; i++) {
			const char *s = c->ring[(c->ring_head + i) % c->last];
			cJSON *r = cJSON_Parse(s);

			if (r)
				print_record(c, s, r);
			cJSON_Delete(r);
		}
		c->ring_n = 0;
		free(c->ring);
		c->ring = NULL; /* what follows prints as it comes */
	}
	while (follow && !stop) {
		cJSON *rec;
		char *s;

		err = pw_ctl_next(conn, 500, &rec);
		if (err == -ETIMEDOUT || err == -EINTR)
			continue;
		if (err)
			break;
		s = cJSON_PrintUnformatted(rec);
		if (s && cJSON_GetObjectItem(rec, "lost") &&
		    !cJSON_GetObjectItem(rec, "type")) {
			/* this reader was too slow: say so in the output */
			if (c->fmt == OUT_JSON)
				puts(s);
			else
				printf("!! %.0f flow records lost: this reader "
				       "was too slow\n",
				       n_of(rec, "lost"));
		} else if (s) {
			handle(c, s, strlen(s));
		}
		free(s);
		cJSON_Delete(rec);
	}
	pw_ctl_disconnect(conn);
	return err == -EPIPE || !err || stop ? 0 : err;
}

enum {
	O_FILE = 256,
	O_DIR,
	O_SINCE,
	O_UNTIL,
	O_SUMMARY,
	O_COLOR,
	O_FILTER, /* + what * 3 + end */
};

int pw_cli_flows(int argc, char **argv, const char *sock)
{
	static const struct {
		const char *name;
		enum pw_ff_what what;
		bool ends;
	} filters[] = {
		{"namespace", PW_FF_NAMESPACE, true},
		{"pod", PW_FF_POD, true},
		{"label", PW_FF_LABEL, true},
		{"ip", PW_FF_IP, true},
		{"port", PW_FF_PORT, true},
		{"protocol", PW_FF_PROTOCOL, false},
		{"verdict", PW_FF_VERDICT, false},
		{"reason", PW_FF_REASON, false},
		{"policy", PW_FF_POLICY, false},
		{"type", PW_FF_TYPE, false},
	};
	struct option opts[64] = {
		{"follow", no_argument, NULL, 'f'},
		{"last", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{"file", required_argument, NULL, O_FILE},
		{"dir", required_argument, NULL, O_DIR},
		{"since", required_argument, NULL, O_SINCE},
		{"until", required_argument, NULL, O_UNTIL},
		{"summary", no_argument, NULL, O_SUMMARY},
		{"color", required_argument, NULL, O_COLOR},
	};
	static char names[64][32];
	struct ctx c = {.last = -1};
	struct summary sum = {};
	const char *files[64], *dir = NULL, *color = "auto";
	__u64 since = 0, until = 0, now;
	int nopts = 10, nfiles = 0, ch, ret = 0, e;
	bool follow = false;
	char err[256];
	struct timespec ts;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (pw_ff_new(&c.ff))
		return 1;
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		static const char *const pre[] = {"", "from-", "to-"};

		for (e = 0; e < (filters[i].ends ? 3 : 1); e++) {
			snprintf(names[nopts], sizeof(names[0]), "%s%s", pre[e],
				 filters[i].name);
			opts[nopts] = (struct option){
				names[nopts], required_argument, NULL,
				O_FILTER + filters[i].what * 3 + e};
			nopts++;
		}
	}
	opts[nopts] = (struct option){};
	optind = 1;
	while ((ch = getopt_long(argc, argv, "fn:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = true;
			break;
		case 'n':
			c.last = strtol(optarg, NULL, 10);
			if (c.last <= 0) {
				fprintf(stderr, "podwall flows: --last: a "
						"positive number\n");
				ret = 2;
			}
			break;
		case 'o':
			if (!strcmp(optarg, "json"))
				c.fmt = OUT_JSON;
			else if (!strcmp(optarg, "compact"))
				c.fmt = OUT_COMPACT;
			else if (!strcmp(optarg, "table"))
				c.fmt = OUT_TABLE;
			else {
				fprintf(stderr, "podwall flows: -o: table, "
						"compact or json\n");
				ret = 2;
			}
			break;
		case 'h':
			usage(stdout);
			pw_ff_free(c.ff);
			return 0;
		case O_FILE:
			if (nfiles < 64)
				files[nfiles++] = optarg;
			break;
		case O_DIR:
			dir = optarg;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (pw_ff_parse_time(optarg, now,
					     ch == O_SINCE ? &since : &until)) {
				fprintf(stderr,
					"podwall flows: --%s: \"%s\" is not a "
					"time (2026-11-29T05:00:00Z, or 30s, "
					"5m, 2h, 1d ago)\n",
					ch == O_SINCE ? "since" : "until",
					optarg);
				ret = 2;
			}
			break;
		case O_SUMMARY:
			c.summary = true;
			break;
		case O_COLOR:
			color = optarg;
			break;
		default:
			if (ch >= O_FILTER) {
				int k = ch - O_FILTER;

				if (pw_ff_add(c.ff, k / 3, k % 3, optarg, err,
					      sizeof(err))) {
					fprintf(stderr, "podwall flows: %s\n",
						err);
					ret = 2;
				}
				break;
			}
			usage(stderr);
			ret = 2;
		}
	}
	if (!ret && optind != argc) {
		fprintf(stderr, "podwall flows: unexpected \"%s\"\n",
			argv[optind]);
		ret = 2;
	}
	if (!ret && follow && (nfiles || dir)) {
		fprintf(stderr, "podwall flows: --follow reads from the "
				"agent, not from files\n");
		ret = 2;
	}
	if (ret) {
		pw_ff_free(c.ff);
		return ret;
	}
	pw_ff_window(c.ff, since, until);
	c.color = !strcmp(color, "always") ||
		  (!strcmp(color, "auto") && isatty(STDOUT_FILENO) &&
		   c.fmt != OUT_JSON);
	if (c.summary)
		c.sum = &sum;
	if (c.last > 0 && !c.summary)
		c.ring = calloc(c.last, sizeof(*c.ring));
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, follow ? _IOLBF : _IOFBF, 1 << 16);
	if (!c.summary)
		print_table_header(&c);
	if (nfiles || dir) {
		for (e = 0; !ret && e < nfiles; e++)
			ret = read_file(&c, files[e], false) ? 1 : 0;
		if (!ret && dir)
			ret = read_dir(&c, dir) ? 1 : 0;
	} else {
		e = from_agent(&c, sock, follow);
		if (e == -ENOENT || e == -ECONNREFUSED) {
			/* no agent: its log files */
			if (follow) {
				fprintf(stderr,
					"podwall flows: %s: %s (is "
					"podwalld running?)\n",
					sock, strerror(-e));
				ret = 1;
			} else {
				ret = read_dir(&c, PW_FLOW_LOG_DIR_DEFAULT) ? 1
									    : 0;
			}
		} else if (e) {
			ret = 1;
		}
	}
	if (c.ring) {
		long k;

		for (k = 0; k < c.ring_n; k++) {
			char *s = c.ring[(c.ring_head + k) % c.last];
			cJSON *r = cJSON_Parse(s);

			if (r)
				print_record(&c, s, r);
			cJSON_Delete(r);
			free(s);
		}
		free(c.ring);
	}
	if (c.summary)
		print_summary(&sum);
	fflush(stdout);
	pw_ff_free(c.ff);
	return ret;
}
