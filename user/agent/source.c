// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the sources share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "source.h"

int pw_source_add_pod(struct pw_objects *objs, struct pw_objects *mine)
{
	struct pw_object *v;
	struct pw_pod *p;
	int i;

	if (mine->n != 1 || mine->v[0].kind != PW_KIND_POD) {
		pw_objects_free(mine);
		return -EINVAL;
	}
	p = mine->v[0].pod;
	for (i = 0; i < objs->n; i++) {
		struct pw_pod *q = objs->v[i].pod;

		if (objs->v[i].kind != PW_KIND_POD || strcmp(q->ns, p->ns) ||
		    strcmp(q->name, p->name))
			continue;
		/* a manifest's Pod: its labels and named ports, our IPs;
		 * and it runs here, whatever the API server said last */
		memcpy(q->ips, p->ips, sizeof(q->ips));
		q->nips = p->nips;
		q->remote = false;
		pw_objects_free(mine);
		return 0;
	}
	v = realloc(objs->v, (objs->n + 1) * sizeof(*v));
	if (!v) {
		pw_objects_free(mine);
		return -ENOMEM;
	}
	objs->v = v;
	v[objs->n++] = mine->v[0];
	free(mine->v);
	mine->v = NULL;
	mine->n = 0;
	return 0;
}
