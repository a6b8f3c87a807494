// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: what the Docker daemon (or anything listening on its
 * socket) answers, through the HTTP parser, fed in pieces whose sizes
 * the input chooses, and then, when the body is a container's inspect
 * object, through the mapping to a Pod. The parser must never hold more
 * than its bounds, and every Pod the mapping makes must load as a
 * manifest: a container the compiler refuses would be a container left
 * unenforced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "docker_api.h"
#include "log.h"
#include "manifest.h"
#include "source_docker.h"

/* docker0's network and a user-defined bridge, as the daemon lists them */
static const char nets_json[] =
	"[{\"Name\":\"bridge\",\"Id\":\"n1\",\"Driver\":\"bridge\"},"
	"{\"Name\":\"shop_default\",\"Id\":\"n2\",\"Driver\":\"bridge\"},"
	"{\"Name\":\"lan\",\"Id\":\"n3\",\"Driver\":\"macvlan\"}]";

static void check_pods(const char *body, size_t len, const cJSON *nets)
{
	cJSON *insp = cJSON_ParseWithLength(body, len), *pods, *pod, *list;
	struct pw_objects objs = {};
	char err[512], *text;

	if (!cJSON_IsObject(insp)) {
		cJSON_Delete(insp);
		return;
	}
	pods = pw_docker_pods(insp, nets, "docker");
	cJSON_Delete(insp);
	/* all of one container's Pods together: names must differ too */
	list = cJSON_CreateObject();
	cJSON_AddStringToObject(list, "apiVersion", "v1");
	cJSON_AddStringToObject(list, "kind", "List");
	cJSON_AddItemReferenceToObject(list, "items", pods);
	text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	if (text && pw_manifest_load_buf(text, strlen(text), "docker", &objs,
					 err, sizeof(err))) {
		fprintf(stderr, "refused: %s\n%s\n", err, text);
		abort();
	}
	if (objs.n != cJSON_GetArraySize(pods))
		abort();
	cJSON_ArrayForEach(pod, pods)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(pod, "metadata"), "name"));
		const cJSON *q;

		for (q = pod->next; q; q = q->next)
			if (!strcmp(name,
				    cJSON_GetStringValue(cJSON_GetObjectItem(
					    cJSON_GetObjectItem(q, "metadata"),
					    "name"))))
				abort();
	}
	pw_objects_free(&objs);
	free(text);
	cJSON_Delete(pods);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cJSON *nets;
	struct pw_http h;
	size_t off = 0;
	int r = 0;

	if (!nets) {
		pw_log_set_level(PW_LOG_WARN);
		nets = cJSON_Parse(nets_json);
	}
	/* the first byte sets the piece size: 1..256 bytes a read */
	if (!size)
		return 0;
	pw_http_init(&h);
	while (r == 0 && off < size - 1) {
		size_t n = 1 + (data[0] + off) % 256;

		if (n > size - 1 - off)
			n = size - 1 - off;
		r = pw_http_feed(&h, (const char *)data + 1 + off, n);
		off += n;
		if (h.blen > PW_DOCKER_BODY_MAX || h.inlen > h.incap)
			abort();
	}
	if (r == 0)
		r = pw_http_eof(&h);
	if (r == 1 && h.status == 200 && h.body)
		check_pods(h.body, h.blen, nets);
	pw_http_free(&h);
	return 0;
}
