/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The podwall CLI's commands that live outside user/cmd/podwall.c. */
#ifndef PW_CLI_H
#define PW_CLI_H

/* podwall flows ...: argv[0] is "flows". Returns the exit status. */
int pw_cli_flows(int argc, char **argv, const char *sock);

#endif /* PW_CLI_H */
