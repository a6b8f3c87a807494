/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Capabilities: check at start that the ones needed are there (with a
 * message that names the missing ones), then keep those only, in every
 * set and in the bounding set, so that the rest of the run cannot use
 * more than the agent needs. Raw capget/capset: two syscalls do not need
 * libcap.
 */
#ifndef PW_CAPS_H
#define PW_CAPS_H

#include <stddef.h>

/* 0, or -EPERM with the names of the missing ones in @missing. */
int pw_caps_check(const int *caps, int n, char *missing, size_t len);
/* Drop every capability but @caps. 0 or -errno. */
int pw_caps_keep(const int *caps, int n);
const char *pw_cap_name(int cap);

#endif /* PW_CAPS_H */
