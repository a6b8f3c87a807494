/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters in the Prometheus text format, written to a file for node
 * exporter's textfile collector (`podwalld --metrics-file`): no HTTP
 * server in the agent, no port to open.
 */
#ifndef PW_METRICS_H
#define PW_METRICS_H

struct pw_agent;

/* Write the file atomically (a temporary, then rename). 0 or -errno. */
int pw_metrics_write(const struct pw_agent *a, const char *path);

#endif /* PW_METRICS_H */
