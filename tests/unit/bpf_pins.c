// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pinned maps: a later load reuses them (flows and policy survive an agent
 * restart) when they are the maps this version makes, and refuses them,
 * naming the difference, when they are not (another version, other sizes).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpf_fixture.h"

static bool pins_body(const char *dir)
{
	struct pw_dp_opts opts = {.pin_dir = dir,
				  .ct_max = 4096,
				  .policy_max = 1024,
				  .ipcache_max = 1024,
				  .ep_max = 64,
				  .frag_max = 1024,
				  .events_bytes = 1 << 16};
	struct pw_endpoint ep = {.ep_id = 5, .pol_id = 5, .rev = 9}, got;
	struct pw_dp *dp;

	ASSERT_OK(pw_dp_load(&opts, &dp), "first load pins");
	ASSERT_OK(pw_dp_endpoint_set(dp, 77, &ep), "write an endpoint");
	pw_dp_close(dp);

	ASSERT_OK(pw_dp_load(&opts, &dp), "second load reuses the pins");
	ASSERT_OK(pw_dp_endpoint_get(dp, 77, &got), "the endpoint survived");
	ASSERT_EQ(got.rev, 9, "same map, same entry");
	pw_dp_close(dp);

	ASSERT_OK(pw_dp_open_pinned(dir, &dp), "adopt without loading");
	ASSERT_OK(pw_dp_endpoint_get(dp, 77, &got), "seen through the pins");
	pw_dp_close(dp);

	opts.ct_max = 8192;
	ASSERT_EQ(pw_dp_load(&opts, &dp), -ESTALE, "other conntrack size");
	opts.ct_max = 4096;
	opts.events_bytes = 1 << 17;
	ASSERT_EQ(pw_dp_load(&opts, &dp), -ESTALE, "other ring size");
	return true;
}

PW_TEST(pins_reused_when_they_match_refused_when_not)
{
	char dir[64];
	bool ok;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/podwall-unit-%d", getpid());
	ok = pins_body(dir);
	/* whatever happened above */
	ASSERT_OK(pw_dp_unpin(dir), "unpin");
	ASSERT_TRUE(access(dir, F_OK) != 0, "pin folder gone");
	return ok;
}

/*
 * Pins from a podwall before the exact-match policy hash: opened as they
 * are, exact entries go to the trie (all the old programs read); loading
 * again adds the hash, sized by policy_max, and keeps the trie's entries.
 */
static bool old_exact_pins_body(const char *dir)
{
	struct pw_dp_opts opts = {.pin_dir = dir,
				  .ct_max = 4096,
				  .policy_max = 1024,
				  .ipcache_max = 1024,
				  .ep_max = 64,
				  .frag_max = 1024,
				  .events_bytes = 1 << 16};
	struct pw_dp_rule r = {.pol_id = 5,
			       .peer_id = PW_ID_ANY,
			       .dir = PW_DIR_EGRESS,
			       .proto = IPPROTO_TCP,
			       .port_lo = 80,
			       .port_hi = 80,
			       .rule_id = 7};
	char path[256];
	struct pw_dp *dp;
	__u64 n;
	__u32 max;

	ASSERT_OK(pw_dp_load(&opts, &dp), "first load pins");
	pw_dp_close(dp);
	snprintf(path, sizeof(path), "%s/pw_policy_exact", dir);
	ASSERT_OK(unlink(path), "unpin the exact map: old pins");

	ASSERT_OK(pw_dp_open_pinned(dir, &dp), "old pins open");
	ASSERT_EQ(pw_dp_map_fd(dp, PW_MAP_POLICY_EXACT), -1, "no exact map");
	ASSERT_OK(pw_dp_policy_add(dp, &r), "exact rule");
	ASSERT_OK(pw_dp_map_fill(dp, PW_MAP_POLICY, &n, &max), "trie");
	ASSERT_EQ(n, 1, "in the trie, where the old programs look");
	pw_dp_close(dp);

	ASSERT_OK(pw_dp_load(&opts, &dp), "load over old pins");
	ASSERT_OK(pw_dp_map_fill(dp, PW_MAP_POLICY, &n, &max), "trie");
	ASSERT_EQ(n, 1, "the trie's entry kept");
	ASSERT_OK(pw_dp_map_fill(dp, PW_MAP_POLICY_EXACT, &n, &max), "hash");
	ASSERT_EQ(max, 1024, "sized as the trie");
	pw_dp_close(dp);
	ASSERT_OK(pw_dp_open_pinned(dir, &dp), "open again");
	ASSERT_TRUE(pw_dp_map_fd(dp, PW_MAP_POLICY_EXACT) >= 0, "hash pinned");
	r.port_lo = r.port_hi = 81;
	ASSERT_OK(pw_dp_policy_add(dp, &r), "exact rule");
	ASSERT_OK(pw_dp_map_fill(dp, PW_MAP_POLICY_EXACT, &n, &max), "hash");
	ASSERT_EQ(n, 1, "now in the hash");
	pw_dp_close(dp);
	return true;
}

PW_TEST(pins_old_without_exact_policy_map)
{
	char dir[64];
	bool ok;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/podwall-unit-x-%d", getpid());
	ok = old_exact_pins_body(dir);
	ASSERT_OK(pw_dp_unpin(dir), "unpin");
	ASSERT_TRUE(access(dir, F_OK) != 0, "pin folder gone");
	return ok;
}
