/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stable names for the ABI's codes, as flow logs, metrics and the CLI print
 * them, and the JSON form of a flow event.
 */
#ifndef PW_NAMES_H
#define PW_NAMES_H

#include <stddef.h>
#include "../../kern/podwall_abi.h"

const char *pw_drop_reason_name(unsigned int reason);
const char *pw_verdict_name(unsigned int verdict);
const char *pw_event_type_name(unsigned int type);
const char *pw_dir_name(unsigned int dir);
/* "tcp", "udp", "sctp", "icmp", "icmpv6", else the number in buf */
const char *pw_proto_name(unsigned int proto, char *buf, size_t len);
/* "tcp" etc. or a number; 0 for "any". Returns 0..255 or -EINVAL. */
int pw_proto_parse(const char *s);
/* One line of JSON, no newline; caller frees. NULL on allocation failure. */
char *pw_event_json(const struct pw_flow_event *ev);

#endif /* PW_NAMES_H */
