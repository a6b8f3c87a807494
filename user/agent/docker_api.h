/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small Docker Engine API client (API v1.41): HTTP/1.1 over the daemon's
 * Unix socket, JSON through libcjson, no Docker SDK.
 *
 * The HTTP part is written here rather than taken from libcurl: podwall
 * does not link libcurl, and what Docker needs is small (GET only, one
 * request per connection, Content-Length or chunked bodies, no TLS, no
 * redirects, no auth). The parser is incremental (input may arrive split
 * anywhere), bounds the header block (64 KiB) and the body (64 MiB) so a
 * hostile or broken daemon cannot exhaust memory, and refuses what it does
 * not understand (other transfer codings, bad chunk sizes).
 *
 * Plain requests are blocking with a timeout (PW_DOCKER_TIMEOUT_MS). The
 * events stream is non-blocking: the caller polls its fd and calls
 * pw_docker_events_read() when it is readable.
 */
#ifndef PW_DOCKER_API_H
#define PW_DOCKER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#define PW_DOCKER_SOCK	     "/var/run/docker.sock"
#define PW_DOCKER_BODY_MAX   (64u << 20)
#define PW_DOCKER_HDR_MAX    (64u << 10)
#define PW_DOCKER_TIMEOUT_MS 5000

/* The incremental HTTP/1.1 response parser (exposed for tests). */
struct pw_http {
	int state;
	int status;
	bool chunked;
	long long clen;	   /* Content-Length, -1 when absent */
	size_t chunk_left; /* bytes left in the current chunk */
	char *in;	   /* raw input not yet parsed */
	size_t inlen, incap;
	char *body; /* decoded body so far */
	size_t blen, bcap;
	size_t btotal; /* decoded bytes ever, against Content-Length */
};

void pw_http_init(struct pw_http *h);
void pw_http_free(struct pw_http *h);
/*
 * Feed bytes of the response. Returns 1 when the response is complete,
 * 0 when more is needed, -EPROTO on malformed input, -EFBIG past a bound.
 * The decoded body grows in h->body / h->blen; a streaming reader may
 * consume a prefix with pw_http_consume().
 */
int pw_http_feed(struct pw_http *h, const char *data, size_t n);
/* The connection was closed: 1 when that ends the body (no length given),
 * otherwise -EPIPE (the response was cut short). */
int pw_http_eof(struct pw_http *h);
void pw_http_consume(struct pw_http *h, size_t n);

/*
 * GET @path (e.g. "/v1.41/containers/json") and parse the JSON answer into
 * *out. A status other than 200 is an error naming the status and the
 * API's "message"; -ENOENT for 404.
 */
int pw_docker_get(const char *sock, const char *path, cJSON **out, char *err,
		  size_t errlen);
/* Running containers (an array). */
int pw_docker_list(const char *sock, cJSON **out, char *err, size_t errlen);
/* One container's inspect object; -ENOENT when it is gone. */
int pw_docker_inspect(const char *sock, const char *id, cJSON **out, char *err,
		      size_t errlen);
/* The networks (an array; each has Id, Name, Driver). */
int pw_docker_networks(const char *sock, cJSON **out, char *err, size_t errlen);

/* The events stream: container and network events, one object each. */
struct pw_docker_events;

int pw_docker_events_open(const char *sock, struct pw_docker_events **out,
			  char *err, size_t errlen);
int pw_docker_events_fd(const struct pw_docker_events *ev);
/*
 * Read what is there without blocking; append each complete event to
 * @events (a cJSON array). Returns 0 while the stream is healthy, or a
 * negative errno once it is over (-EPIPE: the daemon closed it; an HTTP
 * error status: -EPROTO with @err saying which); events read before the
 * end are still appended. Close the stream after an error.
 */
int pw_docker_events_read(struct pw_docker_events *ev, cJSON *events, char *err,
			  size_t errlen);
void pw_docker_events_close(struct pw_docker_events *ev);

#endif /* PW_DOCKER_API_H */
