// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "caps.h"
#include "flowlog.h"
#include "log.h"

#define AGG_SLOTS      8192
#define AGG_PROBE      16
#define ROTATED_PREFIX "flows-"

struct agg_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 dport;
	__u16 reason;
	__u8 proto;
	__u8 dir;
	__u8 pad[2];
	__u32 ep_id;
};

struct agg {
	struct agg_key key;
	bool used;
	__u64 until_ns; /* event clock: the interval ends */
	__u32 folded;
	struct pw_flow_event last;
};

struct pw_flowlog {
	struct pw_flowlog_opts o;
	pw_flowlog_sink live;
	void *arg;
	struct pw_flowmeta *meta;
	__s64 wall_off; /* realtime - monotonic, ns */
	char **ring;
	int ring_head, ring_n;
	FILE *f;
	char *path;
	size_t size;
	struct agg *agg;
	struct pw_flowlog_stats st;
	/* the compressor: rotated files wait in a queue */
	pthread_t thr;
	bool thr_up, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char **queue;
	int nqueue;
};

static __s64 clock_off(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((__s64)r.tv_sec - m.tv_sec) * 1000000000LL +
	       ((__s64)r.tv_nsec - m.tv_nsec);
}

static __u64 mono_ns(void)
{
	struct timespec m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	return m.tv_sec * 1000000000ULL + m.tv_nsec;
}

static int gzip_file(const char *path)
{
	char gz[4200], tmp[4300], buf[65536];
	FILE *in = fopen(path, "re");
	gzFile out;
	size_t n;
	int err = 0;

	if (!in)
		return -errno;
	snprintf(gz, sizeof(gz), "%s.gz", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", gz);
	/* level 1: about 2.5 times as fast as 6 on flow records, and they
	 * shrink about as much (tests/bench/bench_flowlog.c) */
	out = gzopen(tmp, "wb1");
	if (!out) {
		fclose(in);
		return -EIO;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (gzwrite(out, buf, n) != (int)n) {
			err = -EIO;
			break;
		}
	fclose(in);
	if (gzclose(out) != Z_OK && !err)
		err = -EIO;
	if (!err && rename(tmp, gz))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		unlink(path);
	return err;
}

static int rotated_filter(const struct dirent *d)
{
	return !strncmp(d->d_name, ROTATED_PREFIX, strlen(ROTATED_PREFIX)) &&
	       !strstr(d->d_name, ".tmp");
}

/* Rotated files are named by time, so the oldest sort first. */
static void retain(const char *dir, int keep)
{
	struct dirent **names;
	int i, n = scandir(dir, &names, rotated_filter, alphasort);

	for (i = 0; i < n; i++) {
		if (i < n - keep) {
			char p[4200];

			snprintf(p, sizeof(p), "%s/%s", dir, names[i]->d_name);
			unlink(p);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void *compressor(void *arg)
{
	struct pw_flowlog *fl = arg;
	struct sched_param sp = {};

	/* capabilities are per thread, and this one started before the
	 * agent dropped its own: it needs none */
	pw_caps_keep(NULL, 0);
	/* on a 2-core node it must not take the CPU the event consumer needs:
	 * it runs only when nothing else would */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);

	pthread_mutex_lock(&fl->mu);
	for (;;) {
		char *path;

		while (!fl->nqueue && !fl->stop)
			pthread_cond_wait(&fl->cv, &fl->mu);
		if (!fl->nqueue)
			break;
		path = fl->queue[0];
		memmove(fl->queue, fl->queue + 1,
			--fl->nqueue * sizeof(*fl->queue));
		pthread_mutex_unlock(&fl->mu);
		if (gzip_file(path))
			pr_warn("flow log: compress %s failed; kept as it is\n",
				path);
		retain(fl->o.dir, fl->o.keep);
		free(path);
		pthread_mutex_lock(&fl->mu);
	}
	pthread_mutex_unlock(&fl->mu);
	return NULL;
}

static int open_log(struct pw_flowlog *fl)
{
	struct stat st;

	fl->f = fopen(fl->path, "ae");
	if (!fl->f)
		return -errno;
	setvbuf(fl->f, NULL, _IOFBF, 1 << 20);
	fl->size = fstat(fileno(fl->f), &st) ? 0 : st.st_size;
	return 0;
}

static void rotate(struct pw_flowlog *fl)
{
	char name[64], *to;
	struct timespec ts;
	struct tm tm;

	fclose(fl->f);
	fl->f = NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(name, sizeof(name), ROTATED_PREFIX "%Y%m%dT%H%M%S", &tm);
	if (asprintf(&to, "%s/%s.%09ld.jsonl", fl->o.dir, name, ts.tv_nsec) < 0)
		to = NULL;
	if (to && !rename(fl->path, to)) {
		fl->st.rotations++;
		pthread_mutex_lock(&fl->mu);
		char **q = realloc(fl->queue,
				   (fl->nqueue + 1) * sizeof(*fl->queue));
		if (q) {
			fl->queue = q;
			q[fl->nqueue++] = to;
			to = NULL;
			pthread_cond_signal(&fl->cv);
		}
		pthread_mutex_unlock(&fl->mu);
	}
	free(to);
	if (open_log(fl))
		fl->st.write_errors++;
}

static void emit(struct pw_flowlog *fl, const char *line, size_t len)
{
	fl->st.records++;
	if (fl->ring) {
		char *copy = strndup(line, len);

		if (copy) {
			int at = (fl->ring_head + fl->ring_n) % fl->o.ring;

			if (fl->ring_n == fl->o.ring) {
				free(fl->ring[fl->ring_head]);
				fl->ring_head =
					(fl->ring_head + 1) % fl->o.ring;
			} else {
				fl->ring_n++;
			}
			fl->ring[at] = copy;
		}
	}
	if (fl->f) {
		if (fwrite(line, 1, len, fl->f) != len ||
		    fputc('\n', fl->f) == EOF) {
			fl->st.write_errors++;
			clearerr(fl->f);
		} else {
			fl->size += len + 1;
			fl->st.bytes += len + 1;
		}
		if (fl->size >= fl->o.max_bytes)
			rotate(fl);
	}
	if (fl->live)
		fl->live(fl->arg, line, len);
}

static void emit_event(struct pw_flowlog *fl, const struct pw_flow_event *ev,
		       __u32 count)
{
	char buf[PW_FLOWREC_MAX];
	int n = pw_flowrec_format(fl->meta, ev, ev->ts_ns + fl->wall_off, count,
				  buf, sizeof(buf));

	if (n > 0)
		emit(fl, buf, n);
}

static __u32 agg_hash(const struct agg_key *k)
{
	const __u8 *p = (const __u8 *)k;
	__u32 h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void agg_flush(struct pw_flowlog *fl, struct agg *a)
{
	if (a->folded)
		emit_event(fl, &a->last, a->folded);
	a->used = false;
}

/* true: folded into an open interval, nothing to write now */
static bool agg_fold(struct pw_flowlog *fl, const struct pw_flow_event *ev)
{
	struct agg_key k = {.dport = ev->dport,
			    .reason = ev->reason,
			    .proto = ev->proto,
			    .dir = ev->dir,
			    .ep_id = ev->ep_id};
	struct agg *free_slot = NULL;
	__u32 h, i;

	memcpy(k.src, ev->src, 16);
	memcpy(k.dst, ev->dst, 16);
	h = agg_hash(&k);
	for (i = 0; i < AGG_PROBE; i++) {
		struct agg *a = &fl->agg[(h + i) % AGG_SLOTS];

		if (!a->used) {
			if (!free_slot)
				free_slot = a;
			continue;
		}
		if (memcmp(&a->key, &k, sizeof(k)))
			continue;
		if (ev->ts_ns < a->until_ns) {
			a->folded++;
			a->last = *ev;
			fl->st.folded++;
			return true;
		}
		agg_flush(fl, a);
		free_slot = a;
		break;
	}
	/* a full neighbourhood: this one is written, unfolded */
	if (free_slot) {
		free_slot->key = k;
		free_slot->used = true;
		free_slot->folded = 0;
		free_slot->until_ns =
			ev->ts_ns + fl->o.aggregate_ms * 1000000ULL;
	}
	return false;
}

void pw_flowlog_event(struct pw_flowlog *fl, const struct pw_flow_event *ev)
{
	if (fl->agg && ev->type == PW_EV_DROP && agg_fold(fl, ev))
		return;
	emit_event(fl, ev, 1);
}

void pw_flowlog_lost(struct pw_flowlog *fl, __u64 n, const char *source)
{
	char buf[256];
	int len = pw_flowrec_lost(mono_ns() + fl->wall_off, n, source, buf,
				  sizeof(buf));

	fl->st.lost += n;
	if (len > 0)
		emit(fl, buf, len);
}

void pw_flowlog_tick(struct pw_flowlog *fl)
{
	__u64 now = mono_ns();
	int i;

	fl->wall_off = clock_off();
	for (i = 0; fl->agg && i < AGG_SLOTS; i++)
		if (fl->agg[i].used && now >= fl->agg[i].until_ns)
			agg_flush(fl, &fl->agg[i]);
	if (fl->f && fflush(fl->f))
		fl->st.write_errors++;
}

int pw_flowlog_last(const struct pw_flowlog *fl, int n, pw_flowlog_sink fn,
		    void *arg)
{
	int i, start;

	if (n > fl->ring_n)
		n = fl->ring_n;
	start = fl->ring_n - n;
	for (i = start; i < fl->ring_n; i++) {
		const char *s = fl->ring[(fl->ring_head + i) % fl->o.ring];

		fn(arg, s, strlen(s));
	}
	return n;
}

void pw_flowlog_stats(const struct pw_flowlog *fl, struct pw_flowlog_stats *s)
{
	*s = fl->st;
}

void pw_flowlog_set_meta(struct pw_flowlog *fl, struct pw_flowmeta *m)
{
	pw_flowmeta_free(fl->meta);
	fl->meta = m;
}

int pw_flowlog_new(const struct pw_flowlog_opts *o, pw_flowlog_sink live,
		   void *arg, struct pw_flowlog **out)
{
	struct pw_flowlog *fl = calloc(1, sizeof(*fl));
	int err;

	if (!fl)
		return -ENOMEM;
	fl->o = *o;
	fl->live = live;
	fl->arg = arg;
	fl->wall_off = clock_off();
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cv, NULL);
	if (o->ring > 0 && !(fl->ring = calloc(o->ring, sizeof(*fl->ring))))
		goto nomem;
	if (o->aggregate_ms > 0 &&
	    !(fl->agg = calloc(AGG_SLOTS, sizeof(*fl->agg))))
		goto nomem;
	if (o->dir) {
		if (mkdir(o->dir, 0750) && errno != EEXIST) {
			err = -errno;
			pr_warn("flow log %s: %s\n", o->dir, strerror(-err));
			pw_flowlog_free(fl);
			return err;
		}
		if (asprintf(&fl->path, "%s/" PW_FLOW_LOG_FILE, o->dir) < 0) {
			fl->path = NULL;
			goto nomem;
		}
		err = open_log(fl);
		if (err) {
			pr_warn("flow log %s: %s\n", fl->path, strerror(-err));
			pw_flowlog_free(fl);
			return err;
		}
		if (pthread_create(&fl->thr, NULL, compressor, fl))
			goto nomem;
		fl->thr_up = true;
	}
	*out = fl;
	return 0;
nomem:
	pw_flowlog_free(fl);
	return -ENOMEM;
}

void pw_flowlog_free(struct pw_flowlog *fl)
{
	int i;

	if (!fl)
		return;
	/* folded records still owed go out before the files close */
	if (fl->agg)
		for (i = 0; i < AGG_SLOTS; i++)
			if (fl->agg[i].used)
				agg_flush(fl, &fl->agg[i]);
	if (fl->thr_up) {
		pthread_mutex_lock(&fl->mu);
		fl->stop = true;
		pthread_cond_signal(&fl->cv);
		pthread_mutex_unlock(&fl->mu);
		pthread_join(fl->thr, NULL);
	}
	if (fl->f)
		fclose(fl->f);
	for (i = 0; i < fl->ring_n; i++)
		free(fl->ring[(fl->ring_head + i) % fl->o.ring]);
	for (i = 0; i < fl->nqueue; i++)
		free(fl->queue[i]);
	free(fl->queue);
	free(fl->ring);
	free(fl->agg);
	free(fl->path);
	pw_flowmeta_free(fl->meta);
	pthread_mutex_destroy(&fl->mu);
	pthread_cond_destroy(&fl->cv);
	free(fl);
}
