// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Loader, attach and map access for the datapath. The only code in user/
 * that makes bpf() calls for the TC programs; the policy compiler does not.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h" /* before the skeleton: it defines pw_config */
#include "podwall.skel.h"
#include "log.h"
#include "portrange.h"
#include "prefilter.h"

/*
 * Our filters' place in the clsact chain: first (priority 1), because a
 * filter before ours that ends the chain would let a packet past policy.
 * Our programs pass packets on (TC_ACT_UNSPEC), so filters of other tools
 * after ours still run; they are never touched.
 */
#define PW_TC_HANDLE 0x9d0c
#define PW_TC_PRIO   1

static const char *const map_names[PW_MAP__MAX] = {
	[PW_MAP_ENDPOINTS] = "pw_endpoints",
	[PW_MAP_IPCACHE] = "pw_ipcache",
	[PW_MAP_POLICY] = "pw_policy",
	[PW_MAP_CT] = "pw_ct",
	[PW_MAP_FRAG] = "pw_frag",
	[PW_MAP_EVENTS] = "pw_events",
	[PW_MAP_EVENTS_LOST] = "pw_events_lost",
	[PW_MAP_COUNTERS] = "pw_counters",
	[PW_MAP_PREFILTER] = "pw_prefilter",
	[PW_MAP_POLICY_EXACT] = "pw_policy_exact",
};

/* [0]: pw_from_pod (pod egress), [1]: pw_to_pod (pod ingress), [2]: the
 * uplink prefilter (XDP), [3]: pw_from_pod_xdp (pod egress, --veth-mode
 * xdp). The kernel keeps 15 characters of a name: these fit. */
#define PROGS	      4
#define PROG_XDP      2
#define PROG_FROM_XDP 3
static const char *const prog_names[PROGS] = {
	"pw_from_pod", "pw_to_pod", "pw_xdp_prefilter", "pw_from_pod_xdp"};

struct pw_dp {
	struct podwall_bpf *skel; /* NULL when adopted from pins */
	int map_fds[PW_MAP__MAX];
	int prog_fds[PROGS];
	enum pw_veth_mode veth_mode;
};

/*
 * The ids of podwall's XDP programs this process loaded, adopted, or found
 * pinned from the run before: once the agent has dropped CAP_SYS_ADMIN it
 * cannot open a program by id to read its name, so this is how it knows
 * its own on a veth (one a restart left there, say).
 */
#define KNOWN_MAX 16
static struct {
	__u32 id;
	int pi;
} known[KNOWN_MAX];
static int nknown;

static void xdp_known_add(int fd, int pi)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int i;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	for (i = 0; i < nknown; i++)
		if (known[i].id == info.id)
			return;
	/* the oldest go first: a long-gone run's program is off by now */
	if (nknown == KNOWN_MAX)
		memmove(known, known + 1, --nknown * sizeof(known[0]));
	known[nknown].id = info.id;
	known[nknown++].pi = pi;
}

static bool xdp_known(__u32 id, int pi)
{
	int i;

	for (i = 0; i < nknown; i++)
		if (known[i].id == id && known[i].pi == pi)
			return true;
	return false;
}

const char *pw_veth_mode_name(enum pw_veth_mode m)
{
	return m == PW_VETH_XDP ? "xdp" : "tc";
}

int pw_veth_mode_parse(const char *s, enum pw_veth_mode *m)
{
	if (!strcmp(s, "tc"))
		*m = PW_VETH_TC;
	else if (!strcmp(s, "xdp"))
		*m = PW_VETH_XDP;
	else
		return -EINVAL;
	return 0;
}

static struct pw_dp *dp_new(void)
{
	struct pw_dp *dp = calloc(1, sizeof(*dp));
	int i;

	if (!dp)
		return NULL;
	for (i = 0; i < PW_MAP__MAX; i++)
		dp->map_fds[i] = -1;
	for (i = 0; i < PROGS; i++)
		dp->prog_fds[i] = -1;
	return dp;
}

void pw_dp_close(struct pw_dp *dp)
{
	int i;

	if (!dp)
		return;
	if (dp->skel) {
		podwall_bpf__destroy(dp->skel);
	} else {
		for (i = 0; i < PW_MAP__MAX; i++)
			if (dp->map_fds[i] >= 0)
				close(dp->map_fds[i]);
		for (i = 0; i < PROGS; i++)
			if (dp->prog_fds[i] >= 0)
				close(dp->prog_fds[i]);
	}
	free(dp);
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static struct bpf_map *skel_map(struct podwall_bpf *skel, enum pw_dp_map m)
{
	return bpf_object__find_map_by_name(skel->obj, map_names[m]);
}

static struct bpf_program *skel_prog(struct podwall_bpf *skel, int i)
{
	if (i == PROG_XDP)
		return skel->progs.pw_xdp_prefilter;
	if (i == PROG_FROM_XDP)
		return skel->progs.pw_from_pod_xdp;
	return i ? skel->progs.pw_to_pod : skel->progs.pw_from_pod;
}

static int set_size(struct bpf_map *map, __u32 n)
{
	if (!n)
		return 0;
	return bpf_map__set_max_entries(map, n);
}

static void set_cfg(struct pw_config *dst, const struct pw_config *src)
{
	if (src->ct_tcp_syn_ns)
		dst->ct_tcp_syn_ns = src->ct_tcp_syn_ns;
	if (src->ct_tcp_est_ns)
		dst->ct_tcp_est_ns = src->ct_tcp_est_ns;
	if (src->ct_tcp_close_ns)
		dst->ct_tcp_close_ns = src->ct_tcp_close_ns;
	if (src->ct_udp_ns)
		dst->ct_udp_ns = src->ct_udp_ns;
	if (src->ct_other_ns)
		dst->ct_other_ns = src->ct_other_ns;
	if (src->frag_ns)
		dst->frag_ns = src->frag_ns;
}

static int pin_progs(struct podwall_bpf *skel, const char *dir)
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < PROGS; i++) {
		int fd;

		err = pin_path(path, sizeof(path), dir, prog_names[i]);
		if (err)
			return err;
		/* the run before's, to know it on the interfaces later */
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			xdp_known_add(fd, i);
			close(fd);
		}
		/* a new program version replaces the old pin */
		if (unlink(path) && errno != ENOENT)
			return -errno;
		err = bpf_program__pin(skel_prog(skel, i), path);
		if (err) {
			pr_warn("pin %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * A map pinned by an earlier run is reused only if it is the map this
 * version would make; libbpf would refuse a mismatch too, but with a bare
 * EINVAL. Returns 0 (no pin, or a match) or -ESTALE, saying what differs.
 */
static int pin_matches(const struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	if (info.type == bpf_map__type(map) &&
	    info.key_size == bpf_map__key_size(map) &&
	    info.value_size == bpf_map__value_size(map) &&
	    info.max_entries == bpf_map__max_entries(map) &&
	    info.map_flags == bpf_map__map_flags(map))
		return 0;
	pr_warn("pinned map %s is not the one this podwall makes (type %u/%u, "
		"key %u/%u, value %u/%u, entries %u/%u, flags %#x/%#x: pinned/"
		"wanted); another version or other map sizes made it. Remove "
		"the pins (podwalld --uninstall, podwall-dp unload) or use "
		"another --pin folder\n",
		path, info.type, bpf_map__type(map), info.key_size,
		bpf_map__key_size(map), info.value_size,
		bpf_map__value_size(map), info.max_entries,
		bpf_map__max_entries(map), info.map_flags,
		bpf_map__map_flags(map));
	return -ESTALE;
}

int pw_dp_load(const struct pw_dp_opts *opts, struct pw_dp **out)
{
	struct podwall_bpf *skel;
	__u32 ep_max = opts->ep_max;
	struct statfs sfs;
	char path[PATH_MAX];
	struct pw_dp *dp;
	int i, err;

	dp = dp_new();
	if (!dp)
		return -ENOMEM;
	skel = podwall_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("open BPF object: %s\n", strerror(-err));
		goto fail;
	}
	dp->skel = skel;
	dp->veth_mode = opts->veth_mode;

	err = set_size(skel->maps.pw_ct, opts->ct_max);
	err = err ?: set_size(skel->maps.pw_policy, opts->policy_max);
	err = err ?: set_size(skel->maps.pw_policy_exact, opts->policy_max);
	err = err ?: set_size(skel->maps.pw_ipcache, opts->ipcache_max);
	err = err ?: set_size(skel->maps.pw_endpoints, ep_max);
	err = err ?: set_size(skel->maps.pw_frag, opts->frag_max);
	err = err ?: set_size(skel->maps.pw_events, opts->events_bytes);
	if (!ep_max)
		ep_max = bpf_map__max_entries(skel->maps.pw_endpoints);
	err = err ?: set_size(skel->maps.pw_counters, ep_max * PW_CNT_SLOTS);
	if (err) {
		pr_warn("set map sizes: %s\n", strerror(-err));
		goto fail;
	}
	set_cfg((struct pw_config *)&skel->rodata->pw_cfg, &opts->cfg);

	if (opts->pin_dir) {
		if (mkdir(opts->pin_dir, 0700) && errno != EEXIST) {
			err = -errno;
			pr_warn("create pin folder %s: %s\n", opts->pin_dir,
				strerror(-err));
			goto fail;
		}
		/* libbpf says so only among five lines that end in EINVAL */
		if (statfs(opts->pin_dir, &sfs))
			sfs.f_type = 0;
		if (sfs.f_type != BPF_FS_MAGIC) {
			err = -ENOTSUP;
			pr_warn("pin folder %s is not on a bpf filesystem: "
				"mount one there (mount -t bpf bpf DIR) or use "
				"a folder under /sys/fs/bpf\n",
				opts->pin_dir);
			goto fail;
		}
		for (i = 0; i < PW_MAP__MAX; i++) {
			err = pin_path(path, sizeof(path), opts->pin_dir,
				       map_names[i]);
			err = err ?: pin_matches(skel_map(skel, i), path);
			err = err
				      ?: bpf_map__set_pin_path(
						 skel_map(skel, i), path);
			if (err)
				goto fail;
		}
	}

	err = podwall_bpf__load(skel);
	if (err) {
		/* libbpf refuses a pinned map whose type, key, value or size
		 * no longer match: a stale pin from another version */
		pr_warn("load BPF object%s%s: %s\n",
			opts->pin_dir ? " with pins in " : "",
			opts->pin_dir ? opts->pin_dir : "", strerror(-err));
		goto fail;
	}
	if (opts->pin_dir) {
		err = pin_progs(skel, opts->pin_dir);
		if (err)
			goto fail;
	}
	for (i = 0; i < PW_MAP__MAX; i++)
		dp->map_fds[i] = bpf_map__fd(skel_map(skel, i));
	for (i = 0; i < PROGS; i++) {
		dp->prog_fds[i] = bpf_program__fd(skel_prog(skel, i));
		xdp_known_add(dp->prog_fds[i], i);
	}
	*out = dp;
	return 0;
fail:
	pw_dp_close(dp);
	return err;
}

int pw_dp_open_pinned(const char *pin_dir, struct pw_dp **out)
{
	char path[PATH_MAX];
	struct pw_dp *dp;
	int i, fd, err;

	dp = dp_new();
	if (!dp)
		return -ENOMEM;
	for (i = 0; i < PW_MAP__MAX + PROGS; i++) {
		const char *name = i < PW_MAP__MAX
					   ? map_names[i]
					   : prog_names[i - PW_MAP__MAX];

		err = pin_path(path, sizeof(path), pin_dir, name);
		if (err)
			goto fail;
		fd = bpf_obj_get(path);
		/* Pins of a podwall from before the prefilter, the exact
		 * policy hash or the XDP veth mode: all else works (exact
		 * entries go to the trie, which the old programs read), and
		 * the next load (podwalld's start) adds what is missing. */
		if (fd < 0 && errno == ENOENT &&
		    (i == PW_MAP_PREFILTER || i == PW_MAP_POLICY_EXACT ||
		     i == PW_MAP__MAX + PROG_XDP ||
		     i == PW_MAP__MAX + PROG_FROM_XDP)) {
			pr_debug("no pinned %s: pinned by an older podwall\n",
				 path);
			continue;
		}
		if (fd < 0) {
			err = -errno;
			pr_warn("open pinned %s: %s%s\n", path, strerror(-err),
				err == -ENOENT ? " (is the datapath loaded?)"
					       : "");
			goto fail;
		}
		if (i < PW_MAP__MAX) {
			dp->map_fds[i] = fd;
		} else {
			dp->prog_fds[i - PW_MAP__MAX] = fd;
			xdp_known_add(fd, i - PW_MAP__MAX);
		}
	}
	*out = dp;
	return 0;
fail:
	pw_dp_close(dp);
	return err;
}

int pw_dp_unpin(const char *pin_dir)
{
	char path[PATH_MAX];
	int i, err = 0;

	for (i = 0; i < PW_MAP__MAX + PROGS; i++) {
		const char *name = i < PW_MAP__MAX
					   ? map_names[i]
					   : prog_names[i - PW_MAP__MAX];

		if (pin_path(path, sizeof(path), pin_dir, name))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	if (rmdir(pin_dir) && errno != ENOENT && !err)
		err = -errno;
	if (err)
		pr_warn("remove pins in %s: %s\n", pin_dir, strerror(-err));
	return err;
}

int pw_dp_map_fd(const struct pw_dp *dp, enum pw_dp_map map)
{
	if (map < 0 || map >= PW_MAP__MAX)
		return -EINVAL;
	return dp->map_fds[map];
}

int pw_dp_prog_fd(const struct pw_dp *dp, int dir)
{
	if (dir == PW_DIR_EGRESS)
		return dp->prog_fds[0];
	if (dir == PW_DIR_INGRESS)
		return dp->prog_fds[1];
	return -EINVAL;
}

int pw_dp_prefilter_fd(const struct pw_dp *dp)
{
	return dp->prog_fds[PROG_XDP];
}

int pw_dp_from_pod_xdp_fd(const struct pw_dp *dp)
{
	return dp->prog_fds[PROG_FROM_XDP];
}

void pw_dp_set_veth_mode(struct pw_dp *dp, enum pw_veth_mode m)
{
	dp->veth_mode = m;
}

enum pw_veth_mode pw_dp_veth_mode(const struct pw_dp *dp)
{
	return dp->veth_mode;
}

static int xdp_attach(const struct pw_dp *dp, int pi, int ifindex,
		      enum pw_xdp_mode mode, enum pw_xdp_mode *got);
static int xdp_detach(int pi, int ifindex);
static int xdp_current(int ifindex, int pi, int *mode, bool *ours, int *fd);
/* what bpf_xdp_query() would say of a link */
struct xdp_q {
	__u8 attach_mode;
	__u32 prog_id;
};

static int xdp_query(int ifindex, struct xdp_q *q);

static const enum bpf_tc_attach_point tc_points[2] = {BPF_TC_INGRESS,
						      BPF_TC_EGRESS};

/* Takes off program @i (0: pw_from_pod, 1: pw_to_pod) if it is there. */
static int tc_detach(int ifindex, int i)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = tc_points[i]);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PW_TC_HANDLE,
			    .priority = PW_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	if (err && err != -ENOENT && err != -EINVAL) {
		pr_warn("detach %s from ifindex %d: %s\n", prog_names[i],
			ifindex, strerror(-err));
		return err;
	}
	return 0;
}

static int tc_prog_id(int ifindex, int i, __u32 *id);

/* Puts program @i (0: pw_from_pod, 1: pw_to_pod) on its TC hook. */
static int tc_attach(const struct pw_dp *dp, int ifindex, int i)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = tc_points[i]);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PW_TC_HANDLE,
			    .priority = PW_TC_PRIO, .prog_fd = dp->prog_fds[i],
			    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_attach(&hook, &opts);

	if (err)
		pr_warn("attach %s to ifindex %d: %s%s\n", prog_names[i],
			ifindex, strerror(-err),
			err == -EINVAL ? " (is priority 1 taken by another "
					 "tool's filter?)"
				       : "");
	return err;
}

/*
 * TC mode: both TC programs, then our XDP program off if it is there. XDP
 * mode: pw_to_pod on TC egress, pw_from_pod_xdp, and only once that is in
 * place pw_from_pod off TC ingress: a packet in between is judged twice,
 * to the same verdict, rather than not at all. TC ingress is not put on
 * only to come off again (each removal is a netlink event the agent
 * hears). Should the XDP attach fail, TC ingress judges (put there if it
 * was not).
 */
int pw_dp_attach(const struct pw_dp *dp, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	bool xdp = dp->veth_mode == PW_VETH_XDP;
	__u32 in_id;
	int i, err;

	/* The clsact qdisc may be there already, ours or another tool's. */
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("create clsact on ifindex %d: %s\n", ifindex,
			strerror(-err));
		return err;
	}
	for (i = xdp ? 1 : 0; i < 2; i++) {
		err = tc_attach(dp, ifindex, i);
		if (err)
			return err;
	}
	if (!xdp)
		return xdp_detach(PROG_FROM_XDP, ifindex);
	err = dp->prog_fds[PROG_FROM_XDP] < 0 ? -ENOENT : 0;
	if (err)
		pr_warn("the pinned datapath has no pw_from_pod_xdp: load it "
			"again\n");
	err = err ?: xdp_attach(dp, PROG_FROM_XDP, ifindex, PW_XDP_AUTO, NULL);
	if (err) {
		pr_warn("ifindex %d: pw_from_pod on TC ingress instead\n",
			ifindex);
		tc_attach(dp, ifindex, 0);
		return err;
	}
	err = tc_prog_id(ifindex, 0, &in_id);
	if (err || !in_id)
		return err;
	return tc_detach(ifindex, 0);
}

/* The id of our TC program @i on @ifindex, 0 if none. */
static int tc_prog_id(int ifindex, int i, __u32 *id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = tc_points[i]);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PW_TC_HANDLE,
			    .priority = PW_TC_PRIO);
	int err = bpf_tc_query(&hook, &opts);

	*id = 0;
	if (err)
		return err == -ENOENT || err == -EINVAL ? 0 : err;
	*id = opts.prog_id;
	return 0;
}

static int prog_id(int fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*id = 0;
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

int pw_dp_attached_mode(int ifindex)
{
	int cur, err;
	bool ours;
	__u32 id;

	err = xdp_current(ifindex, PROG_FROM_XDP, &cur, &ours, NULL);
	if (!err && cur && ours)
		return PW_VETH_XDP;
	err = tc_prog_id(ifindex, 0, &id);
	if (err)
		return err;
	return id ? PW_VETH_TC : -ENOENT;
}

int pw_dp_attached(const struct pw_dp *dp, int ifindex)
{
	struct xdp_q q;
	__u32 id, want;
	int err;

	err = tc_prog_id(ifindex, 1, &id);
	err = err ?: prog_id(dp->prog_fds[1], &want);
	if (err || id != want)
		return err;
	if (dp->veth_mode != PW_VETH_XDP) {
		err = tc_prog_id(ifindex, 0, &id);
		err = err ?: prog_id(dp->prog_fds[0], &want);
		return err ?: id == want;
	}
	err = prog_id(dp->prog_fds[PROG_FROM_XDP], &want);
	if (err || !want)
		return err;
	err = xdp_query(ifindex, &q);
	if (err)
		return err;
	return q.prog_id == want;
}

int pw_dp_detach(int ifindex)
{
	int i, err, ret = 0;

	for (i = 0; i < 2; i++) {
		err = tc_detach(ifindex, i);
		ret = ret ?: err;
	}
	err = xdp_detach(PROG_FROM_XDP, ifindex);
	return ret ?: err;
}

static int map_update(int fd, const void *key, const void *val,
		      const char *what)
{
	int err = bpf_map_update_elem(fd, key, val, BPF_ANY);

	if (err) {
		err = -errno;
		pr_warn("update %s: %s\n", what,
			err == -E2BIG || err == -ENOSPC ? "map full"
							: strerror(-err));
	}
	return err;
}

static int map_delete(int fd, const void *key)
{
	if (bpf_map_delete_elem(fd, key))
		return -errno;
	return 0;
}

int pw_dp_endpoint_set(const struct pw_dp *dp, __u32 ifindex,
		       const struct pw_endpoint *ep)
{
	return map_update(dp->map_fds[PW_MAP_ENDPOINTS], &ifindex, ep,
			  "endpoint");
}

int pw_dp_endpoint_get(const struct pw_dp *dp, __u32 ifindex,
		       struct pw_endpoint *ep)
{
	if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_ENDPOINTS], &ifindex, ep))
		return -errno;
	return 0;
}

int pw_dp_endpoint_del(const struct pw_dp *dp, __u32 ifindex)
{
	return map_delete(dp->map_fds[PW_MAP_ENDPOINTS], &ifindex);
}

int pw_dp_ipcache_set(const struct pw_dp *dp, const __u8 addr[16], __u32 plen,
		      const struct pw_ipcache_entry *e)
{
	struct pw_ipcache_key key = {.prefixlen = plen};

	if (plen > 128)
		return -EINVAL;
	memcpy(key.addr, addr, 16);
	return map_update(dp->map_fds[PW_MAP_IPCACHE], &key, e, "ipcache");
}

int pw_dp_ipcache_del(const struct pw_dp *dp, const __u8 addr[16], __u32 plen)
{
	struct pw_ipcache_key key = {.prefixlen = plen};

	if (plen > 128)
		return -EINVAL;
	memcpy(key.addr, addr, 16);
	return map_delete(dp->map_fds[PW_MAP_IPCACHE], &key);
}

/* The policy keys that together match rule @r; returns their number. */
static int policy_keys(const struct pw_dp_rule *r, struct pw_policy_key *keys,
		       int max)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];
	struct pw_policy_key base = {
		.pol_id = r->pol_id,
		.peer_id = r->peer_id,
		.dir = r->dir,
		.proto = r->proto,
	};
	int i, n;

	if (r->dir != PW_DIR_INGRESS && r->dir != PW_DIR_EGRESS)
		return -EINVAL;
	if (!r->proto) {
		if (r->port_lo || r->port_hi)
			return -EINVAL;
		keys[0] = base;
		keys[0].prefixlen = PW_POL_PLEN_ANY_PROTO;
		return 1;
	}
	if (!r->port_lo && !r->port_hi) {
		keys[0] = base;
		keys[0].prefixlen = PW_POL_PLEN_PROTO;
		return 1;
	}
	n = pw_port_range_prefixes(r->port_lo, r->port_hi, pp,
				   PW_PORT_PREFIXES_MAX);
	if (n < 0)
		return n;
	if (n > max)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		keys[i] = base;
		keys[i].prefixlen = PW_POL_PLEN_PROTO + pp[i].bits;
		keys[i].dport = htons(pp[i].port);
	}
	return n;
}

int pw_dp_policy_is_exact(const struct pw_dp *dp, const struct pw_policy_key *k)
{
	return k->prefixlen == PW_POL_PLEN_FULL &&
	       dp->map_fds[PW_MAP_POLICY_EXACT] >= 0;
}

/* The map @k belongs in, and the key to give it. */
static int policy_map(const struct pw_dp *dp, const struct pw_policy_key *k,
		      struct pw_policy_xkey *xk, const void **key)
{
	if (!pw_dp_policy_is_exact(dp, k)) {
		*key = k;
		return dp->map_fds[PW_MAP_POLICY];
	}
	memset(xk, 0, sizeof(*xk));
	xk->pol_id = k->pol_id;
	xk->peer_id = k->peer_id;
	xk->dir = k->dir;
	xk->proto = k->proto;
	xk->dport = k->dport;
	*key = xk;
	return dp->map_fds[PW_MAP_POLICY_EXACT];
}

int pw_dp_policy_write(const struct pw_dp *dp, const struct pw_policy_key *k,
		       __u32 rule_id)
{
	struct pw_policy_entry e = {.rule_id = rule_id};
	struct pw_policy_xkey xk;
	const void *key;
	int fd = policy_map(dp, k, &xk, &key);

	if (bpf_map_update_elem(fd, key, &e, BPF_ANY))
		return -errno;
	return 0;
}

int pw_dp_policy_remove(const struct pw_dp *dp, const struct pw_policy_key *k)
{
	struct pw_policy_xkey xk;
	const void *key;
	int fd = policy_map(dp, k, &xk, &key);

	return map_delete(fd, key);
}

int pw_dp_policy_add(const struct pw_dp *dp, const struct pw_dp_rule *r)
{
	struct pw_policy_key keys[PW_PORT_PREFIXES_MAX];
	int i, n, err;

	n = policy_keys(r, keys, PW_PORT_PREFIXES_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		err = pw_dp_policy_write(dp, &keys[i], r->rule_id);
		if (err) {
			pr_warn("update %s: %s\n",
				pw_dp_policy_is_exact(dp, &keys[i])
					? "exact policy"
					: "policy",
				err == -E2BIG || err == -ENOSPC
					? "map full"
					: strerror(-err));
			return err;
		}
	}
	return 0;
}

int pw_dp_policy_del(const struct pw_dp *dp, const struct pw_dp_rule *r)
{
	struct pw_policy_key keys[PW_PORT_PREFIXES_MAX];
	int i, n, err, ret = 0;

	n = policy_keys(r, keys, PW_PORT_PREFIXES_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		err = pw_dp_policy_remove(dp, &keys[i]);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

/* The keys of set @pol_id first, the deletes after: deleting while walking
 * restarts an LPM trie's walk and can skip keys of a hash's. The set is a
 * __u32 at @pol_off in both maps' keys. */
static int policy_flush_map(int fd, size_t key_size, size_t pol_off,
			    __u32 pol_id)
{
	char k[2][sizeof(struct pw_policy_key)], *keys = NULL, *v;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	int cur = 0, err = 0;
	__u32 id;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, k[cur])) {
		memcpy(&id, k[cur] + pol_off, sizeof(id));
		if (id == pol_id) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(keys, cap * key_size);
				if (!v) {
					free(keys);
					return -ENOMEM;
				}
				keys = v;
			}
			memcpy(keys + n++ * key_size, k[cur], key_size);
		}
		prev = k[cur];
		cur ^= 1;
	}
	for (i = 0; i < n && !err; i++)
		err = map_delete(fd, keys + i * key_size);
	free(keys);
	return err;
}

int pw_dp_policy_flush(const struct pw_dp *dp, __u32 pol_id)
{
	return policy_flush_map(dp->map_fds[PW_MAP_POLICY_EXACT],
				sizeof(struct pw_policy_xkey),
				offsetof(struct pw_policy_xkey, pol_id), pol_id)
		       ?: policy_flush_map(
				  dp->map_fds[PW_MAP_POLICY],
				  sizeof(struct pw_policy_key),
				  offsetof(struct pw_policy_key, pol_id),
				  pol_id);
}

/* At most this many per sweep; the next sweep takes the rest. */
#define SWEEP_MAX 65536

int pw_dp_ct_sweep(const struct pw_dp *dp, __u64 now_ns, pw_ct_fn ended,
		   void *arg)
{
	int fd = dp->map_fds[PW_MAP_CT], i, nk = 0, n = 0;
	struct pw_ct_key *keys, *prev = NULL, cur, next;
	struct pw_ct_entry e;

	/* keys first, deletes after: a hash map's iteration restarts when
	 * the key it stands on goes away */
	keys = malloc(SWEEP_MAX * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (nk < SWEEP_MAX &&
	       !bpf_map_get_next_key(fd, prev ? &cur : NULL, &next)) {
		cur = next;
		prev = &cur;
		if (!bpf_map_lookup_elem(fd, &next, &e) &&
		    e.expires_ns <= now_ns)
			keys[nk++] = next;
	}
	for (i = 0; i < nk; i++) {
		/* a packet may have refreshed it since */
		if (bpf_map_lookup_elem(fd, &keys[i], &e) ||
		    e.expires_ns > now_ns || bpf_map_delete_elem(fd, &keys[i]))
			continue;
		n++;
		if (ended)
			ended(&keys[i], &e, arg);
	}
	free(keys);
	return n;
}

/* The prefilter's map, or -ENOENT for pins from before it. */
static int prefilter_fd(const struct pw_dp *dp)
{
	if (dp->map_fds[PW_MAP_PREFILTER] >= 0)
		return dp->map_fds[PW_MAP_PREFILTER];
	pr_warn("the pinned datapath has no prefilter: an older podwall "
		"pinned it. Load it again (start podwalld, or podwall-dp "
		"load) to add it; pinned maps and flows stay\n");
	return -ENOENT;
}

static int prefilter_key(const __u8 addr[16], __u32 plen,
			 struct pw_prefilter_key *key)
{
	char a[INET6_ADDRSTRLEN];

	if (plen > 128)
		return -EINVAL;
	if (pw_prefilter_holds_ip4(addr, plen)) {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		pr_warn("prefilter: %s/%u holds ::ffff:0:0/96, where podwall "
			"keeps IPv4 addresses: it would deny every IPv4 source "
			"too. List IPv6 prefixes that leave it out (e.g. "
			"2000::/3), and 0.0.0.0/0 for IPv4\n",
			a, plen);
		return -EINVAL;
	}
	memset(key, 0, sizeof(*key));
	key->prefixlen = plen;
	memcpy(key->addr, addr, 16);
	return 0;
}

int pw_dp_prefilter_set(const struct pw_dp *dp, const __u8 addr[16], __u32 plen,
			__u32 rule_id)
{
	struct pw_prefilter_entry e = {.rule_id = rule_id};
	struct pw_prefilter_key key;
	int fd = prefilter_fd(dp), err;

	if (fd < 0)
		return fd;
	err = prefilter_key(addr, plen, &key);
	return err ?: map_update(fd, &key, &e, "prefilter");
}

int pw_dp_prefilter_del(const struct pw_dp *dp, const __u8 addr[16], __u32 plen)
{
	struct pw_prefilter_key key = {.prefixlen = plen};
	int fd = prefilter_fd(dp);

	if (fd < 0)
		return fd;
	if (plen > 128)
		return -EINVAL;
	memcpy(key.addr, addr, 16);
	return map_delete(fd, &key);
}

int pw_dp_prefilter_list(const struct pw_dp *dp, pw_prefilter_fn fn, void *arg)
{
	struct pw_prefilter_key key, next, *prev = NULL;
	struct pw_prefilter_entry e;
	int fd = prefilter_fd(dp), ret;

	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue; /* deleted meanwhile */
		ret = fn(key.addr, key.prefixlen, e.rule_id, arg);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

static const char *xdp_mode_name(enum pw_xdp_mode m)
{
	return m == PW_XDP_NATIVE ? "native" : "generic";
}

static int xdp_attr(const struct nlattr *a, void *data)
{
	struct xdp_q *q = data;

	if (mnl_attr_get_type(a) == IFLA_XDP_ATTACHED &&
	    mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
		q->attach_mode = mnl_attr_get_u8(a);
	else if (mnl_attr_get_type(a) == IFLA_XDP_PROG_ID &&
		 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		q->prog_id = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int xdp_link_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_XDP)
		mnl_attr_parse_nested(a, xdp_attr, data);
	return MNL_CB_OK;
}

static int xdp_link_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), xdp_link_attr,
			       data);
	return MNL_CB_OK;
}

/*
 * What bpf_xdp_query() says of @ifindex (its attach mode and program id),
 * from one RTM_GETLINK of that link: libbpf 1.1 dumps every link of the
 * namespace for each query, so that attaching to N veths cost N^2 link
 * messages (7.8 s for 1,000 pods). A link that is gone has none.
 */
static int xdp_query(int ifindex, struct xdp_q *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = time(NULL), portid;
	struct mnl_socket *nl;
	struct ifinfomsg *ifm;
	int ret, err = 0;

	memset(q, 0, sizeof(*q));
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		err = -errno;
		goto out;
	}
	if (mnl_cb_run(buf, ret, seq, portid, xdp_link_cb, q) < 0)
		err = errno == ENODEV ? 0 : -errno;
out:
	mnl_socket_close(nl);
	return err;
}

/*
 * The XDP program on @ifindex: *mode is PW_XDP_* (0: none), *ours says
 * whether it is podwall's program @pi, *fd (if not NULL) gets an fd of it
 * for an atomic replace, or -1 where only its id tells it is ours. A driver
 * and a generic program at once is another tool's doing: -EBUSY.
 */
static int xdp_current(int ifindex, int pi, int *mode, bool *ours, int *fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xdp_q q;
	int err, pfd;

	*mode = 0;
	*ours = false;
	err = xdp_query(ifindex, &q);
	if (err)
		return err;
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return 0;
	case XDP_ATTACHED_DRV:
		*mode = PW_XDP_NATIVE;
		break;
	case XDP_ATTACHED_SKB:
		*mode = PW_XDP_GENERIC;
		break;
	default: /* offloaded, or more than one */
		return -EBUSY;
	}
	pfd = bpf_prog_get_fd_by_id(q.prog_id);
	/* that takes CAP_SYS_ADMIN, which the running agent has not; one
	 * of ours it knows by id, another stays unknown (-EPERM) */
	if (pfd < 0 && errno == EPERM && xdp_known(q.prog_id, pi)) {
		*ours = true;
		if (fd)
			*fd = -1;
		return 0;
	}
	if (pfd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len)) {
		err = -errno;
		close(pfd);
		return err;
	}
	/* the kernel keeps BPF_OBJ_NAME_LEN - 1 characters of the name */
	*ours = !strncmp(info.name, prog_names[pi], sizeof(info.name) - 1);
	if (fd)
		*fd = pfd;
	else
		close(pfd);
	return 0;
}

static int xdp_flags(int mode)
{
	return mode == PW_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

/* What the log calls program @pi on an interface. */
static const char *xdp_what(int pi)
{
	return pi == PROG_XDP ? "prefilter" : "pw_from_pod_xdp";
}

/*
 * Attach program @pi (PROG_XDP, PROG_FROM_XDP) to @ifindex, replacing an
 * earlier version of it; another program's XDP slot is never taken.
 */
static int xdp_attach(const struct pw_dp *dp, int pi, int ifindex,
		      enum pw_xdp_mode mode, enum pw_xdp_mode *got)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int cur, old_fd = -1, try, err, prog = dp->prog_fds[pi];
	const char *what = xdp_what(pi);
	char name[IF_NAMESIZE];
	bool ours;

	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "%d", ifindex);
	err = xdp_current(ifindex, pi, &cur, &ours, &old_fd);
	if (err || (cur && !ours)) {
		if (old_fd >= 0)
			close(old_fd);
		err = err ?: -EBUSY;
		pr_warn("%s on %s: %s\n", what, name,
			err == -EBUSY ? "another XDP program is attached "
					"there; podwall does not replace it"
				      : strerror(-err));
		return err;
	}
	/* ours already: same mode unless told otherwise */
	if (mode == PW_XDP_AUTO && cur)
		mode = cur;
	if (cur && cur != (int)mode) {
		/* one mode at a time: a mode change has a gap */
		pr_info("%s on %s: from %s to %s mode\n", what, name,
			xdp_mode_name(cur), xdp_mode_name(mode));
		err = xdp_detach(pi, ifindex);
		if (old_fd >= 0)
			close(old_fd);
		old_fd = -1;
		if (err)
			return err;
		cur = 0;
	}
	/* auto: native first, generic if the driver cannot */
	try = mode == PW_XDP_AUTO ? PW_XDP_NATIVE : mode;
	for (;;) {
		int flags = xdp_flags(try);

		/* replace only the program we saw, or take an empty slot:
		 * never another tool's that came meanwhile (known by id
		 * only, ours is replaced without that check) */
		if (cur && old_fd >= 0) {
			flags |= XDP_FLAGS_REPLACE;
			xo.old_prog_fd = old_fd;
		} else if (cur) {
			xo.old_prog_fd = 0;
		} else {
			flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
			xo.old_prog_fd = 0;
		}
		err = bpf_xdp_attach(ifindex, prog, flags, &xo);
		if (!err || mode != PW_XDP_AUTO || try == PW_XDP_GENERIC)
			break;
		/* a veth refuses native XDP when its peer's MTU is more
		 * than a page holds */
		pr_debug("%s on %s: no native mode (%s)\n", what, name,
			 strerror(-err));
		try = PW_XDP_GENERIC;
	}
	if (old_fd >= 0)
		close(old_fd);
	if (err) {
		pr_warn("%s on %s in %s mode: %s\n", what, name,
			xdp_mode_name(try), strerror(-err));
		return err;
	}
	/* one line per veth would drown the log; the prefilter is one */
	if (pi == PROG_XDP || try == PW_XDP_GENERIC)
		pr_info("%s on %s in %s mode%s\n", what, name,
			xdp_mode_name(try),
			try == PW_XDP_GENERIC && mode == PW_XDP_AUTO
				? " (the driver has no native XDP for it)"
				: "");
	if (got)
		*got = try;
	return 0;
}

int pw_dp_prefilter_attach(const struct pw_dp *dp, int ifindex,
			   enum pw_xdp_mode mode, enum pw_xdp_mode *got)
{
	if (dp->prog_fds[PROG_XDP] < 0) {
		pr_warn("the pinned datapath has no prefilter program: load it "
			"again (start podwalld, or podwall-dp load)\n");
		return -ENOENT;
	}
	return xdp_attach(dp, PROG_XDP, ifindex, mode, got);
}

/* Remove program @pi from @ifindex; another tool's XDP program stays. */
static int xdp_detach(int pi, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int cur, fd = -1, err;
	bool ours;

	err = xdp_current(ifindex, pi, &cur, &ours, &fd);
	/* -EPERM: not one we know, and without CAP_SYS_ADMIN no way to
	 * tell; in TC mode a program of another tool's may well be there */
	if (err == -EBUSY || err == -EPERM || (!err && !ours)) {
		if (fd >= 0)
			close(fd);
		return 0; /* not ours to take off */
	}
	/* a veth that went away has nothing left to take off */
	if (err == -ENODEV)
		return 0;
	if (err)
		return err;
	/* only the program we saw, should another have replaced it since;
	 * known by id only, without that check */
	xo.old_prog_fd = fd >= 0 ? fd : 0;
	err = bpf_xdp_detach(ifindex,
			     xdp_flags(cur) | (fd >= 0 ? XDP_FLAGS_REPLACE : 0),
			     &xo);
	if (fd >= 0)
		close(fd);
	if (err)
		pr_warn("detach the %s from ifindex %d: %s\n", xdp_what(pi),
			ifindex, strerror(-err));
	return err;
}

int pw_dp_prefilter_detach(int ifindex)
{
	return xdp_detach(PROG_XDP, ifindex);
}

int pw_dp_prefilter_attached(int ifindex)
{
	int cur, err;
	bool ours;

	err = xdp_current(ifindex, PROG_XDP, &cur, &ours, NULL);
	if (err == -EBUSY)
		return 0;
	return err ?: (ours ? cur : 0);
}

int pw_dp_map_fill(const struct pw_dp *dp, enum pw_dp_map map, __u64 *entries,
		   __u32 *max)
{
	int fd = pw_dp_map_fd(dp, map);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char keys[2][128];
	int cur = 0;

	*entries = 0;
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno ?: -EBADF;
	*max = info.max_entries;
	if (info.key_size > sizeof(keys[0]))
		return -E2BIG;
	/* hash and LPM maps have no count to read: walk the keys */
	if (info.type == BPF_MAP_TYPE_RINGBUF ||
	    info.type == BPF_MAP_TYPE_ARRAY ||
	    info.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		*entries = info.type == BPF_MAP_TYPE_RINGBUF ? 0 : *max;
		return 0;
	}
	if (bpf_map_get_next_key(fd, NULL, keys[cur]))
		return 0;
	do {
		(*entries)++;
		cur ^= 1;
	} while (!bpf_map_get_next_key(fd, keys[cur ^ 1], keys[cur]));
	return 0;
}

int pw_dp_counters(const struct pw_dp *dp, __u32 ep_id,
		   struct pw_counter out[PW_CNT_SLOTS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct pw_counter *percpu;
	__u32 slot, key;
	int cpu, err = 0;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (slot = 0; slot < PW_CNT_SLOTS; slot++) {
		key = ep_id * PW_CNT_SLOTS + slot;
		if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_COUNTERS], &key,
					percpu)) {
			err = -errno;
			break;
		}
		out[slot].packets = out[slot].bytes = 0;
		for (cpu = 0; cpu < ncpu; cpu++) {
			out[slot].packets += percpu[cpu].packets;
			out[slot].bytes += percpu[cpu].bytes;
		}
	}
	free(percpu);
	return err;
}

int pw_dp_events_lost(const struct pw_dp *dp, __u64 *lost)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, err = 0;
	__u32 zero = 0;
	__u64 *v;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*lost = 0;
	if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_EVENTS_LOST], &zero, v))
		err = -errno;
	for (cpu = 0; !err && cpu < ncpu; cpu++)
		*lost += v[cpu];
	free(v);
	return err;
}

struct pw_events {
	struct ring_buffer *rb;
	pw_event_fn fn;
	void *arg;
};

static int events_cb(void *ctx, void *data, size_t size)
{
	struct pw_events *evs = ctx;

	if (size < sizeof(struct pw_flow_event))
		return 0;
	return evs->fn(data, evs->arg);
}

int pw_events_open(const struct pw_dp *dp, pw_event_fn fn, void *arg,
		   struct pw_events **out)
{
	struct pw_events *evs = calloc(1, sizeof(*evs));
	int err;

	if (!evs)
		return -ENOMEM;
	evs->fn = fn;
	evs->arg = arg;
	evs->rb = ring_buffer__new(dp->map_fds[PW_MAP_EVENTS], events_cb, evs,
				   NULL);
	if (!evs->rb) {
		err = -errno;
		pr_warn("open event ring buffer: %s\n", strerror(-err));
		free(evs);
		return err;
	}
	*out = evs;
	return 0;
}

int pw_events_fd(const struct pw_events *evs)
{
	return ring_buffer__epoll_fd(evs->rb);
}

int pw_events_poll(struct pw_events *evs, int timeout_ms)
{
	return ring_buffer__poll(evs->rb, timeout_ms);
}

void pw_events_close(struct pw_events *evs)
{
	if (!evs)
		return;
	ring_buffer__free(evs->rb);
	free(evs);
}
