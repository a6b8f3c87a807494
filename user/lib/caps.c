// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "caps.h"

const char *pw_cap_name(int cap)
{
	switch (cap) {
	case CAP_NET_ADMIN:
		return "CAP_NET_ADMIN";
	case CAP_SYS_ADMIN:
		return "CAP_SYS_ADMIN";
	case CAP_PERFMON:
		return "CAP_PERFMON";
	case CAP_BPF:
		return "CAP_BPF";
	case CAP_CHOWN:
		return "CAP_CHOWN";
	}
	return "a capability";
}

static int get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

int pw_caps_check(const int *caps, int n, char *missing, size_t len)
{
	struct __user_cap_data_struct d[2] = {};
	size_t at = 0;
	int i, err = get(d);

	if (err)
		return err;
	missing[0] = '\0';
	for (i = 0; i < n; i++) {
		if (d[caps[i] / 32].effective & (1U << (caps[i] % 32)))
			continue;
		if (at < len)
			at += snprintf(missing + at, len - at, "%s%s",
				       at ? ", " : "", pw_cap_name(caps[i]));
		err = -EPERM;
	}
	return err;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 40;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last;
}

int pw_caps_keep(const int *caps, int n)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	int c, i, last = last_cap();

	for (c = 0; c <= last; c++) {
		for (i = 0; i < n; i++)
			if (caps[i] == c)
				break;
		if (i < n)
			continue;
		/* the bounding set first: nothing may come back later.
		 * Without CAP_SETPCAP whoever started us (systemd's
		 * CapabilityBoundingSet=) has set it already. */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL &&
		    errno != EPERM)
			return -errno;
	}
	for (i = 0; i < n; i++) {
		d[caps[i] / 32].effective |= 1U << (caps[i] % 32);
		d[caps[i] / 32].permitted |= 1U << (caps[i] % 32);
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	/* inheritable and ambient stay empty: helpers we start get none */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}
