/* SPDX-License-Identifier: MIT */
#include "util/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int readfile(const char *path, char **out, size_t *len, bool *mapped)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m =
		    mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (m != MAP_FAILED) {
			close(fd);
			*out = m;
			*len = (size_t)st.st_size;
			*mapped = true;
			return 0;
		}
	}
	cap = 4096;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (got == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + got, cap - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	*mapped = false;
	return 0;
fail:
	free(buf);
	close(fd);
	return rc;
}

void readfile_release(char *text, size_t len, bool mapped)
{
	if (mapped)
		munmap(text, len);
	else
		free(text);
}
